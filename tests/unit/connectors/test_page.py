"""Page extraction (pure): main text without furniture, captions to credits, the canonical URL only on the
serving site, the page's own published time, and clear reasons when there is no article on the page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.core.errors import FeedFailure
from connectors.core.page import PageLimits, extract_page, same_site
from tests.support.page_server import STORY, article_page

FETCHED = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
URL = "https://courier.example/2026/12/03/bridge.html"


def _extract(html: str, **kwargs: object) -> object:
    return extract_page(html.encode(), URL, FETCHED, "text/html; charset=utf-8", **kwargs)  # type: ignore[arg-type]


def test_the_story_is_kept_one_paragraph_per_line_and_the_furniture_dropped() -> None:
    page = extract_page(article_page(STORY).encode(), URL, FETCHED, "text/html")
    assert "The Korean Central News Agency (KCNA) reported" in page.text
    assert page.text.splitlines()[-1].endswith("a figure analysts in Seoul called optimistic.")
    for furniture in ("Most popular", "Celebrity chef", "World news section", "Copyright"):
        assert furniture not in page.text


def test_captions_and_photo_credits_go_to_credits_not_to_the_text() -> None:
    figure = (
        "<figure><img src='a.jpg'><figcaption>Kim Jong Un at the bridge site.\n"
        "<span class='credit'>Photo: KCNA via Reuters</span></figcaption></figure>"
    )
    page = extract_page(article_page(figure + STORY).encode(), URL, FETCHED, "text/html")
    assert page.credits == ("KCNA via Reuters", "Kim Jong Un at the bridge site. Photo: KCNA via Reuters")
    assert "bridge site" not in page.text
    assert "via Reuters" not in page.text


def test_a_caption_trafilatura_keeps_as_a_paragraph_still_leaves_the_text() -> None:
    caption = "Kim Jong Un inspects the bridge site in this photo released on Tuesday. (KCNA)"
    page = extract_page(
        article_page(STORY[:200] + f"<p itemprop='caption'>{caption}</p>" + STORY[200:]).encode(), URL, FETCHED
    )
    assert caption not in page.text
    assert page.credits == (caption,)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("<link rel='canonical' href='/2026/12/03/bridge'>", "https://courier.example/2026/12/03/bridge"),
        ("<link rel='Canonical' href='https://www.courier.example/b?utm_source=x'>", "https://www.courier.example/b"),
        ("<meta property='og:url' content='https://m.courier.example/b'>", "https://m.courier.example/b"),
        # another site's article: a page may not claim it (and so suppress it as a duplicate)
        ("<link rel='canonical' href='https://rival.example/their-story'>", None),
        ("<link rel='canonical' href='javascript:alert(1)'>", None),
        ("", None),
    ],
)
def test_the_canonical_url_counts_only_on_the_serving_site(head: str, expected: str | None) -> None:
    page = extract_page(article_page(STORY, head).encode(), URL, FETCHED, "text/html")
    assert page.canonical_url == expected


def test_same_site_means_equal_hosts_or_a_subdomain() -> None:
    assert same_site("edition.cnn.com", "cnn.com")
    assert same_site("cnn.com", "edition.cnn.com")
    assert not same_site("notcnn.com", "cnn.com")
    assert not same_site("", "cnn.com")


def test_the_page_s_published_time_is_read_and_clamped_to_the_fetch_time() -> None:
    head = "<meta property='article:published_time' content='2026-12-03T09:15:00+09:00'>"
    assert extract_page(article_page(STORY, head).encode(), URL, FETCHED).published == datetime(
        2026, 12, 3, 0, 15, tzinfo=UTC
    )
    future = "<meta property='article:published_time' content='2026-12-03T23:00:00+00:00'>"
    assert extract_page(article_page(STORY, future).encode(), URL, FETCHED).published == FETCHED


def test_a_legacy_encoding_declared_only_in_meta_is_honoured() -> None:
    text = "Агентство ЦТАК сообщило о строительстве моста."
    body = article_page(f"<p>{text}</p>" + STORY, "<meta charset='windows-1251'>").encode("cp1251")
    page = extract_page(body, URL, FETCHED, "text/html")
    assert text in page.text
    assert page.encoding == "cp1251"


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"%PDF-1.7", "application/pdf", "not_html"),
        (b"<html><head><title>App</title></head><body><script>start()</script></body></html>", None, "no_main_text"),
        (b"", "text/html", "no_main_text"),
    ],
)
def test_a_page_without_an_article_is_a_failure_with_a_reason(
    body: bytes, content_type: str | None, reason: str
) -> None:
    with pytest.raises(FeedFailure) as info:
        extract_page(body, URL, FETCHED, content_type)
    assert info.value.reason == reason


def test_a_page_with_too_many_elements_is_not_extracted() -> None:
    trap = article_page("<span>x</span>" * 500 + STORY)
    with pytest.raises(FeedFailure, match="more than 400 elements"):
        extract_page(trap.encode(), URL, FETCHED, limits=PageLimits(max_tree_elements=400))

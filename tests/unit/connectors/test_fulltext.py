"""When a page is fetched (``fulltext``), and what its text changes in the article."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.core.fulltext import AUTO_MIN_FEED_CHARS, wants_page, with_page
from connectors.core.page import PageText
from connectors.core.urls import article_id_for_url
from streams.core.models import Article, Source

FETCHED = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _article(summary: str = "Kim sent Putin a message.", content: str = "", **changes: object) -> Article:
    url = "https://courier.example/a"
    fields: dict[str, object] = {
        "id": article_id_for_url(url), "url": url, "title": "Kim thanks Putin", "summary": summary,
        "content": content, "fetched": FETCHED, "credits": ("Photo: Yonhap",),
        "source": Source(feed_url="https://courier.example/rss", name="Courier", domain="courier.example"),
    }  # fmt: skip
    return Article.model_validate(fields | changes)


@pytest.mark.parametrize(
    ("mode", "feed_chars", "fetch"),
    [
        ("never", 10, False),
        ("always", 10_000, True),
        ("auto", AUTO_MIN_FEED_CHARS - 1, True),
        ("auto", AUTO_MIN_FEED_CHARS, False),
    ],
)
def test_wants_page_follows_the_feed_setting_and_the_auto_threshold(mode: str, feed_chars: int, fetch: bool) -> None:
    half = feed_chars // 2
    article = _article(summary="s" * half, content="c" * (feed_chars - half))  # summary and content both count
    assert wants_page(article, mode) is fetch  # type: ignore[arg-type]


def test_the_page_text_becomes_the_content_and_the_canonical_url_the_id() -> None:
    page = PageText(
        text="Kim sent Putin a message.\nIt was released by the Korean Central News Agency (KCNA).",
        credits=("Kim at the ceremony.",),
        byline="Park Ji-won",
        canonical_url="https://courier.example/b",
        published=datetime(2026, 12, 3, 9, tzinfo=UTC),
    )
    enriched = with_page(_article(), page)
    assert enriched is not None
    assert (enriched.content, enriched.content_source, enriched.byline) == (page.text, "page", "Park Ji-won")
    assert (enriched.url, enriched.id) == ("https://courier.example/b", article_id_for_url("https://courier.example/b"))
    assert enriched.credits == ("Photo: Yonhap", "Kim at the ceremony.")
    assert enriched.published == page.published  # the feed gave none
    assert enriched.summary == "Kim sent Putin a message."


def test_the_feed_s_published_time_and_address_win_when_it_has_them() -> None:
    published = datetime(2026, 12, 3, 8, tzinfo=UTC)
    page = PageText(text="A longer text than the teaser, from the page itself.", published=FETCHED)
    enriched = with_page(_article(published=published), page)
    assert enriched is not None
    assert (enriched.published, enriched.url, enriched.id) == (published, _article().url, _article().id)


def test_a_page_that_says_less_than_the_feed_leaves_the_article_as_it_was() -> None:
    assert with_page(_article(content="A full paragraph of feed content."), PageText(text="Subscribe")) is None

"""Canonical URLs and article ids: one spelling per document, tracking removed, ids stable."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.core.urls import (
    article_id_for_guid,
    article_id_for_url,
    canonical_url,
    host_of,
    is_tracking_parameter,
)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTPS://WWW.Example.COM/News/Story", "https://www.example.com/News/Story"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com./a", "https://example.com/a"),
        ("https://user:pw@example.com/a", "https://example.com/a"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?utm_source=rss&utm_medium=feed&id=7", "https://example.com/a?id=7"),
        ("https://example.com/a?fbclid=x&gclid=y&msclkid=z", "https://example.com/a"),
        ("https://www.nytimes.com/2019/12/31/x.html?emc=rss&partner=rss", "https://www.nytimes.com/2019/12/31/x.html"),
        ("https://example.com/a?UTM_Campaign=x&q=%c3%a9", "https://example.com/a?q=%C3%A9"),
        ("https://example.com/a%2fb", "https://example.com/a%2Fb"),
        ("https://[2001:db8::1]:8080/a", "https://[2001:db8::1]:8080/a"),
        ("  https://example.com/a  ", "https://example.com/a"),
    ],
)
def test_canonical_url(raw: str, canonical: str) -> None:
    assert canonical_url(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "ftp://example.com/a",
        "mailto:a@example.com",
        "javascript:alert(1)",
        "/relative/path",
        "",
        "https://",
        "http://exa mple.com/",
        "https://example.com:99999/",
        "https://example.com/\x00",
        "https://example.com/\ud800",
    ],
)
def test_unusable_urls_have_no_canonical_form(raw: str) -> None:
    assert canonical_url(raw) is None


def test_tracking_parameters_are_recognised_by_prefix_and_name() -> None:
    assert is_tracking_parameter("utm_content")
    assert is_tracking_parameter("ns_campaign")
    assert is_tracking_parameter("FBCLID")
    assert not is_tracking_parameter("id")
    assert not is_tracking_parameter("page")


_PARAM = st.from_regex(r"[a-z]{1,6}=[a-z0-9]{0,6}", fullmatch=True)
_URLS = st.builds(
    lambda host, path, params, fragment: f"https://{host}/{path}?{'&'.join(params)}#{fragment}",
    st.from_regex(r"[a-z]{1,10}\.(com|org|kr|ru)", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9/_-]{0,20}", fullmatch=True),
    st.lists(_PARAM, max_size=5),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=5),
)


@given(_URLS)
def test_canonicalisation_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert once is not None
    assert canonical_url(once) == once


@given(_URLS, st.randoms())
def test_query_order_and_tracking_do_not_change_the_canonical_form(url: str, rng: object) -> None:
    base, _, query_and_fragment = url.partition("?")
    query = query_and_fragment.split("#")[0]
    params = [p for p in query.split("&") if p] + ["utm_source=feed", "gclid=abc"]
    rng.shuffle(params)  # type: ignore[attr-defined]
    assert canonical_url(f"{base}?{'&'.join(params)}") == canonical_url(f"{base}?{query}")


def test_article_ids_never_change_between_versions() -> None:
    # Ids are Kafka keys and downstream de-duplication keys: a new formula would re-publish everything.
    assert article_id_for_url("https://example.com/a") == "578f46f81842f4bea07e92ed42e4b929"
    assert article_id_for_guid("https://f.example/rss", "g1") == "8a7e09a7df81fbde7172528ecb9c59bc"


def test_article_ids_are_distinct() -> None:
    url = "https://example.com/a"
    assert article_id_for_url(url) != article_id_for_url("https://example.com/b")
    assert article_id_for_guid("https://f.example/rss", "g1") != article_id_for_guid("https://g.example/rss", "g1")
    assert article_id_for_guid("https://f.example/rss", url) != article_id_for_url(url)


def test_host_of_drops_www_and_case() -> None:
    assert host_of("https://WWW.Yna.co.kr/view") == "yna.co.kr"
    assert host_of("not a url") == ""

"""Feed bytes to Articles: fields, credits, dates, language, identity, limits, failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.core.errors import FeedFailure
from connectors.core.feedlist import FeedSpec
from connectors.core.normalize import ParseLimits, parse_feed
from connectors.core.urls import article_id_for_guid, article_id_for_url

FETCHED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FEED = FeedSpec(url="https://news.example/rss", name="Example News", outlet="yonhap")

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">
<channel><title>Example</title><link>https://news.example/</link><language>en-gb</language><ttl>15</ttl>
<item>
  <title>Kim &amp; Putin meet</title>
  <link>https://News.Example/world/kim-putin?utm_source=rss#top</link>
  <guid>story-1</guid>
  <pubDate>Sat, 28 Feb 2026 18:30:00 +0900</pubDate>
  <description>&lt;p&gt;The leaders met in &lt;b&gt;Vladivostok&lt;/b&gt;.&lt;/p&gt;
    &lt;p&gt;Talks lasted hours (KCNA via AP).&lt;/p&gt;</description>
  <media:content url="https://img.example/1.jpg" medium="image"/>
  <media:credit>Photograph: Mikhail Metzel/TASS</media:credit>
</item>
<item>
  <title>From the future</title>
  <link>http://feeds.proxy.example/~r/x/1</link>
  <feedburner:origLink>https://news.example/world/future</feedburner:origLink>
  <pubDate>Mon, 01 Jan 2035 00:00:00 GMT</pubDate>
</item>
<item>
  <title>No date we can read</title>
  <link>https://news.example/world/undated</link>
  <pubDate>sometime last week</pubDate>
</item>
<item>
  <title>Only a guid</title>
  <guid isPermaLink="false">tag:news.example,2026:42</guid>
</item>
<item><description>neither link nor guid</description></item>
</channel></rss>"""


def _articles(data: bytes = RSS, feed: FeedSpec = FEED, **limits: int) -> list:  # type: ignore[type-arg]
    return [entry.article for entry in parse_feed(data, feed, FETCHED, limits=ParseLimits(**limits)).entries]


def test_fields_are_normalised() -> None:
    first = _articles()[0]
    assert first.id == article_id_for_url("https://news.example/world/kim-putin")
    assert first.url == "https://news.example/world/kim-putin"
    assert first.title == "Kim & Putin meet"
    assert first.summary == "The leaders met in Vladivostok.\nTalks lasted hours (KCNA via AP)."
    assert first.published == datetime(2026, 2, 28, 9, 30, tzinfo=UTC)
    assert first.fetched == FETCHED
    assert first.language == "en-GB"
    assert first.source.feed_url == FEED.url
    assert first.source.name == "Example News"
    assert first.source.domain == "news.example"
    assert first.source.outlet == "yonhap"


def test_credits_come_from_media_credit_and_captions() -> None:
    assert _articles()[0].credits == ("Mikhail Metzel/TASS", "KCNA via AP")


def test_future_dates_are_clamped_and_unparseable_dates_are_null() -> None:
    articles = {a.title: a for a in _articles()}
    assert articles["From the future"].published == FETCHED
    assert articles["No date we can read"].published is None


def test_feedburner_original_link_beats_the_proxy_link() -> None:
    articles = {a.title: a for a in _articles()}
    assert articles["From the future"].url == "https://news.example/world/future"


def test_an_entry_without_a_link_is_identified_by_feed_and_guid() -> None:
    articles = {a.title: a for a in _articles()}
    only_guid = articles["Only a guid"]
    assert only_guid.id == article_id_for_guid(FEED.url, "tag:news.example,2026:42")
    assert only_guid.url == "https://news.example/rss"


def test_entries_without_identity_are_skipped_and_counted() -> None:
    parsed = parse_feed(RSS, FEED, FETCHED)
    assert len(parsed.entries) == 4
    assert parsed.skipped == 1
    assert parsed.ttl == timedelta(minutes=15)


def test_feed_list_language_overrides_the_feed_and_the_feed_language_is_the_default() -> None:
    assert _articles(feed=FeedSpec(url=FEED.url, name="x", language="ko"))[0].language == "ko"
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ru">
    <title>t</title><entry><title>a</title><link href="https://tass.example/1"/><id>1</id>
    <updated>2026-02-01T10:00:00+03:00</updated><content type="html">&lt;p&gt;Text&lt;/p&gt;</content></entry></feed>"""
    article = _articles(atom)[0]
    assert article.language == "ru"
    assert article.content == "Text"
    assert article.published == datetime(2026, 2, 1, 7, 0, tzinfo=UTC)


def test_entries_and_fields_are_capped() -> None:
    items = "".join(
        f"<item><title>{'t' * 50}</title><link>https://a.example/{n}</link>"
        f"<description>{'word ' * 100}</description></item>"
        for n in range(10)
    )
    data = f"<rss version='2.0'><channel><title>x</title>{items}</channel></rss>".encode()
    parsed = parse_feed(data, FEED, FETCHED, limits=ParseLimits(max_entries=3, title_chars=20, summary_chars=40))
    assert len(parsed.entries) == 3
    assert parsed.skipped == 7
    assert all(len(e.article.title) <= 20 and len(e.article.summary) <= 40 for e in parsed.entries)


def test_the_same_link_twice_in_one_feed_is_one_article() -> None:
    item = "<item><title>a</title><link>https://a.example/1?utm_medium=x</link></item>"
    data = f"<rss version='2.0'><channel><title>x</title>{item}{item}</channel></rss>".encode()
    assert len(parse_feed(data, FEED, FETCHED).entries) == 1


def test_an_ill_formed_feed_keeps_its_entries_with_a_warning() -> None:
    data = b"<rss version='2.0'><channel><title>x</title><item><title>Caf&eacute; &bogus;</title><link>https://a.example/1</link></item>"
    parsed = parse_feed(data, FEED, FETCHED)
    assert [e.article.title for e in parsed.entries] == ["Café &bogus;"]
    assert parsed.warning is not None


@pytest.mark.parametrize("data", [b"<html><body><p>Not a feed</p></body></html>", b"", b"\x00\x01\x02 binary"])
def test_a_document_that_is_not_a_feed_is_a_failure(data: bytes) -> None:
    with pytest.raises(FeedFailure) as caught:
        parse_feed(data, FEED, FETCHED)
    assert caught.value.reason == "not_a_feed"


def test_an_empty_but_valid_feed_has_no_entries() -> None:
    assert parse_feed(b"<rss version='2.0'><channel><title>x</title></channel></rss>", FEED, FETCHED).entries == ()


def test_internal_entities_are_not_expanded() -> None:
    data = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY boom "BOOM">]>'
        b"<rss version='2.0'><channel><title>x</title><item><title>&boom;</title>"
        b"<link>https://a.example/1</link></item></channel></rss>"
    )
    assert "BOOM" not in _articles(data)[0].title

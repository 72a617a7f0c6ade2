"""Article pages through the real fetcher, a real local server and the real broker: every article arrives once,
with its page's main text when the page can be had and with the feed's text (and a counted reason) when not."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry

from connectors.core.feedlist import FeedSpec
from connectors.core.normalize import FeedEntry
from connectors.fetcher import Fetcher, FetchLimits
from connectors.metrics import ConnectorMetrics
from connectors.pages import PageStage
from connectors.producer import KafkaArticleSink
from connectors.service import Connector, utc_now
from connectors.state import StateStore
from streams.core.models import Article, Source
from streams.infra.kafka_topics import ensure_topics
from streams.infra.settings import Settings
from streams.infra.url_guard import UrlGuard
from tests.support.kafka import consume_quiet
from tests.support.page_server import CYRILLIC, JAPANESE, PageServer

pytestmark = pytest.mark.integration

EXPECTED_OUTCOMES = {
    "good": "extracted",
    "malformed": "extracted",
    "cp1251": "extracted",
    "shift-jis": "extracted",
    "huge": "too_large",
    "bomb": "too_large",
    "drip": "timeout",
    "to-private": "refused",
    "to-metadata": "refused",
    "chain-0": "too_many_redirects",
    "pdf": "not_html",
    "limited": "http_429",
    "private-area": "robots_disallowed",
}


@pytest.fixture
def page_server() -> Iterator[PageServer]:
    with PageServer().running() as server:
        yield server


def _connector(settings: Settings, server: PageServer, store: StateStore, fetcher: Fetcher) -> Connector:
    metrics = ConnectorMetrics(CollectorRegistry())
    sink = KafkaArticleSink(settings)
    pages = PageStage(store, fetcher, sink, metrics, utc_now, deadline=timedelta(seconds=30))
    spec = FeedSpec(url=server.url("/feed.xml"), name="courier", fulltext="auto")
    return Connector([spec], store, fetcher, sink, metrics, pages=pages)


def _articles(settings: Settings) -> dict[str, list[Article]]:
    by_guid: dict[str, list[Article]] = {}
    for record in consume_quiet(settings.kafka_bootstrap, settings.topics.articles_raw, quiet_s=3):
        article = Article.from_wire(record.value)
        by_guid.setdefault(article.title.removeprefix("Story "), []).append(article)
    return by_guid


async def test_hostile_pages_are_bounded_and_every_article_still_arrives_once(
    test_settings: Settings, page_server: PageServer, tmp_path: object
) -> None:
    ensure_topics(test_settings)
    store = StateStore(test_settings.home / "state.sqlite3")
    guard = UrlGuard(allowed_endpoints=[("127.0.0.1", page_server.port)])  # 10.0.0.1 and 169.254.x stay refused
    limits = FetchLimits(deadline_s=3.0, per_host_spacing_s=0.0, per_host_concurrency=16)
    try:
        async with Fetcher(guard, limits) as fetcher:
            connector = _connector(test_settings, page_server, store, fetcher)
            report = await connector.run_cycle(connector.feeds)
            # The cycle queued every teaser and fetched no page itself: a slow page cannot stall it.
            assert (report.new_articles, report.queued_for_pages) == (13, 13)
            assert not [path for path in page_server.requests if path.startswith("/pages/")]
            await connector.pages.run(asyncio.Event(), until_empty=True)  # type: ignore[union-attr]
            metrics = connector.metrics
    finally:
        store.close()

    arrived = _articles(test_settings)
    assert sorted(arrived) == sorted(EXPECTED_OUTCOMES)
    assert all(len(copies) == 1 for copies in arrived.values()), "an article was produced twice"
    for name, outcome in EXPECTED_OUTCOMES.items():
        article = arrived[name][0]
        assert (article.content_source == "page") == (outcome == "extracted"), name
        if outcome != "extracted":
            assert article.summary == f"Teaser of story {name}."  # the feed's text, kept
    counted = {
        outcome: metrics.page_fetches.labels(outcome)._value.get() for outcome in set(EXPECTED_OUTCOMES.values())
    }
    assert counted == {
        outcome: list(EXPECTED_OUTCOMES.values()).count(outcome) for outcome in set(EXPECTED_OUTCOMES.values())
    }

    good = arrived["good"][0].content
    assert "The Korean Central News Agency (KCNA) reported" in good
    assert good.count("\n") == 3  # the headline and three paragraphs, one per line
    for furniture in ("Most popular", "Celebrity chef", "World news section", "Copyright"):
        assert furniture not in good
    assert arrived["good"][0].url == page_server.page_url("good")  # its canonical link
    assert "KCNA" in arrived["malformed"][0].content
    assert CYRILLIC in arrived["cp1251"][0].content  # declared only in <meta charset>
    assert JAPANESE in arrived["shift-jis"][0].content  # declared only in <meta http-equiv>
    assert "/pages/private-area" not in page_server.requests  # robots.txt said no: never asked for
    assert page_server.requests.count("/robots.txt") == 1  # asked once, then cached


async def test_a_queued_article_survives_a_restart_and_is_produced_by_the_next_run(
    test_settings: Settings, page_server: PageServer
) -> None:
    """The queue row is the article's only copy between the cycle's commit and the page's: a connector stopped
    in between (here: never running its page stage) leaves it for the next one, which produces it."""
    ensure_topics(test_settings)
    path = test_settings.home / "state.sqlite3"
    guard = UrlGuard(allowed_endpoints=[("127.0.0.1", page_server.port)])
    limits = FetchLimits(deadline_s=3.0, per_host_spacing_s=0.0, per_host_concurrency=16)
    store = StateStore(path)
    async with Fetcher(guard, limits) as fetcher:
        await _connector(test_settings, page_server, store, fetcher).run_cycle(
            [FeedSpec(url=page_server.url("/feed.xml"), name="courier")]
        )
    store.close()
    assert _articles(test_settings) == {}

    store = StateStore(path)
    try:
        assert len(store.queued_pages()) == 13
        async with Fetcher(guard, limits) as fetcher:
            connector = _connector(test_settings, page_server, store, fetcher)
            report = await connector.run_cycle(connector.feeds)
            assert report.new_articles == 0  # queued means seen: not queued twice
            await connector.pages.run(asyncio.Event(), until_empty=True)  # type: ignore[union-attr]
        assert store.queued_pages() == []
    finally:
        store.close()
    arrived = _articles(test_settings)
    assert sorted(arrived) == sorted(EXPECTED_OUTCOMES)
    assert all(len(copies) == 1 for copies in arrived.values())


async def test_articles_queued_after_the_queue_ran_empty_are_still_produced(
    test_settings: Settings, page_server: PageServer
) -> None:
    """A running page stage sees every later queueing, also after the queue was empty (a reader that went by
    SQLite's rowid lost these: rowids are reused once the rows are deleted). The page has no canonical link, so
    each query string stays its own article."""
    ensure_topics(test_settings)
    store = StateStore(test_settings.home / "state.sqlite3")
    guard = UrlGuard(allowed_endpoints=[("127.0.0.1", page_server.port)])
    limits = FetchLimits(deadline_s=3.0, per_host_spacing_s=0.0, per_host_concurrency=16)
    source = Source(feed_url=page_server.url("/feed.xml"), name="courier", domain="127.0.0.1")

    def queue(batch: str) -> None:
        entries = [
            FeedEntry(Article(id=f"{batch}-{n}", url=page_server.page_url("malformed") + f"?n={batch}{n}",
                              title=f"Story {batch}-{n}", fetched=utc_now(), source=source), None)
            for n in range(3)
        ]  # fmt: skip
        store.commit([], [], utc_now(), queued=entries)

    try:
        async with Fetcher(guard, limits) as fetcher:
            connector = _connector(test_settings, page_server, store, fetcher)
            stage, stop = connector.pages, asyncio.Event()
            assert stage is not None
            running = asyncio.create_task(stage.run(stop))
            for batch in ("first", "second"):
                queue(batch)
                stage.wake()
                async with asyncio.timeout(60):
                    while store.queued_count():  # noqa: ASYNC110 - the queue is a table, not an event
                        await asyncio.sleep(0.1)
            stop.set()
            await running
    finally:
        store.close()
    titles = sorted(_articles(test_settings))
    assert titles == sorted(f"{batch}-{n}" for batch in ("first", "second") for n in range(3))

"""WebSub end to end: an in-process Connector with the real fetcher, its real callback server, the local hub and a
real feed server on 127.0.0.1, producing to the real dev broker."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import random
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from connectors.core.feedlist import FeedSpec
from connectors.core.schedule import SchedulePolicy
from connectors.core.urls import article_id_for_url, canonical_url
from connectors.core.websub import WebSubPolicy
from connectors.fetcher import Fetcher, FetchLimits
from connectors.metrics import ConnectorMetrics
from connectors.producer import KafkaArticleSink
from connectors.service import Connector, utc_now
from connectors.state import StateStore
from connectors.websub import PushOutcome, WebSub
from streams.infra.kafka_topics import ensure_topics
from streams.infra.settings import Settings
from streams.infra.url_guard import UrlGuard
from tests.support.feed_server import FeedServer, ServedFeed
from tests.support.kafka import consume, consume_quiet
from tests.support.websub_hub import LocalHub, with_hub

pytestmark = pytest.mark.integration
PATH = "/feeds/pushed"


@dataclass
class HubFeed(ServedFeed):
    """A served feed that declares its hub and itself (``atom:link`` in RSS)."""

    hub: str = ""
    topic: str = ""

    def body(self) -> bytes:
        return with_hub(super().body(), self.hub, self.topic)


@dataclass
class Running:
    connector: Connector
    websub: WebSub
    store: StateStore
    registry: CollectorRegistry
    topic: str

    def pushes(self, outcome: str) -> float:
        return self.registry.get_sample_value("wirewatch_websub_pushes_total", {"outcome": outcome}) or 0.0

    def callback(self) -> str:
        sub = self.store.subscriptions()[0]
        return f"{self.websub.callback_base}/websub/{sub.callback_id}"


@pytest.fixture
def hub() -> Iterator[LocalHub]:
    with LocalHub().running() as server:
        yield server


def _hub_feed(feed_server: FeedServer, hub: LocalHub, count: int = 2) -> str:
    """The pushed feed with ``count`` items; its topic (self link) is its own URL."""
    topic = feed_server.url(PATH)
    feed_server.feeds[PATH] = HubFeed(feed_server.base_url(PATH), hub=hub.hub_url, topic=topic)
    feed_server.publish(PATH, count)
    return topic


@contextlib.asynccontextmanager
async def _connector(
    settings: Settings,
    tmp_path: Path,
    specs: list[FeedSpec],
    policy: SchedulePolicy = SchedulePolicy(),  # noqa: B008 - frozen value
    websub_policy: WebSubPolicy = WebSubPolicy(),  # noqa: B008 - frozen value
    max_body: int = 1024 * 1024,
) -> AsyncIterator[Running]:
    """A running connector (its cycles and its WebSub server) until the block ends."""
    ensure_topics(settings)
    store = StateStore(tmp_path / "state.sqlite3")
    sink = KafkaArticleSink(settings)
    registry = CollectorRegistry()
    metrics = ConnectorMetrics(registry)
    stop = asyncio.Event()
    try:
        async with Fetcher(UrlGuard(allow_private_networks=True), FetchLimits(per_host_spacing_s=0.0)) as fetcher:
            connector: Connector

            async def deliver(spec: FeedSpec, body: bytes, headers: dict[str, str]) -> PushOutcome:
                return await connector.deliver_push(spec, body, headers)

            websub = WebSub(
                store, fetcher, metrics, ("127.0.0.1", 0), deliver, utc_now, policy=websub_policy,
                max_body=max_body, on_demoted=lambda _url: connector.wake(),
            )  # fmt: skip
            async with websub:
                connector = Connector(
                    specs, store, fetcher, sink, metrics, policy=policy, rng=random.Random(1), websub=websub
                )
                task = asyncio.create_task(connector.run(stop, once=False, progress=lambda _line: None))
                try:
                    yield Running(connector, websub, store, registry, settings.topics.articles_raw)
                finally:
                    stop.set()
                    await task
    finally:
        sink.close()
        store.close()


@contextlib.asynccontextmanager
async def _subscribed(
    settings: Settings, feed_server: FeedServer, hub: LocalHub, tmp_path: Path, max_body: int = 1024 * 1024
) -> AsyncIterator[tuple[Running, str, FeedSpec]]:
    """A connector polling the hub's feed, once the hub has verified its subscription: (run, topic, spec)."""
    topic = _hub_feed(feed_server, hub)
    spec = FeedSpec(url=feed_server.url(PATH), name="Pushed")
    async with _connector(settings, tmp_path, [spec], max_body=max_body) as run:
        await _until(lambda: hub.subscribed(topic), what="a verified subscription at the hub")
        yield run, topic, spec


async def _until(condition: Callable[[], object], timeout_s: float = 20.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what} not met within {timeout_s:g} s"
        await asyncio.sleep(0.05)


def _ids(links: list[str]) -> list[str]:
    return [article_id_for_url(canonical_url(link) or link) for link in links]


def _keys(settings: Settings) -> Counter[str]:
    records = consume_quiet(settings.kafka_bootstrap, settings.topics.articles_raw, quiet_s=1.0)
    return Counter(r.key.decode() for r in records if r.key is not None)


def _get(url: str) -> tuple[int, str]:
    assert url.startswith("http://127.0.0.1:")
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a loopback http URL
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, ""


async def _push_feed(hub: LocalHub, topic: str, feed_server: FeedServer) -> list[int]:
    """The hub distributes the feed as it is now; the subscribers' answers."""
    return await asyncio.to_thread(hub.publish, topic, feed_server.feeds[PATH].body())


async def test_a_publish_reaches_articles_raw_through_the_push_without_a_poll_and_once(
    test_settings: Settings, feed_server: FeedServer, hub: LocalHub, tmp_path: Path
) -> None:
    async with _subscribed(test_settings, feed_server, hub, tmp_path) as (run, topic, spec):
        first = [f"{feed_server.base_url(PATH)}/{guid}" for guid, _, _ in feed_server.feeds[PATH].items]
        assert run.websub.is_pushed(spec.url, utc_now())
        await _until(lambda: len(consume_quiet(test_settings.kafka_bootstrap, run.topic, quiet_s=0.5)) == 2)
        polls = len(feed_server.requests_for(PATH))
        new = feed_server.publish(PATH, 1)
        published = time.monotonic()
        assert await _push_feed(hub, topic, feed_server) == [202]
        records = await asyncio.to_thread(consume, test_settings.kafka_bootstrap, run.topic, 3, 30)
        arrived = time.monotonic() - published
        assert len(feed_server.requests_for(PATH)) == polls  # the push brought it, no poll
        assert arrived < 5.0
        assert run.pushes("accepted") == 1
        # The same document pushed again, then polled: nothing is produced twice.
        assert await _push_feed(hub, topic, feed_server) == [202]
        report = await run.connector.run_cycle([spec])
        assert (report.fetched, report.new_articles, report.duplicates) == (1, 0, 3)
    keys = _keys(test_settings)
    assert sorted(keys) == sorted(_ids(first + new))
    assert set(keys.values()) == {1}
    assert len(records) == 3


async def test_a_poll_then_a_push_of_the_same_entry_produces_it_once(
    test_settings: Settings, feed_server: FeedServer, hub: LocalHub, tmp_path: Path
) -> None:
    async with _subscribed(test_settings, feed_server, hub, tmp_path) as (run, topic, spec):
        new = feed_server.publish(PATH, 1)
        report = await run.connector.run_cycle([spec])  # the poll gets there first
        assert report.new_articles == 1
        assert await _push_feed(hub, topic, feed_server) == [202]
        assert run.pushes("accepted") == 1
    keys = _keys(test_settings)
    assert keys[_ids(new)[0]] == 1
    assert len(keys) == 3


async def test_hostile_pushes_and_verifications_are_refused_counted_and_crash_nothing(
    test_settings: Settings, feed_server: FeedServer, hub: LocalHub, tmp_path: Path
) -> None:
    async with _subscribed(test_settings, feed_server, hub, tmp_path, max_body=64 * 1024) as (run, topic, spec):
        await _until(lambda: len(consume_quiet(test_settings.kafka_bootstrap, run.topic, quiet_s=0.5)) == 2)
        callback = run.callback()
        secret = hub.subscribed(topic)[0].secret
        assert secret is not None
        forged = feed_server.publish(PATH, 1)
        body = feed_server.feeds[PATH].body()
        send = hub.send
        assert await asyncio.to_thread(send, callback, body, "sha256=" + "0" * 64) == 202  # wrong signature
        assert await asyncio.to_thread(send, callback, body, None) == 202  # none at all
        assert await asyncio.to_thread(send, callback, body, "md5=abc") == 202  # a method nobody signs with
        assert run.pushes("bad_signature") == 3
        unknown = callback.rsplit("/", 1)[0] + "/not-a-callback"
        assert await asyncio.to_thread(send, unknown, body, None) == 410
        assert run.pushes("unknown_callback") == 1
        assert await asyncio.to_thread(send, callback, b"<rss>" + b" " * 70_000, None) == 413
        assert run.pushes("too_large") == 1
        malformed = b"this is not a feed at all"
        signature = "sha1=" + hmac.new(secret.encode(), malformed, "sha1").hexdigest()
        assert await asyncio.to_thread(send, callback, malformed, signature) == 202
        assert run.pushes("not_a_feed") == 1
        # Verifications nobody asked for: another topic, an unsubscription, an unknown callback.
        assert await asyncio.to_thread(_get, f"{callback}?hub.mode=subscribe&hub.topic=x&hub.challenge=c") == (404, "")
        never = f"{callback}?hub.mode=unsubscribe&hub.topic={topic}&hub.challenge=c"
        assert await asyncio.to_thread(_get, never) == (404, "")
        assert await asyncio.to_thread(_get, f"{unknown}?hub.mode=subscribe&hub.topic={topic}&hub.challenge=c") == (
            404,
            "",
        )
        assert run.registry.get_sample_value("wirewatch_websub_verifications_total", {"outcome": "refused"}) == 3
        assert run.websub.is_pushed(spec.url, utc_now())  # still subscribed, still serving
        await asyncio.sleep(1.0)
        assert forged[0] not in {r.key.decode() for r in consume_quiet(test_settings.kafka_bootstrap, run.topic)}
        assert await asyncio.to_thread(hub.publish, topic, body) == [202]  # the real one goes through
        await _until(lambda: len(consume_quiet(test_settings.kafka_bootstrap, run.topic, quiet_s=0.5)) == 3)


async def test_a_silent_hub_leaves_the_feed_polled_and_the_subscription_retried(
    test_settings: Settings, feed_server: FeedServer, hub: LocalHub, tmp_path: Path
) -> None:
    hub.silent = True
    _hub_feed(feed_server, hub)
    spec = FeedSpec(url=feed_server.url(PATH), name="Pushed", interval=timedelta(seconds=1))
    fast = SchedulePolicy(min_interval=timedelta(seconds=1), jitter=0.0)
    quick = WebSubPolicy(verify_timeout=timedelta(seconds=1), retry_first=timedelta(seconds=1))
    async with _connector(test_settings, tmp_path, [spec], fast, quick) as run:
        await _until(lambda: len(hub.events_of("request", "subscribe")) >= 3, what="retried subscriptions")
        sub = run.store.subscriptions()[0]
        assert sub.status in ("failed", "requested")
        assert sub.failures >= 2  # the back-off doubles: 1 s, 2 s, 4 s …
        requests = [e.at for e in hub.events_of("request", "subscribe")]
        assert requests[2] - requests[1] > requests[1] - requests[0]
        assert not run.websub.is_pushed(spec.url, utc_now())
        new = feed_server.publish(PATH, 1)
        await _until(lambda: len(consume_quiet(test_settings.kafka_bootstrap, run.topic, quiet_s=0.5)) == 3)
    assert hub.events_of("verification") == []
    assert _ids(new)[0] in _keys(test_settings)


async def test_a_hub_that_stops_distributing_is_caught_by_the_safety_net_poll(
    test_settings: Settings, feed_server: FeedServer, hub: LocalHub, tmp_path: Path
) -> None:
    topic = _hub_feed(feed_server, hub)
    spec = FeedSpec(url=feed_server.url(PATH), name="Pushed")
    policy = SchedulePolicy(
        min_interval=timedelta(seconds=1), first_interval=timedelta(seconds=2), pushed_interval=timedelta(seconds=3)
    )
    async with _connector(test_settings, tmp_path, [spec], policy, WebSubPolicy(retry_first=timedelta(hours=1))) as run:
        await _until(lambda: hub.subscribed(topic), what="a verified subscription")
        hub.silent = True
        new = feed_server.publish(PATH, 1)  # dated long ago: the hub should have pushed it
        await _until(lambda: len(consume_quiet(test_settings.kafka_bootstrap, run.topic, quiet_s=0.5)) == 3)
        await _until(lambda: run.store.subscriptions()[0].status == "failed", what="the subscription failed")
        assert "missed" in (run.store.subscriptions()[0].last_error or "")
        assert not run.websub.is_pushed(spec.url, utc_now())
    assert _ids(new)[0] in _keys(test_settings)


async def test_leases_are_renewed_before_they_expire(
    test_settings: Settings, feed_server: FeedServer, tmp_path: Path
) -> None:
    with LocalHub(max_lease_s=6).running() as hub:
        topic = _hub_feed(feed_server, hub)
        spec = FeedSpec(url=feed_server.url(PATH), name="Pushed")
        async with _connector(test_settings, tmp_path, [spec]) as run:
            await _until(lambda: len(hub.events_of("verification", "subscribe")) >= 3, timeout_s=25, what="renewals")
            assert all(e.status == 200 for e in hub.events_of("verification"))
            assert run.websub.is_pushed(spec.url, utc_now())
            assert run.store.subscriptions()[0].lease_s == 6
            await asyncio.sleep(1)
            assert hub.subscribed(topic)


async def test_a_feed_the_connector_loses_is_unsubscribed(
    test_settings: Settings, feed_server: FeedServer, hub: LocalHub, tmp_path: Path
) -> None:
    async with _subscribed(test_settings, feed_server, hub, tmp_path) as (run, topic, _spec):
        run.connector.set_feeds([])  # its host moved to another connector
        await _until(lambda: not hub.subscribed(topic), what="the unsubscription")
        await _until(lambda: run.store.subscriptions() == [], what="the subscription forgotten")
    assert [e.status for e in hub.events_of("verification", "unsubscribe")] == [200]

"""The connector end to end: real HTTP server on 127.0.0.1, real broker, real processes, kill -9."""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from connectors.core.feedlist import FeedSpec
from connectors.core.urls import article_id_for_url, canonical_url
from connectors.fetcher import Fetcher, FetchLimits
from connectors.metrics import ConnectorMetrics
from connectors.producer import KafkaArticleSink
from connectors.service import Connector
from connectors.state import StateStore, default_state_path
from streams.core.models import Article
from streams.infra.kafka_topics import ensure_topics
from streams.infra.processes import free_port
from streams.infra.settings import Settings
from streams.infra.url_guard import UrlGuard
from tests.support.feed_server import FeedServer
from tests.support.kafka import Record, consume, consume_quiet
from tests.support.processes import Child, child_env

pytestmark = pytest.mark.integration


def _feed_list(path: Path, server: FeedServer, feeds: dict[str, str], interval: str | None = None) -> Path:
    lines = ["feeds:"]
    for name, feed_path in feeds.items():
        lines += [f"  - url: {server.url(feed_path)}", f"    name: {name}", "    outlet: yonhap", "    language: en"]
        if interval:
            lines.append(f"    interval: {interval}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _ids(links: list[str]) -> list[str]:
    return [article_id_for_url(canonical_url(link) or link) for link in links]


def _wait_for(child: Child, text: str, count: int = 1, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while child.log().count(text) < count:
        assert child.is_running(), child.log()[-3000:]
        assert time.monotonic() < deadline, f"no {text!r} x{count} in time:\n{child.log()[-3000:]}"
        time.sleep(0.1)


def _connect_env(settings: Settings) -> dict[str, str]:
    return {
        "WIREWATCH_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "WIREWATCH_TOPIC_PREFIX": settings.topic_prefix,
        "WIREWATCH_HOME": str(settings.home),
        "WIREWATCH_CONNECTOR_METRICS_PORT": "0",
    }


def _keys(records: list[Record]) -> Counter[str]:
    return Counter(r.key.decode() for r in records if r.key is not None)


def test_connect_once_puts_each_new_article_once_into_articles_raw(
    test_settings: Settings, feed_server: FeedServer, children: list[Child], tmp_path: Path
) -> None:
    world = feed_server.publish("/feeds/world", 4)
    asia = feed_server.publish("/feeds/asia", 3)
    feeds = _feed_list(tmp_path / "feeds.yaml", feed_server, {"World": "/feeds/world", "Asia": "/feeds/asia"})
    child = Child.wirewatch(
        ["connect", "--feeds", str(feeds), "--once", "--allow-private-networks"],
        tmp_path / "connect.log",
        **_connect_env(test_settings),
    )
    children.append(child)
    assert child.process.wait(120) == 0, child.log()
    assert "cycle 1: 2 feeds: 2 fetched, 0 not modified, 0 failed; 7 new articles" in child.log()
    assert default_state_path(test_settings).is_file()

    records = consume_quiet(test_settings.kafka_bootstrap, test_settings.topics.articles_raw)

    assert sorted(_keys(records)) == sorted(_ids(world + asia))
    assert set(_keys(records).values()) == {1}
    first = next(r for r in records if r.key == _ids(world)[0].encode())
    assert first.value is not None
    article = Article.from_wire(first.value)
    assert article.url == canonical_url(world[0])
    assert article.source.outlet == "yonhap"
    assert article.source.name == "World"
    assert dict(first.headers) == {
        "feed_url": feed_server.url("/feeds/world").encode(),
        "feed": b"World",
        "outlet": b"yonhap",
    }


def test_metrics_are_served_while_connecting(
    test_settings: Settings, feed_server: FeedServer, children: list[Child], tmp_path: Path
) -> None:
    feed_server.publish("/feeds/world", 2)
    feeds = _feed_list(tmp_path / "feeds.yaml", feed_server, {"World": "/feeds/world"})
    port = free_port()
    child = Child.wirewatch(
        ["connect", "--feeds", str(feeds), "--allow-private-networks", "--metrics-port", str(port)],
        tmp_path / "connect.log",
        **_connect_env(test_settings),
    )
    children.append(child)
    _wait_for(child, "0 still queued")  # the two articles went through the page stage
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    assert child.stop() == 0
    assert 'wirewatch_connector_fetches_total{outcome="fetched"} 1.0' in text
    assert 'wirewatch_connector_articles_produced_total{outlet="yonhap"} 2.0' in text
    assert 'wirewatch_connector_feeds{health="ok"} 1.0' in text
    assert "feed=" not in text  # no series per feed
    assert 'wirewatch_connector_errors_total{reason="timeout"} 0.0' in text


def test_a_taken_metrics_port_is_a_one_line_error(
    test_settings: Settings, feed_server: FeedServer, tmp_path: Path
) -> None:
    feeds = _feed_list(tmp_path / "feeds.yaml", feed_server, {"World": "/feeds/world"})
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "streams.cli.main", "connect", "--feeds", str(feeds), "--metrics-port", str(port)],
            capture_output=True, text=True, env=child_env(**_connect_env(test_settings)), timeout=60, check=False,
        )  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"wirewatch: error: metrics port {port}: Address already in use "
        "(choose another with --metrics-port, or 0 for none)"
    )


def test_refused_without_allow_private_networks_says_why(
    test_settings: Settings, feed_server: FeedServer, children: list[Child], tmp_path: Path
) -> None:
    feed_server.publish("/feeds/world", 1)
    feeds = _feed_list(tmp_path / "feeds.yaml", feed_server, {"World": "/feeds/world"})
    child = Child.wirewatch(
        ["connect", "--feeds", str(feeds), "--once"], tmp_path / "connect.log", **_connect_env(test_settings)
    )
    children.append(child)
    assert child.process.wait(120) == 0, child.log()
    assert "0 fetched, 0 not modified, 1 failed; 0 new articles" in child.log()
    assert "refused: 127.0.0.1 is a loopback address (set allow_private_networks to allow it)" in child.log()
    assert feed_server.requests == []


async def test_ten_repolls_of_unchanged_feeds_produce_no_duplicates(
    test_settings: Settings, feed_server: FeedServer, tmp_path: Path
) -> None:
    honest = feed_server.publish("/feeds/honest", 5)
    stale = feed_server.publish("/feeds/stale", 5, honour_validators=False)
    # A third feed links to an article the first one already carries: produced once across feeds.
    feed_server.feeds["/feeds/mirror"] = feed_server.feeds["/feeds/honest"]
    specs = [FeedSpec(url=feed_server.url(p), name=p) for p in ("/feeds/honest", "/feeds/stale", "/feeds/mirror")]
    ensure_topics(test_settings)
    store = StateStore(tmp_path / "state.sqlite3")
    sink = KafkaArticleSink(test_settings)
    registry = CollectorRegistry()
    metrics = ConnectorMetrics(registry)
    limits = FetchLimits(per_host_spacing_s=0.0)
    try:
        async with Fetcher(UrlGuard(allow_private_networks=True), limits) as fetcher:
            connector = Connector(specs, store, fetcher, sink, metrics, rng=random.Random(1))
            reports = [await connector.run_cycle(specs) for _ in range(11)]
            extra = feed_server.publish("/feeds/stale", 2, honour_validators=False)
            after_change = await connector.run_cycle(specs)
    finally:
        sink.close()
        store.close()

    assert reports[0].new_articles == 10
    assert reports[0].duplicates == 5  # the mirror's five
    for report in reports[1:]:
        assert (report.fetched, report.not_modified, report.new_articles) == (0, 3, 0)
    assert after_change.new_articles == 2
    records = consume_quiet(test_settings.kafka_bootstrap, test_settings.topics.articles_raw)
    assert sorted(_keys(records)) == sorted(_ids(honest + stale + extra))
    fetches = "wirewatch_connector_fetches_total"
    # The stale-validator feed is caught by the content hash; the other two answer 304 (also after the change).
    assert registry.get_sample_value(fetches, {"outcome": "unchanged"}) == 10
    assert registry.get_sample_value(fetches, {"outcome": "not_modified"}) == 22
    # The mirror's five, and the changed feed's five it had already produced.
    assert registry.get_sample_value("wirewatch_connector_duplicates_skipped_total") == 10
    honest_requests = feed_server.requests_for("/feeds/honest")
    assert all(r.headers.get("If-None-Match") == '"rev-1"' for r in honest_requests[1:])


async def test_429_and_failures_are_scheduled_later_with_the_reason_kept(
    test_settings: Settings, feed_server: FeedServer, tmp_path: Path
) -> None:
    specs = [FeedSpec(url=feed_server.url("/429"), name="limited"), FeedSpec(url=feed_server.url("/gone"), name="404")]
    ensure_topics(test_settings)
    store = StateStore(tmp_path / "state.sqlite3")
    sink = KafkaArticleSink(test_settings)
    registry = CollectorRegistry()
    try:
        async with Fetcher(UrlGuard(allow_private_networks=True), FetchLimits(per_host_spacing_s=0.0)) as fetcher:
            connector = Connector(specs, store, fetcher, sink, ConnectorMetrics(registry))
            report = await connector.run_cycle(specs)
            states = store.feed_states(s.url for s in specs)
    finally:
        sink.close()
        store.close()
    assert report.failed == 2
    limited = states[feed_server.url("/429")]
    assert limited.last_error is not None
    assert limited.last_error.startswith("http_429")
    assert limited.next_poll is not None
    assert limited.last_polled is not None
    assert limited.next_poll - limited.last_polled >= timedelta(hours=2)  # Retry-After: 7200
    assert states[feed_server.url("/gone")].last_error == "http_4xx: HTTP 404"
    assert registry.get_sample_value("wirewatch_connector_errors_total", {"reason": "http_429"}) == 1


def test_kill_9_between_cycles_then_restart_loses_nothing_and_duplicates_nothing(
    test_settings: Settings, feed_server: FeedServer, children: list[Child], tmp_path: Path
) -> None:
    published = feed_server.publish("/feeds/world", 5) + feed_server.publish("/feeds/asia", 5)
    feeds = _feed_list(
        tmp_path / "feeds.yaml", feed_server, {"World": "/feeds/world", "Asia": "/feeds/asia"}, interval="1s"
    )
    argv = ["connect", "--feeds", str(feeds), "--allow-private-networks", "--min-interval", "1"]
    first = Child.wirewatch(argv, tmp_path / "first.log", **_connect_env(test_settings))
    children.append(first)
    _wait_for(first, "10 new articles")
    _wait_for(first, "0 still queued")  # the page stage produced and committed them all
    _wait_for(first, "0 new articles")  # the next cycle ran to its end: we are between cycles
    first.kill()

    published += feed_server.publish("/feeds/world", 3) + feed_server.publish("/feeds/asia", 2)
    second = Child.wirewatch(argv, tmp_path / "second.log", **_connect_env(test_settings))
    children.append(second)
    arrived = consume(test_settings.kafka_bootstrap, test_settings.topics.articles_raw, len(published), 90)
    assert len(arrived) == len(published), second.log()[-3000:]
    assert second.stop() == 0
    assert "stopped after" in second.log()

    records = consume_quiet(test_settings.kafka_bootstrap, test_settings.topics.articles_raw)
    keys = _keys(records)
    assert sorted(keys) == sorted(_ids(published)), "lost or unexpected articles"
    assert max(keys.values()) == 1, "duplicates"


@pytest.mark.reliability
def test_kill_9_at_random_moments_loses_nothing_and_duplicates_only_by_key(
    test_settings: Settings, feed_server: FeedServer, children: list[Child], tmp_path: Path
) -> None:
    """The crash window between flush and commit, measured: kills land anywhere, also inside a cycle."""
    published = feed_server.publish("/feeds/world", 3) + feed_server.publish("/feeds/asia", 3)
    feeds = _feed_list(
        tmp_path / "feeds.yaml", feed_server, {"World": "/feeds/world", "Asia": "/feeds/asia"}, interval="1s"
    )
    argv = ["connect", "--feeds", str(feeds), "--allow-private-networks", "--min-interval", "1"]
    rng = random.Random(7)
    for round_number in range(4):
        child = Child.wirewatch(argv, tmp_path / f"round{round_number}.log", **_connect_env(test_settings))
        children.append(child)
        _wait_for(child, "cycle 1:")
        for _ in range(3):
            published += feed_server.publish("/feeds/world", 1) + feed_server.publish("/feeds/asia", 1)
            time.sleep(rng.uniform(0.2, 1.5))
        child.kill()
    final = Child.wirewatch(argv, tmp_path / "final.log", **_connect_env(test_settings))
    children.append(final)
    consume(test_settings.kafka_bootstrap, test_settings.topics.articles_raw, len(published), 90)
    assert final.stop() == 0

    keys = _keys(consume_quiet(test_settings.kafka_bootstrap, test_settings.topics.articles_raw))
    assert set(keys) == set(_ids(published)), "lost or unexpected articles"
    resent = sum(keys.values()) - len(keys)
    print(f"kill -9 x4 at random moments: {len(keys)} articles, 0 lost, {resent} re-sent with the same key")

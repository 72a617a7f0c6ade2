"""Hostile input: malformed records on every topic the worker reads, and the connector's hostile feeds."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from connectors.core.feedlist import FeedSpec
from connectors.fetcher import Fetcher, FetchLimits
from connectors.metrics import ConnectorMetrics
from connectors.producer import KafkaArticleSink
from connectors.service import Connector
from connectors.state import StateStore
from streams.infra.kafka_topics import ensure_topics
from streams.infra.url_guard import UrlGuard
from streams.tools.reliability.harness import Bench, publish_watches, scenario
from streams.tools.reliability.hostile import HostileSpec, poisons, run_hostile
from streams.tools.reliability.traffic import read_topic, wait_drained
from tests.support.feed_server import FeedServer

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

HOSTILE_FEEDS = (
    "/429", "/drip", "/huge", "/bomb", "/hostile/laughs", "/hostile/quadratic", "/loop/a", "/chain/8",
    "/to-refused", "/feeds/missing",
)  # fmt: skip


def test_every_malformed_record_is_dead_lettered_and_the_worker_keeps_going(bench: Bench) -> None:
    figures = run_hostile(HostileSpec.short(), bench)
    print(figures.report())
    assert figures.sent == len(poisons()) > 50
    assert figures.missed == ()
    assert set(figures.reasons) <= {"invalid_message", "processing_error"}
    assert figures.follow_up_alerted
    assert figures.crashed == ()


def test_every_topic_and_stage_the_worker_reads_is_in_the_sweep() -> None:
    covered = {(p.topic, p.stage) for p in poisons()}
    assert covered == {
        ("articles_raw", "tag"), ("pairs", "decide"), ("alerts", "webhook"),
        ("watches", "watches"), ("desks", "desks"), ("webhooks", "webhooks"),
    }  # fmt: skip


async def test_hostile_feeds_stop_at_the_connector_and_the_worker_tags_the_rest(bench: Bench) -> None:
    with scenario(bench.bootstrap, "feeds", bench.workdir, bench.say) as run, FeedServer().running() as server:
        publish_watches(run)
        ensure_topics(run.settings)
        run.start_workers(run.worker("a"))
        good = server.publish("/feeds/world", 5)
        specs = [FeedSpec(url=server.url(path), name=path) for path in (*HOSTILE_FEEDS, "/feeds/world")]
        store = StateStore(run.workdir / "state.sqlite3")
        sink = KafkaArticleSink(run.settings)
        guard = UrlGuard(allowed_endpoints=[("127.0.0.1", server.port)])  # the redirect to 10.0.0.1 stays refused
        limits = FetchLimits(deadline_s=3.0, max_bytes=1024 * 1024, per_host_spacing_s=0.0, per_host_concurrency=16)
        metrics = ConnectorMetrics(CollectorRegistry())
        try:
            async with Fetcher(guard, limits) as fetcher:
                report = await Connector(specs, store, fetcher, sink, metrics).run_cycle(specs)
            states = store.feed_states(spec.url for spec in specs)
        finally:
            sink.close()
            store.close()
        wait_drained(run.settings, 60, bench.say)
        raw = {r.key for r in read_topic(bench.bootstrap, run.settings.topics.articles_raw)}
        tagged = {r.key for r in read_topic(bench.bootstrap, run.settings.topics.articles_tagged)}
        letters = run.dead_letters()

    outcome = {path: states[server.url(path)].last_error for path in HOSTILE_FEEDS}
    print(report.line(1), *(f"{path}: {error}" for path, error in outcome.items()), sep="\n")
    assert report.feeds == len(specs)
    refused = {path for path, error in outcome.items() if error}
    assert refused >= set(HOSTILE_FEEDS) - {"/hostile/laughs", "/hostile/quadratic"}  # those parse, unexpanded
    assert len(raw) >= len(good)
    assert tagged == raw  # whatever got through was tagged: nothing poisoned the worker
    assert letters == []
    assert run.crashed() == []

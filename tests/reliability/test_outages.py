"""The broker going away and the connector crashing: nothing lost on the way in, no alert missing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from connectors import service
from connectors.core.feedlist import FeedSpec
from connectors.core.normalize import FeedEntry
from connectors.core.urls import canonical_url
from connectors.fetcher import Fetcher, FetchLimits
from connectors.metrics import ConnectorMetrics
from connectors.service import Connector
from connectors.state import StateStore
from streams.core.errors import BrokerUnavailable
from streams.infra.url_guard import UrlGuard
from streams.tools.reliability.broker import BrokerRestartSpec, run_broker_restart
from streams.tools.reliability.connector import ConnectorCrashSpec, run_connector_crash
from streams.tools.reliability.feedgroup import FeedGroupSpec, run_feed_group
from streams.tools.reliability.harness import Bench
from tests.support.feed_server import FeedServer

pytestmark = [pytest.mark.reliability, pytest.mark.integration]


def test_connector_and_worker_recover_by_themselves_from_a_broker_restart(bench: Bench) -> None:
    figures = run_broker_restart(BrokerRestartSpec.short(), bench)
    print(figures.report())
    assert [outage.signal for outage in figures.outages] == ["SIGTERM", "SIGKILL"]
    assert figures.published > 100
    assert figures.lost == 0
    check = figures.outcome.check
    assert check.missing == ()
    assert check.unexpected == ()
    assert figures.outcome.crashed == ()


def test_kill_9_mid_cycle_loses_no_article_and_tags_none_twice(bench: Bench) -> None:
    spec = ConnectorCrashSpec.short()
    figures = run_connector_crash(spec, bench)
    print(figures.report())
    assert figures.kills_during_fetch + figures.kills_after_fetch == spec.kills
    assert figures.published > 50
    assert figures.lost == 0
    assert figures.raw_distinct == figures.published
    assert figures.tagged_duplicates == 0
    assert figures.crashed == ()


class AwaySink:
    """An article sink whose broker is away for the first ``outages`` cycles (refuses like ``KafkaArticleSink``)."""

    def __init__(self, outages: int) -> None:
        self.outages = outages
        self.pending: list[FeedEntry] = []
        self.delivered: list[str] = []

    def send(self, entry: FeedEntry) -> None:
        if self.outages:
            self.outages -= 1
            raise BrokerUnavailable("Kafka did not take the article: no metadata within 60 s")
        self.pending.append(entry)

    def flush(self) -> None:
        self.delivered += [entry.article.url for entry in self.pending]
        self.pending.clear()

    def close(self) -> None:
        """Nothing to release."""


async def test_a_cycle_kafka_refused_is_retried_instead_of_stopping_the_connector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "BROKER_RETRY_S", 0.1)
    with FeedServer().running() as server:
        published = server.publish("/feeds/world", 3)
        spec = FeedSpec(url=server.url("/feeds/world"), name="World")
        sink, store, lines = AwaySink(outages=2), StateStore(tmp_path / "state.sqlite3"), []
        stop = asyncio.Event()

        def progress(line: str) -> None:
            lines.append(line)
            if len(sink.delivered) == len(published):
                stop.set()

        try:
            async with Fetcher(UrlGuard(allow_private_networks=True), FetchLimits(per_host_spacing_s=0.0)) as fetcher:
                connector = Connector([spec], store, fetcher, sink, ConnectorMetrics(CollectorRegistry()))
                await asyncio.wait_for(connector.run(stop, once=False, progress=progress), timeout=30)
        finally:
            store.close()
    assert sorted(sink.delivered) == sorted(canonical_url(link) for link in published)
    assert [line.split(",")[0] for line in lines[:2]] == ["cycle not committed"] * 2
    assert lines[2].startswith("cycle 1: 1 feeds: 1 fetched")  # fetched again: the refused cycle left no state


def test_a_group_of_connectors_keeps_every_feed_and_host_through_a_kill_and_a_join(bench: Bench) -> None:
    figures = run_feed_group(FeedGroupSpec.short(), bench)
    print(figures.report())
    assert figures.published > 200
    assert figures.lost == 0
    assert figures.close_gaps == 0  # per-host spacing held across the group, through every rebalance
    assert figures.feeds_never_polled_after_kill == 0  # the killed connector's hosts moved to the others
    assert figures.max_feed_gap_s <= figures.schedule_bound_s
    assert figures.crashed == ()
    assert figures.passed

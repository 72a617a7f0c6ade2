"""A host moving between connectors, seen from the connector that lets it go and the one that takes it: real
HTTP server on 127.0.0.1, real fetcher; the request log is the server's own."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from connectors.core.feedlist import FeedSpec
from connectors.core.normalize import FeedEntry
from connectors.fetcher import Fetcher, FetchLimits
from connectors.metrics import ConnectorMetrics
from connectors.service import Connector
from connectors.state import StateStore
from streams.infra.url_guard import UrlGuard
from tests.support.feed_server import FeedServer

pytestmark = pytest.mark.integration

SPACING_S = 1.0


class ListSink:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, entry: FeedEntry) -> None:
        self.sent.append(entry.article.url)

    def flush(self) -> None:
        """Nothing is buffered."""

    def close(self) -> None:
        """Nothing to release."""


def _connector(feeds: list[FeedSpec], fetcher: Fetcher, store: StateStore, sink: ListSink) -> Connector:
    return Connector(feeds, store, fetcher, sink, ConnectorMetrics(CollectorRegistry()))


async def _first_request(server: FeedServer, timeout_s: float = 10.0) -> None:
    for _ in range(int(timeout_s / 0.01)):
        if server.requests:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no request reached the server")


async def test_a_feed_taken_away_mid_cycle_is_not_polled_by_that_cycle_and_nothing_of_it_is_committed(
    tmp_path: Path,
) -> None:
    with FeedServer().running() as server:
        paths = [f"/feeds/{n}" for n in range(4)]
        for path in paths:
            server.publish(path, 2)
        specs = [FeedSpec(url=server.url(path), name=path) for path in paths]
        store, sink = StateStore(tmp_path / "state.sqlite3"), ListSink()
        try:
            async with Fetcher(UrlGuard(allow_private_networks=True), FetchLimits(per_host_spacing_s=SPACING_S)) as f:
                connector = _connector(specs, f, store, sink)
                cycle = asyncio.create_task(connector.run_cycle(specs))
                await _first_request(server)  # the first feed's request is out; the others wait for the spacing
                connector.set_feeds(specs[:1])  # the rest moved to another connector
                report = await asyncio.wait_for(cycle, timeout=10)
                await asyncio.sleep(SPACING_S * 1.5)
        finally:
            store.close()
    assert [request.path for request in server.requests] == paths[:1]
    assert report.feeds == 1
    assert len(sink.sent) == 2
    reopened = StateStore(tmp_path / "state.sqlite3")
    try:
        polled = reopened.feed_states(spec.url for spec in specs)
    finally:
        reopened.close()
    assert polled[specs[0].url].last_success is not None
    assert all(polled[spec.url].last_success is None for spec in specs[1:])  # the next owner polls them afresh


async def test_a_host_taken_over_waits_one_spacing_before_its_first_request(tmp_path: Path) -> None:
    with FeedServer().running() as server:
        server.publish("/feeds/world", 1)
        spec = FeedSpec(url=server.url("/feeds/world"), name="World")
        store, sink = StateStore(tmp_path / "state.sqlite3"), ListSink()
        try:
            async with Fetcher(UrlGuard(allow_private_networks=True), FetchLimits(per_host_spacing_s=SPACING_S)) as f:
                connector = _connector([], f, store, sink)
                taken_over = time.monotonic()
                connector.set_feeds([spec])  # its previous owner may have polled it an instant ago
                report = await connector.run_cycle(connector.due_feeds())
        finally:
            store.close()
    assert report.fetched == 1
    assert [request.at - taken_over >= SPACING_S * 0.95 for request in server.requests] == [True]

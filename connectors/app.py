"""Wiring for ``wirewatch connect``: settings in, a running connector out.

Everything here is assembly (files, signals, the metrics server, the producer); the behaviour lives in
``connectors.core`` (pure), ``fetcher``, ``state`` and ``service``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry, start_http_server

from connectors.core.errors import ConnectorError, FeedListError
from connectors.core.feedlist import FeedRecord, FeedSpec, parse_feed_list
from connectors.core.feedstate import FeedStateRecord
from connectors.core.schedule import DEFAULT_POLICY, SchedulePolicy
from connectors.feeds import StatePublisher, feed_view
from connectors.fetcher import Fetcher, FetchLimits
from connectors.group import FeedGroup
from connectors.metrics import ConnectorMetrics
from connectors.pages import DEFAULT_DEADLINE, PageStage
from connectors.producer import KafkaArticleSink
from connectors.service import Connector, utc_now
from connectors.state import StateStore, default_state_path
from connectors.websub import WebSub
from streams.infra.kafka_topics import ensure_topics
from streams.infra.settings import Settings
from streams.infra.url_guard import UrlGuard


def active_specs(records: Mapping[str, FeedRecord]) -> list[FeedSpec]:
    """The feeds to poll: every record not paused, in a stable order."""
    return [record.spec() for _, record in sorted(records.items()) if not record.paused]


def load_feed_list(path: Path) -> tuple[FeedSpec, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise FeedListError(f"{path}: cannot read the feed list: {err}") from err
    return parse_feed_list(text, str(path))


@dataclass(frozen=True)
class ConnectOptions:
    feeds_path: Path | None
    """The feed list file; ``None``: the feeds topic, followed live (``wirewatch feed add``)."""
    once: bool = False
    allow_private_networks: bool = False
    state_path: Path | None = None
    metrics_port: int | None = None
    min_interval: timedelta | None = None
    page_deadline: timedelta = DEFAULT_DEADLINE
    websub_listen: tuple[str, int] | None = None
    """Where the WebSub callback server listens; ``None``: no WebSub, every feed is polled."""
    websub_callback_base: str | None = None
    """The URL hubs reach that server at (default ``http://HOST:PORT`` of ``websub_listen``)."""


def run_connect(settings: Settings, options: ConnectOptions, progress: Callable[[str], None]) -> int:
    """Run the connector until SIGTERM/SIGINT (or one pass with ``once``); return the exit code."""
    ensure_topics(settings)
    if options.feeds_path is not None:
        feeds: Sequence[FeedSpec] = load_feed_list(options.feeds_path)
        origin = str(options.feeds_path)
    elif options.once:
        feeds = active_specs(feed_view(settings).read())  # one pass over every feed, outside the group
        origin = f"topic {settings.topics.feeds} (one pass over all of them)"
    else:
        feeds = []  # the group assigns this connector its share of the feeds in a moment
        origin = f"topic {settings.topics.feeds} (this connector's share by host, followed live)"
    state_path = options.state_path or default_state_path(settings)
    metrics_port = settings.connector_metrics_port if options.metrics_port is None else options.metrics_port
    registry = CollectorRegistry()
    metrics = ConnectorMetrics(registry)
    if metrics_port:
        try:
            start_http_server(metrics_port, addr="0.0.0.0", registry=registry)  # noqa: S104 - scraped from elsewhere
        except OSError as err:
            reason = err.strerror or str(err)
            raise ConnectorError(
                f"metrics port {metrics_port}: {reason} (choose another with --metrics-port, or 0 for none)"
            ) from err
        progress(f"metrics on :{metrics_port}/metrics")
    policy = DEFAULT_POLICY
    if options.min_interval is not None:
        policy = replace(policy, min_interval=options.min_interval, failure_backoff=options.min_interval)
    guard = UrlGuard(allow_private_networks=options.allow_private_networks or settings.allow_private_networks)
    store = StateStore(state_path)
    sink = KafkaArticleSink(settings)
    progress(f"{len(feeds)} feeds from {origin}; state {state_path}; topic {sink.topic}")
    if options.websub_listen is not None and options.once:
        progress("--once polls: no WebSub subscriptions")
    try:
        follow = settings if options.feeds_path is None else None
        return asyncio.run(_connect(feeds, store, guard, sink, metrics, policy, options, progress, follow))
    finally:
        sink.close()
        store.close()


async def _connect(
    feeds: Sequence[FeedSpec],
    store: StateStore,
    guard: UrlGuard,
    sink: KafkaArticleSink,
    metrics: ConnectorMetrics,
    policy: SchedulePolicy,
    options: ConnectOptions,
    progress: Callable[[str], None],
    follow: Settings | None = None,
) -> int:
    """``follow``: the settings whose feeds topic gives the feed list, followed live (``None``: a file's)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with Fetcher(guard, FetchLimits()) as fetcher, contextlib.AsyncExitStack() as stack:
        websub = None
        if options.websub_listen is not None and not options.once:
            websub = WebSub(
                store, fetcher, metrics, options.websub_listen, lambda *push: connector.deliver_push(*push), utc_now,
                callback_base=options.websub_callback_base, on_demoted=lambda _url: connector.wake(),
            )  # fmt: skip
            try:
                await stack.enter_async_context(websub)
            except OSError as err:
                where = ":".join(map(str, options.websub_listen))
                raise ConnectorError(f"--websub-listen {where}: {err.strerror or err}") from err
            progress(f"WebSub callbacks on {websub.callback_base}/websub/…")
        pages = PageStage(
            store,
            fetcher,
            sink,
            metrics,
            utc_now,
            deadline=options.page_deadline,
            progress=progress,
        )
        publisher = StatePublisher(follow, store) if follow is not None and not options.once else None
        connector = Connector(
            feeds, store, fetcher, sink, metrics, policy=policy, pages=pages, on_committed=publisher, websub=websub
        )
        group = None
        if follow is not None and not options.once:
            shown: list[object] = []

            def changed(specs: list[FeedSpec], partitions: tuple[int, ...], states: list[FeedStateRecord]) -> None:
                if states and (adopted := connector.adopt(states)):
                    progress(f"took over the state of {adopted} feeds from their previous owners")
                share = ([s.url for s in specs], partitions)
                if share != (shown[-1] if shown else None):
                    held = ",".join(map(str, partitions)) or "none"
                    progress(f"feed list changed: {len(specs)} active feeds (feeds partitions {held})")
                    shown[:] = [share]
                connector.set_feeds(specs)

            def hand_over(specs: list[FeedSpec], partitions: tuple[int, ...], states: list[FeedStateRecord]) -> None:
                loop.call_soon_threadsafe(changed, specs, partitions, states)

            group = FeedGroup(follow, hand_over)
            group.start()
        try:
            cycles = await connector.run(stop, once=options.once, progress=progress)
        finally:
            if group is not None:
                await asyncio.to_thread(group.stop)
            if publisher is not None:
                publisher.close()
    progress(f"stopped after {cycles} cycles" if stop.is_set() else f"done after {cycles} cycles")
    return 0

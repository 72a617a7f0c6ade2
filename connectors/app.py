"""Wiring for ``wirewatch connect``: settings in, a running connector out.

Everything here is assembly (files, signals, the metrics server, the producer); the behaviour lives in
``connectors.core`` (pure), ``fetcher``, ``state`` and ``service``.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry, start_http_server

from connectors.core.errors import ConnectorError, FeedListError
from connectors.core.feedlist import FeedSpec, parse_feed_list
from connectors.core.schedule import DEFAULT_POLICY, SchedulePolicy
from connectors.fetcher import Fetcher, FetchLimits
from connectors.metrics import ConnectorMetrics
from connectors.pages import DEFAULT_DEADLINE, PageStage
from connectors.producer import KafkaArticleSink
from connectors.service import Connector, utc_now
from connectors.state import StateStore, default_state_path
from streams.infra.kafka_topics import ensure_topics
from streams.infra.settings import Settings
from streams.infra.url_guard import UrlGuard


def load_feed_list(path: Path) -> tuple[FeedSpec, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise FeedListError(f"{path}: cannot read the feed list: {err}") from err
    return parse_feed_list(text, str(path))


@dataclass(frozen=True)
class ConnectOptions:
    feeds_path: Path
    once: bool = False
    allow_private_networks: bool = False
    state_path: Path | None = None
    metrics_port: int | None = None
    min_interval: timedelta | None = None
    page_deadline: timedelta = DEFAULT_DEADLINE


def run_connect(settings: Settings, options: ConnectOptions, progress: Callable[[str], None]) -> int:
    """Run the connector until SIGTERM/SIGINT (or one pass with ``once``); return the exit code."""
    feeds = load_feed_list(options.feeds_path)
    state_path = options.state_path or default_state_path(settings)
    metrics_port = settings.connector_metrics_port if options.metrics_port is None else options.metrics_port
    registry = CollectorRegistry()
    metrics = ConnectorMetrics(registry, (spec.name for spec in feeds), {spec.name: spec.outlet for spec in feeds})
    if metrics_port:
        try:
            start_http_server(metrics_port, addr="0.0.0.0", registry=registry)  # noqa: S104 - scraped from elsewhere
        except OSError as err:
            reason = err.strerror or str(err)
            raise ConnectorError(
                f"metrics port {metrics_port}: {reason} (choose another with --metrics-port, or 0 for none)"
            ) from err
        progress(f"metrics on :{metrics_port}/metrics")
    ensure_topics(settings)
    policy = DEFAULT_POLICY
    if options.min_interval is not None:
        policy = replace(policy, min_interval=options.min_interval, failure_backoff=options.min_interval)
    guard = UrlGuard(allow_private_networks=options.allow_private_networks or settings.allow_private_networks)
    store = StateStore(state_path)
    sink = KafkaArticleSink(settings)
    progress(f"{len(feeds)} feeds from {options.feeds_path}; state {state_path}; topic {sink.topic}")
    try:
        return asyncio.run(_connect(feeds, store, guard, sink, metrics, policy, options, progress))
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
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with Fetcher(guard, FetchLimits()) as fetcher:
        pages = PageStage(
            store,
            fetcher,
            sink,
            metrics,
            utc_now,
            deadline=options.page_deadline,
            feed_names={spec.url: spec.name for spec in feeds},
            progress=progress,
        )
        connector = Connector(feeds, store, fetcher, sink, metrics, policy=policy, pages=pages)
        cycles = await connector.run(stop, once=options.once, progress=progress)
    progress(f"stopped after {cycles} cycles" if stop.is_set() else f"done after {cycles} cycles")
    return 0

"""The worker's and the connector's metrics: promtool-clean, every known series at 0 from the start, watch
series that follow the watch book, and the lag arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from connectors.core.schedule import FeedState
from connectors.metrics import UNLISTED_OUTLET, ConnectorMetrics
from streams.core.models import Article, Citation, Source, StateMedia
from streams.core.registry import Registries
from streams.infra.observability import group_lag
from streams.infra.registry_files import load_registries
from streams.worker.metrics import WorkerMetrics
from tests.support.promql import promtool
from tests.unit.pipeline.factories import tagged, watch


@pytest.fixture(scope="module")
def registries() -> Registries:
    return load_registries()


def _worker(registries: Registries) -> tuple[WorkerMetrics, CollectorRegistry]:
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry, "1.2.3")
    metrics.know_registries(registries)
    return metrics, registry


NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _text(registry: CollectorRegistry) -> str:
    return generate_latest(registry).decode()


def test_both_processes_pass_promtool_check_metrics(registries: Registries) -> None:
    worker, worker_registry = _worker(registries)
    worker.observe_watches({"w1": watch("w1")})
    worker.observe_lag({("ww.articles.raw", 0): 7})
    connector_registry = CollectorRegistry()
    ConnectorMetrics(connector_registry)
    for registry in (worker_registry, connector_registry):
        result = promtool("check", "metrics", stdin=generate_latest(registry))
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout + result.stderr == ""  # no lint warning either


def test_process_build_and_no_created_series(registries: Registries) -> None:
    _, registry = _worker(registries)
    text = _text(registry)
    assert 'wirewatch_worker_build_info{version="1.2.3"} 1.0' in text
    assert "process_resident_memory_bytes " in text
    assert "process_start_time_seconds " in text
    assert "python_info{" in text
    assert "_created" not in text


def test_topic_and_state_outlet_series_exist_at_zero_before_any_article(registries: Registries) -> None:
    _, registry = _worker(registries)
    text = _text(registry)
    for topic in registries.topics:
        assert f'wirewatch_topic_articles_total{{topic="{topic.id}"}} 0.0' in text
    kcna = registries.outlets.get("kcna")
    assert kcna is not None
    assert f'wirewatch_state_sourced_articles_total{{category="{kcna.category}",country="KP"}} 0.0' in text


def test_tagged_articles_count_per_topic_and_state_outlet(registries: Registries) -> None:
    metrics, registry = _worker(registries)
    kcna = Citation(id="kcna", name="KCNA", country="KP", category="state_controlled", role="cited")
    article = tagged("a1", "Kim Jong Un meets Vladimir Putin", topics=("summits_diplomacy", "military_cooperation"))
    article = article.model_copy(update={"state_media": StateMedia(cited=(kcna,), state_sourced=True)})
    metrics.observe_tagged(article)
    text = _text(registry)
    assert 'wirewatch_topic_articles_total{topic="summits_diplomacy"} 1.0' in text
    assert 'wirewatch_topic_articles_total{topic="military_cooperation"} 1.0' in text
    assert 'wirewatch_topic_articles_total{topic="elections"} 0.0' in text
    assert 'wirewatch_state_sourced_articles_total{category="state_controlled",country="KP"} 1.0' in text


def test_watch_series_follow_the_watch_book(registries: Registries) -> None:
    metrics, registry = _worker(registries)
    metrics.observe_watches({"w1": watch("w1"), "w2": watch("w2", entities=("Q7747", "Q15031"))})
    text = _text(registry)
    assert "wirewatch_watches 2.0" in text
    assert 'wirewatch_watch_info{desk="korea",entities="Q56226+Q7747",watch="w1"} 1.0' in text
    assert 'wirewatch_alerts_fired_total{desk="korea",watch="w2"} 0.0' in text
    assert 'wirewatch_pair_matches_total{desk="korea",watch="w1"} 0.0' in text

    metrics.observe_watches({"w2": watch("w2", entities=("Q7747", "Q15031"), desk="china")})
    text = _text(registry)
    assert "wirewatch_watches 1.0" in text
    assert 'watch="w1"' not in text  # removed watch: every per-watch series gone
    assert 'desk="korea"' not in text  # moved to another desk: the old series gone
    assert 'wirewatch_watch_info{desk="china",entities="Q15031+Q7747",watch="w2"} 1.0' in text
    assert 'wirewatch_alerts_fired_total{desk="china",watch="w2"} 0.0' in text


def test_lag_series_are_replaced_by_each_measurement(registries: Registries) -> None:
    metrics, registry = _worker(registries)
    metrics.observe_lag({("ww.articles.raw", 0): 5, ("ww.articles.raw", 1): 0})
    metrics.observe_lag({("ww.articles.raw", 0): 2})
    text = _text(registry)
    assert 'wirewatch_consumer_lag_messages{partition="0",topic="ww.articles.raw"} 2.0' in text
    assert 'partition="1"' not in text


@pytest.mark.parametrize(
    ("end", "committed", "start", "expected"),
    [
        ({("t", 0): 10}, {("t", 0): 4}, {("t", 0): 0}, {("t", 0): 6}),
        ({("t", 0): 10}, {}, {("t", 0): 3}, {("t", 0): 7}),  # never committed: from the first retained record
        ({("t", 0): 10}, {("t", 0): -1}, {("t", 0): 0}, {("t", 0): 10}),  # "no offset" as the broker says it
        ({("t", 0): 10}, {("t", 0): 10}, {("t", 0): 0}, {("t", 0): 0}),
        ({("t", 0): 5}, {("t", 0): 8}, {("t", 0): 0}, {("t", 0): 0}),  # truncated topic: never negative
    ],
)
def test_group_lag(
    end: dict[tuple[str, int], int],
    committed: dict[tuple[str, int], int],
    start: dict[tuple[str, int], int],
    expected: dict[tuple[str, int], int],
) -> None:
    assert group_lag(end, committed, start) == expected


def test_connector_counts_articles_by_outlet_and_feeds_by_health_never_by_feed() -> None:
    registry = CollectorRegistry()
    metrics = ConnectorMetrics(registry)
    metrics.add_outlets(["yonhap", None])
    source = Source(feed_url="https://example.org/rss", name="Example", domain="example.org")
    articles = [
        Article(id=f"a{n}", url=f"https://example.org/{n}", title="t", fetched=NOW, source=source.model_copy(
            update={"outlet": outlet}))
        for n, outlet in enumerate(["kcna", "kcna", None])
    ]  # fmt: skip
    metrics.produced(articles)
    day = timedelta(days=1)
    states = [
        FeedState(url="https://a.example/ok", last_polled=NOW, last_success=NOW),
        FeedState(url="https://a.example/failing", last_polled=NOW, last_success=NOW - day, consecutive_failures=2),
        FeedState(url="https://a.example/stale", last_polled=NOW - 2 * day, last_success=NOW - 2 * day),
        FeedState(url="https://a.example/new"),
        FeedState(url="https://a.example/paused", paused_reason="gone", last_polled=NOW),
    ]
    metrics.count_health(states, NOW)
    text = _text(registry)
    assert 'wirewatch_connector_articles_produced_total{outlet="yonhap"} 0.0' in text
    assert 'wirewatch_connector_articles_produced_total{outlet="kcna"} 2.0' in text
    assert f'wirewatch_connector_articles_produced_total{{outlet="{UNLISTED_OUTLET}"}} 1.0' in text
    for health in ("ok", "failing", "stale", "new", "paused"):
        assert f'wirewatch_connector_feeds{{health="{health}"}} 1.0' in text
    assert "feed=" not in text
    assert "wirewatch_connector_build_info{version=" in text

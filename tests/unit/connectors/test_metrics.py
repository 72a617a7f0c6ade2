"""Connector metrics: prefixed, base units, every known series present at zero from the start."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from connectors.core.fulltext import PAGE_OUTCOMES
from connectors.core.schedule import FAILURE_REASONS, FEED_HEALTH
from connectors.metrics import FETCH_OUTCOMES, ConnectorMetrics


def test_known_series_exist_at_zero_before_anything_happens() -> None:
    registry = CollectorRegistry()
    ConnectorMetrics(registry)
    text = generate_latest(registry).decode()
    for outcome in FETCH_OUTCOMES:
        assert f'wirewatch_connector_fetches_total{{outcome="{outcome}"}} 0.0' in text
    for reason in FAILURE_REASONS:
        assert f'wirewatch_connector_errors_total{{reason="{reason}"}} 0.0' in text
    for health in FEED_HEALTH:
        assert f'wirewatch_connector_feeds{{health="{health}"}} 0.0' in text
    assert "wirewatch_connector_duplicates_skipped_total 0.0" in text
    assert "wirewatch_connector_fetch_duration_seconds_bucket" in text
    assert "wirewatch_connector_commit_window_seconds_count 0.0" in text
    for outcome in PAGE_OUTCOMES:
        assert f'wirewatch_page_fetches_total{{outcome="{outcome}"}} 0.0' in text
    assert "wirewatch_page_queue 0.0" in text


def test_every_metric_is_prefixed_and_no_label_carries_a_url() -> None:
    registry = CollectorRegistry()
    ConnectorMetrics(registry)
    for family in registry.collect():
        if family.name.startswith(("process_", "python_")):
            continue  # the standard process collectors
        assert family.name.startswith(("wirewatch_connector_", "wirewatch_page_", "wirewatch_websub_"))
        for sample in family.samples:
            assert set(sample.labels) <= {"outcome", "reason", "health", "outlet", "version", "le", "mode", "status"}

"""Observability end to end: a real connector and worker run the demo's feeds to alerts while a real Prometheus
scrapes them with the project's config and rules. Every dashboard panel must return data through Prometheus's
HTTP API, every expression must name only metrics the processes export, every rule must evaluate cleanly, and
both ``/metrics`` pages must pass ``promtool check metrics``."""

from __future__ import annotations

import json
import re

import pytest

from streams.tools.dashboards import BOARDS, dashboard_path
from tests.integration.observability.conftest import Stack
from tests.support.promql import (
    PROMETHEUS_SERIES,
    concrete,
    dashboard_queries,
    exported_names,
    metric_names,
    promtool,
    recorded_names,
    rules,
)

pytestmark = pytest.mark.integration

PANELS = [(path.stem, title, expr) for path in map(dashboard_path, BOARDS) for title, expr in dashboard_queries(path)]


@pytest.fixture(scope="module")
def running(stack: Stack) -> Stack:
    """The stack once an alert fired and every scraped series has had time to reach Prometheus: the lag
    probe runs every 15 s, and rate() needs a few scrapes after the alert."""
    stack.wait_for("sum(wirewatch_alerts_fired_total) > 0")
    stack.wait_for("wirewatch_consumer_lag_messages")
    stack.wait_for('count_over_time(wirewatch_alerts_fired_total{desk="korea"}[1m]) >= 5')
    return stack


def test_both_processes_are_scraped(running: Stack) -> None:
    up = {sample["metric"]["job"]: sample["value"][1] for sample in running.query("up")}
    assert up == {"wirewatch-connector": "1", "wirewatch-worker": "1"}


def test_every_process_passes_promtool_check_metrics(running: Stack) -> None:
    for base in (running.connector_url, running.worker_url):
        result = promtool("check", "metrics", stdin=running.metrics_page(base).encode())
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout + result.stderr == "", f"{base}: {result.stdout}{result.stderr}"


def test_dashboards_and_rules_name_only_metrics_the_processes_export(running: Stack) -> None:
    exported = exported_names(running.metrics_page(running.connector_url))
    exported |= exported_names(running.metrics_page(running.worker_url))
    known = exported | PROMETHEUS_SERIES
    for board, title, expr in PANELS:
        assert metric_names(expr) <= known, f"{board} / {title}: {metric_names(expr) - known}"
    for board in BOARDS:
        for variable in json.loads(dashboard_path(board).read_text())["templating"].get("list", []):
            assert set(re.findall(r"label_values\((\w+)", variable["query"])) <= exported, variable["name"]
    recorded = recorded_names()
    for rule in rules():
        names = metric_names(rule["expr"])
        assert names <= known | recorded, f"{rule.get('alert') or rule['record']}: {names - known - recorded}"


@pytest.mark.parametrize(("board", "title", "expr"), PANELS, ids=[f"{b}:{t}" for b, t, _ in PANELS])
def test_every_dashboard_panel_returns_data(running: Stack, board: str, title: str, expr: str) -> None:
    assert running.query(concrete(expr)), f"{board} / {title}: no data for {concrete(expr)}"


def test_the_panels_show_the_pipeline_that_ran(running: Stack) -> None:
    """Not only series, but the right values: the demo's feeds alert both desks, KCNA's feed is ingested
    under its outlet, and the lag covers every partition of the article and pairs topics."""
    fired = {
        s["metric"]["desk"]: float(s["value"][1]) for s in running.query("sum by (desk) (wirewatch_alerts_fired_total)")
    }
    assert fired["korea"] >= 1
    assert fired["china"] >= 1
    outlets = {
        s["metric"].get("outlet")
        for s in running.query("sum by (outlet) (wirewatch_connector_articles_produced_total) > 0")
    }
    assert {"kcna", "unknown"} <= outlets
    lag = running.query("wirewatch_consumer_lag_messages")
    topics = running.settings.topics
    assert {(s["metric"]["topic"], s["metric"]["partition"]) for s in lag} >= {
        (topic, partition) for topic in (topics.articles_raw, topics.pairs) for partition in "01"
    }
    state = {s["metric"]["country"] for s in running.query("wirewatch_state_sourced_articles_total > 0")}
    assert "KP" in state
    latency = running.query("wirewatch_alert_fetch_latency_seconds_count")
    assert float(latency[0]["value"][1]) >= 2


def test_every_rule_evaluates_without_error(running: Stack) -> None:
    running.wait_for("topic:wirewatch_consumer_lag_messages:sum")
    groups = running.api("rules")["groups"]
    evaluated = [rule for group in groups for rule in group["rules"]]
    assert len(evaluated) == len(rules())
    for rule in evaluated:
        assert rule["health"] == "ok", rule
    firing = [rule["name"] for rule in evaluated if rule["type"] == "alerting" and rule["state"] != "inactive"]
    assert firing == []  # a healthy pipeline pages nobody
    outlets = running.wait_for('outlet:wirewatch_connector_articles_produced:rate5m{outlet="kcna"}')
    assert outlets

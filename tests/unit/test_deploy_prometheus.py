"""deploy/prometheus: the config and rule files are valid for promtool, and the rules pass their unit tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.promql import PROMETHEUS_DIR, RULE_FILES, promtool, rules

EXPECTED_ALERTS = {
    "WirewatchWorkerDown",
    "WirewatchConnectorDown",
    "WirewatchFeedStale",
    "WirewatchIngestStopped",
    "WirewatchFeedsFailing",
    "WirewatchConsumerLagGrowing",
    "WirewatchDeadLettersRising",
    "WirewatchAlertLatencyBudgetBurn",
    "WirewatchAlertLatencyBudgetBurnSlow",
}


def test_the_scrape_config_and_its_rule_files_are_valid() -> None:
    result = promtool("check", "config", str(PROMETHEUS_DIR / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(RULE_FILES)} rule files found" in result.stdout


def test_the_rule_files_pass_promtool_lint() -> None:
    result = promtool("check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_pass_their_promtool_unit_tests() -> None:
    tests = sorted((PROMETHEUS_DIR / "tests").glob("*.test.yml"))
    assert tests
    result = promtool("test", "rules", *map(str, tests))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_the_issue_asks_for_exists_and_is_tested() -> None:
    alerts = {rule["alert"] for rule in rules() if "alert" in rule}
    assert alerts == EXPECTED_ALERTS
    tested = "\n".join(path.read_text() for path in (PROMETHEUS_DIR / "tests").glob("*.test.yml"))
    for alert in alerts:
        assert f"alertname: {alert}\n        exp_alerts:\n          - exp_labels" in tested, f"{alert} never fires"


@pytest.mark.parametrize("rule", [r for r in rules() if "alert" in r], ids=lambda r: r["alert"])
def test_every_alert_says_how_urgent_it_is_and_what_happened(rule: dict[str, Any]) -> None:
    assert rule["labels"]["severity"] in {"page", "ticket"}
    assert {"summary", "description"} <= set(rule["annotations"])

"""Grafana dashboards as code: the committed JSON is the generated JSON, every query parses, and every panel
reads the provisioned data source. (That the queries name only exported metrics and return data is checked
against real processes and a real Prometheus in tests/integration/observability.)"""

from __future__ import annotations

import json
from pathlib import Path

import promql_parser
import pytest
import yaml

from streams.cli.main import main
from streams.tools.dashboards import (
    BOARDS,
    DASHBOARD_DIR,
    DATASOURCE,
    dashboard_path,
    stale_dashboards,
    write_dashboards,
)
from tests.support.promql import REPO, concrete, dashboard_queries, metric_names

PROVISIONING = REPO / "deploy" / "grafana" / "provisioning"
FILES = [dashboard_path(board) for board in BOARDS]


def test_the_committed_dashboards_are_the_generated_ones() -> None:
    assert sorted(p.name for p in DASHBOARD_DIR.glob("*.json")) == sorted(p.name for p in FILES)
    assert stale_dashboards() == []


def test_check_reports_a_hand_edited_dashboard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    written = write_dashboards(tmp_path)
    assert stale_dashboards(tmp_path) == []
    board = json.loads(written[0].read_text())
    board["panels"][1]["title"] = "edited in the UI"
    written[0].write_text(json.dumps(board))
    assert stale_dashboards(tmp_path) == [written[0].name]
    with pytest.raises(SystemExit) as exit_info:
        main(["dashboards", "--check"])
    assert exit_info.value.code == 0
    assert "dashboards up to date" in capsys.readouterr().out


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_query_parses_and_selects_a_metric(path: Path) -> None:
    queries = dashboard_queries(path)
    assert len(queries) >= 8
    for title, expr in queries:
        promql_parser.parse(concrete(expr))
        assert metric_names(expr), f"{title}: selects no metric"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_panels_read_the_provisioned_data_source_with_unique_ids(path: Path) -> None:
    board = json.loads(path.read_text())
    provisioned = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert [source["uid"] for source in provisioned] == [DATASOURCE.uid]
    panels = [panel for panel in board["panels"] if panel["type"] != "row"]
    assert all(panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE.uid} for panel in panels)
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels:
        refs = [target["refId"] for target in panel["targets"]]
        assert refs, panel["title"]
        assert len(refs) == len(set(refs)), panel["title"]


def test_the_operations_and_desk_dashboards_show_what_the_issue_asks_for() -> None:
    titles = {path.stem: " | ".join(title for title, _ in dashboard_queries(path)).lower() for path in FILES}
    for wanted in ("by outlet", "fetch outcomes", "lag", "latency", "dead letters", "processes up"):
        assert wanted in titles["wirewatch-operations"], wanted
    for wanted in ("alerts per watch", "state-sourced share by country", "pairs seen most", "topics trend"):
        assert wanted in titles["wirewatch-desk"], wanted

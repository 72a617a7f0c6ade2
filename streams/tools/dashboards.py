"""Grafana dashboards as code: ``wirewatch dashboards`` writes ``deploy/grafana/dashboards/*.json``.

Each dashboard is a list of rows of ``Chart`` specs (title, kind, unit, PromQL queries); ``build`` turns them into
Grafana 11.6 dashboard models with grafana-foundation-sdk, so a panel is a few lines here rather than a hundred
of hand-edited JSON. The committed files must equal the generated ones (``--check``; a test also compares them
and checks every expression against the metrics the processes really export).

Queries use only what the connector and the workers export (plus Prometheus's own ``up``), never recording
rules, so the dashboards work on any Prometheus that scrapes wirewatch, rule files loaded or not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grafana_foundation_sdk.builders import bargauge, common, dashboard, prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import VizOrientation
from grafana_foundation_sdk.models.dashboard import DashboardCursorSync, DataSourceRef, VariableRefresh

REPO = Path(__file__).resolve().parents[2]
DASHBOARD_DIR = REPO / "deploy" / "grafana" / "dashboards"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="wirewatch-prometheus")
"""The data source that ``deploy/grafana/provisioning/datasources/prometheus.yml`` provisions (same uid)."""

PROCESSES = 'job=~"wirewatch-.*"'
RATE = "$__rate_interval"

ChartKind = Literal["timeseries", "stat", "bargauge", "table"]


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Chart:
    title: str
    kind: ChartKind
    queries: tuple[Query, ...]
    unit: str = "short"
    description: str = ""
    width: int = 12
    height: int = 8


@dataclass(frozen=True)
class Board:
    uid: str
    title: str
    description: str
    rows: tuple[tuple[str, tuple[Chart, ...]], ...]
    desk_variable: bool = False
    tags: tuple[str, ...] = field(default=("wirewatch",))


def _lag_by_topic() -> str:
    # Every worker reports the whole group's lag: take one value per partition before summing.
    return "sum by (topic) (max by (topic, partition) (wirewatch_consumer_lag_messages))"


def _quantiles(metric: str, what: str) -> tuple[Query, ...]:
    return tuple(
        Query(f"histogram_quantile({q}, sum by (le) (rate({metric}_bucket[{RATE}])))", f"p{round(q * 100)} {what}")
        for q in (0.5, 0.95, 0.99)
    )


OPERATIONS = Board(
    uid="wirewatch-operations",
    title="wirewatch — operations",
    description="Ingest, fetch outcomes, lag, alert latency, dead letters and process health.",
    rows=(
        (
            "Ingest",
            (
                Chart(
                    "New articles by outlet",
                    "timeseries",
                    (
                        Query(
                            "sum by (outlet) (rate(wirewatch_connector_articles_produced_total[$__rate_interval]))",
                            "{{outlet}}",
                        ),
                    ),
                    unit="ops",
                    description="Articles produced to Kafka per second, by the outlet the feed list names.",
                ),
                Chart(
                    "Fetch outcomes",
                    "timeseries",
                    (Query(f"sum by (outcome) (rate(wirewatch_connector_fetches_total[{RATE}]))", "{{outcome}}"),),
                    unit="ops",
                    description="fetched: new content; not_modified: 304; unchanged: same body hash; failed.",
                ),
                Chart(
                    "Failed polls by reason",
                    "timeseries",
                    (Query(f"sum by (reason) (rate(wirewatch_connector_errors_total[{RATE}]))", "{{reason}}"),),
                    unit="ops",
                ),
                Chart(
                    "Feeds by health",
                    "timeseries",
                    (Query("sum by (health) (wirewatch_connector_feeds)", "{{health}}"),),
                    description="ok; failing: the last poll failed; stale: no success for over 26 h; paused; new. "
                    "`wirewatch feed list --health` names the feeds.",
                ),
                Chart(
                    "Paused feeds",
                    "stat",
                    (Query('sum(wirewatch_connector_feeds{health="paused"})'),),
                    width=6,
                ),
                Chart(
                    "Fetch duration",
                    "timeseries",
                    _quantiles("wirewatch_connector_fetch_duration_seconds", "fetch"),
                    unit="s",
                    width=18,
                ),
                Chart(
                    "Article pages by outcome",
                    "timeseries",
                    (Query(f"sum by (outcome) (rate(wirewatch_page_fetches_total[{RATE}]))", "{{outcome}}"),),
                    unit="ops",
                    description="extracted: the page's text is the article's content; every other outcome still "
                    "produces the article, with the feed's text.",
                ),
                Chart(
                    "Page wait (queued to produced)",
                    "timeseries",
                    _quantiles("wirewatch_page_wait_seconds", "wait"),
                    unit="s",
                    width=18,
                ),
                Chart(
                    "Articles waiting for their pages",
                    "stat",
                    (Query("sum(wirewatch_page_queue)"),),
                    width=6,
                ),
                Chart(
                    "WebSub pushes by outcome",
                    "timeseries",
                    (Query(f"sum by (outcome) (rate(wirewatch_websub_pushes_total[{RATE}]))", "{{outcome}}"),),
                    unit="ops",
                    description="accepted: produced like a poll's entries; bad_signature, unknown_callback, "
                    "too_large, not_a_feed: refused and counted; failed: not committed, the hub sends it again.",
                ),
                Chart(
                    "WebSub subscriptions by status",
                    "timeseries",
                    (Query("sum by (status) (wirewatch_websub_subscriptions)", "{{status}}"),),
                    description="active ones are pushed (and polled every 3 h as a safety net); requested, "
                    "unsubscribing and failed ones are polled on their usual schedule.",
                ),
            ),
        ),
        (
            "Pipeline",
            (
                Chart(
                    "Consumer lag by topic",
                    "timeseries",
                    (Query(_lag_by_topic(), "{{topic}}"),),
                    description="Records not yet processed by the worker group (end offset - committed offset).",
                ),
                Chart(
                    "Messages processed by stage",
                    "timeseries",
                    (Query(f"sum by (stage) (rate(wirewatch_messages_processed_total[{RATE}]))", "{{stage}}"),),
                    unit="ops",
                ),
                Chart(
                    "Alert latency: fetch → alert",
                    "timeseries",
                    _quantiles("wirewatch_alert_fetch_latency_seconds", "fetch → alert"),
                    unit="s",
                    description="SLO: 95 % of alerts within 60 s of the connector fetching the article.",
                ),
                Chart(
                    "Alert latency: publication → alert",
                    "timeseries",
                    _quantiles("wirewatch_alert_publication_latency_seconds", "publication → alert"),
                    unit="s",
                    description="Includes the time a feed took to list the article and the poll interval.",
                ),
                Chart(
                    "Stage duration (p95)",
                    "timeseries",
                    (
                        Query(
                            "histogram_quantile(0.95, sum by (stage, le) "
                            f"(rate(wirewatch_stage_duration_seconds_bucket[{RATE}])))",
                            "{{stage}}",
                        ),
                    ),
                    unit="s",
                ),
                Chart(
                    "Dead letters",
                    "timeseries",
                    (
                        Query(
                            f"sum by (stage, reason) (rate(wirewatch_deadletters_total[{RATE}]))",
                            "{{stage}} {{reason}}",
                        ),
                    ),
                    unit="ops",
                    description="Messages a stage could not process, kept whole on the dead-letter topic.",
                ),
                Chart(
                    "Duplicates skipped",
                    "timeseries",
                    (
                        Query(f"sum(rate(wirewatch_connector_duplicates_skipped_total[{RATE}]))", "connector"),
                        Query(f"sum(rate(wirewatch_duplicate_articles_total[{RATE}]))", "worker"),
                    ),
                    unit="ops",
                ),
            ),
        ),
        (
            "Processes",
            (
                Chart("Processes up", "stat", (Query(f"up{{{PROCESSES}}}", "{{job}} {{instance}}"),), width=8),
                Chart("Watches loaded", "stat", (Query("max(wirewatch_watches)"),), width=4),
                Chart(
                    "Uptime",
                    "stat",
                    (Query(f"time() - process_start_time_seconds{{{PROCESSES}}}", "{{instance}}"),),
                    unit="s",
                ),
                Chart(
                    "CPU",
                    "timeseries",
                    (Query(f"rate(process_cpu_seconds_total{{{PROCESSES}}}[{RATE}])", "{{instance}}"),),
                    unit="percentunit",
                ),
                Chart(
                    "Resident memory",
                    "timeseries",
                    (Query(f"process_resident_memory_bytes{{{PROCESSES}}}", "{{instance}}"),),
                    unit="bytes",
                ),
                Chart(
                    "Versions",
                    "table",
                    (
                        Query("count by (version) (wirewatch_worker_build_info)", "worker {{version}}"),
                        Query("count by (version) (wirewatch_connector_build_info)", "connector {{version}}"),
                    ),
                    width=24,
                    height=6,
                ),
            ),
        ),
    ),
)

DESK_FILTER = 'desk=~"$desk"'

DESK = Board(
    uid="wirewatch-desk",
    title="wirewatch — desks",
    description="Alerts per watch, the watched pairs seen most, state-media sourcing by country and topic trends.",
    desk_variable=True,
    rows=(
        (
            "Alerts",
            (
                Chart(
                    "Alerts per watch",
                    "timeseries",
                    (
                        Query(
                            f"sum by (desk, watch) (increase(wirewatch_alerts_fired_total{{{DESK_FILTER}}}[{RATE}]))",
                            "{{desk}} {{watch}}",
                        ),
                    ),
                    description="New stories alerted (re-fires after the cooldown included, corroborations not).",
                ),
                Chart(
                    "Watched pairs seen most",
                    "bargauge",
                    (
                        Query(
                            "topk(10, sum by (desk, watch, entities) ("
                            f"increase(wirewatch_pair_matches_total{{{DESK_FILTER}}}[$__range])"
                            " * on (desk, watch) group_left (entities)"
                            " max by (desk, watch, entities) (wirewatch_watch_info)))",
                            "{{desk}}: {{entities}}",
                        ),
                    ),
                    description="Articles in which both entities of a watch appeared (within its scope).",
                ),
                Chart(
                    "Articles per watch this hour",
                    "bargauge",
                    (
                        Query(
                            f"max by (desk, watch) (wirewatch_watch_articles_current_hour{{{DESK_FILTER}}})",
                            "{{desk}} {{watch}}",
                        ),
                    ),
                ),
                Chart(
                    "Corroborating articles",
                    "timeseries",
                    (
                        Query(
                            "sum by (desk, watch) "
                            f"(increase(wirewatch_alert_corroborations_total{{{DESK_FILTER}}}[{RATE}]))",
                            "{{desk}} {{watch}}",
                        ),
                    ),
                    description="Articles that joined a story already alerted instead of alerting again.",
                ),
                Chart(
                    "Surges per watch",
                    "timeseries",
                    (
                        Query(
                            f"sum by (desk, watch) (increase(wirewatch_surges_fired_total{{{DESK_FILTER}}}[{RATE}]))",
                            "{{desk}} {{watch}}",
                        ),
                    ),
                    description="Surge alerts: a watch's articles growing fast against its recent days (watches "
                    "that opted in).",
                ),
                Chart(
                    "Publication → alert",
                    "timeseries",
                    _quantiles("wirewatch_alert_publication_latency_seconds", "publication → alert"),
                    unit="s",
                    description="From the article's feed date (its first fetch when it has none) to its alert: "
                    "how late a desk learns of a story, poll interval included.",
                ),
            ),
        ),
        (
            "Sources and topics",
            (
                Chart(
                    "State-sourced share by country",
                    "bargauge",
                    (
                        Query(
                            "sum by (country) (increase(wirewatch_state_sourced_articles_total[$__range]))"
                            " / scalar(sum(increase(wirewatch_articles_tagged_total[$__range])))",
                            "{{country}}",
                        ),
                    ),
                    unit="percentunit",
                    description="Tagged articles published by or citing state media of each country.",
                ),
                Chart(
                    "State-sourced articles by category",
                    "timeseries",
                    (
                        Query(
                            f"sum by (category) (rate(wirewatch_state_sourced_articles_total[{RATE}]))",
                            "{{category}}",
                        ),
                    ),
                    unit="ops",
                ),
                Chart(
                    "Topics trend",
                    "timeseries",
                    (Query("sum by (topic) (increase(wirewatch_topic_articles_total[1h]))", "{{topic}}"),),
                    description="Tagged articles per topic in the hour before each point.",
                    width=24,
                ),
                Chart(
                    "Actors and topics per article (mean)",
                    "timeseries",
                    (
                        Query(
                            f"sum(rate(wirewatch_article_actors_sum[{RATE}]))"
                            f" / sum(rate(wirewatch_article_actors_count[{RATE}]))",
                            "actors",
                        ),
                        Query(
                            f"sum(rate(wirewatch_article_topics_sum[{RATE}]))"
                            f" / sum(rate(wirewatch_article_topics_count[{RATE}]))",
                            "topics",
                        ),
                    ),
                    width=24,
                ),
            ),
        ),
    ),
)

BOARDS = (OPERATIONS, DESK)


Panel = timeseries.Panel | stat.Panel | bargauge.Panel | table.Panel


def _last_value() -> common.ReduceDataOptions:
    return common.ReduceDataOptions().calcs(["lastNotNull"]).values(False)


def _new_panel(kind: ChartKind) -> Panel:
    if kind == "timeseries":
        return timeseries.Panel()
    if kind == "stat":
        return stat.Panel().reduce_options(_last_value())
    if kind == "bargauge":
        return bargauge.Panel().reduce_options(_last_value()).orientation(VizOrientation.HORIZONTAL)
    return table.Panel()


def _panel(chart: Chart, panel_id: int) -> Panel:
    panel = _new_panel(chart.kind)
    panel.id(panel_id).title(chart.title).datasource(DATASOURCE).unit(chart.unit).span(chart.width).height(chart.height)
    if chart.description:
        panel.description(chart.description)
    for ref_id, query in zip("ABCDEFGH", chart.queries, strict=False):
        target = prometheus.Dataquery().expr(query.expr).legend_format(query.legend or "__auto").ref_id(ref_id)
        if chart.kind != "timeseries":
            target.instant()
        panel.with_target(target)
    return panel


def build(board: Board) -> dict[str, Any]:
    """The dashboard model as plain JSON data (what Grafana's provisioning reads)."""
    builder = (
        dashboard.Dashboard(board.title)
        .uid(board.uid)
        .description(board.description)
        .tags(list(board.tags))
        .refresh("1m")
        .time("now-6h", "now")
        .timezone("utc")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .readonly()
    )
    if board.desk_variable:
        builder = builder.with_variable(
            dashboard.QueryVariable("desk")
            .label("Desk")
            .datasource(DATASOURCE)
            .query("label_values(wirewatch_watch_info, desk)")
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
            .multi(True)
            .include_all(True)
            .all_value(".*")
        )
    panel_id = 0
    for title, charts in board.rows:
        panel_id += 1
        builder = builder.with_row(dashboard.Row(title).id(panel_id))
        for chart in charts:
            panel_id += 1
            builder = builder.with_panel(_panel(chart, panel_id))
    data: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    return data


def render(board: Board) -> str:
    return json.dumps(build(board), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def dashboard_path(board: Board, directory: Path = DASHBOARD_DIR) -> Path:
    return directory / f"{board.uid}.json"


def write_dashboards(directory: Path = DASHBOARD_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for board in BOARDS:
        path = dashboard_path(board, directory)
        path.write_text(render(board), encoding="utf-8")
        written.append(path)
    return written


def stale_dashboards(directory: Path = DASHBOARD_DIR) -> list[str]:
    """Names of the committed dashboard files that differ from (or lack) the generated ones."""
    stale = []
    for board in BOARDS:
        path = dashboard_path(board, directory)
        if not path.is_file() or path.read_text(encoding="utf-8") != render(board):
            stale.append(path.name)
    return stale

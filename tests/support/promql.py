"""PromQL in the deploy files: the expressions of dashboards and rules, and the metric names they read.

Names come from the parsed expression (promql-parser, the Rust parser Greptime maintains), not from a regular
expression, so label names, function names and strings never pass for metrics.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import yaml
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
RULE_FILES = sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))

GRAFANA_VALUES = {"$__rate_interval": "1m", "$__range": "1h", "$desk": ".*"}
"""What Grafana would put in place of the dashboards' variables, for queries made outside Grafana."""

PROMETHEUS_SERIES = frozenset({"up", "ALERTS", "ALERTS_FOR_STATE"})
"""Series Prometheus itself writes for every target or alert."""


def concrete(expr: str) -> str:
    for variable, value in sorted(GRAFANA_VALUES.items(), key=lambda item: -len(item[0])):
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"a dashboard variable without a test value in {expr!r}"
    return expr


def metric_names(expr: str) -> set[str]:
    """Every metric name an expression selects (``{__name__="x"}`` included)."""
    names: set[str] = set()
    pending: list[Any] = [promql_parser.parse(concrete(expr))]
    while pending:
        node = pending.pop()
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            names.update(re.findall(r'__name__="([^"]+)"', str(node.matchers)))
        elif isinstance(node, promql_parser.MatrixSelector):
            pending.append(node.vector_selector)
        elif isinstance(node, promql_parser.Call):
            pending.extend(node.args)
        elif isinstance(node, promql_parser.BinaryExpr):
            pending.extend((node.lhs, node.rhs))
        elif isinstance(node, promql_parser.AggregateExpr):
            pending.append(node.expr)
            if node.param is not None:
                pending.append(node.param)
        elif isinstance(node, (promql_parser.ParenExpr, promql_parser.UnaryExpr, promql_parser.SubqueryExpr)):
            pending.append(node.expr)
    return names


def dashboard_queries(path: Path) -> list[tuple[str, str]]:
    """(panel title, expression) of every target of a generated dashboard file."""
    board = json.loads(path.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in board["panels"]
        for target in panel.get("targets", ())
        if "expr" in target
    ]


def rules() -> list[dict[str, Any]]:
    return [
        rule for path in RULE_FILES for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]
    ]


def recorded_names() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def exported_names(exposition: str) -> set[str]:
    """Names of the samples in a ``/metrics`` page (``_bucket``, ``_count``, ``_total``… as scraped)."""
    return {sample.name for family in text_string_to_metric_families(exposition) for sample in family.samples}


def promtool(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run Debian's promtool (``make system-deps`` installs it); fails the test when it is missing."""
    binary = shutil.which("promtool")
    assert binary, "promtool not found: run `make system-deps` (Debian package prometheus)"
    return subprocess.run(
        [binary, *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

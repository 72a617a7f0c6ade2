"""The desk API's alert store: filters by kind (pair or surge) inside the query, so pages stay whole."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from streams.api.store import AlertStore
from streams.core.models import Alert, SurgeFigures
from tests.support.desks import make_alert

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _surge(alert: Alert) -> Alert:
    figures = SurgeFigures(window_s=900, window_start=NOW, count=9, expected=0.4, p_value=1e-9, top_stories=())
    return alert.model_copy(update={"kind": "surge", "surge": figures})


def test_alerts_are_listed_by_kind_and_version_1_alerts_are_pairs(tmp_path: Path) -> None:
    store = AlertStore(tmp_path / "alerts.sqlite3")
    try:
        pairs = [make_alert("alpha", n) for n in range(3)]
        surges = [_surge(make_alert("alpha", 10 + n)) for n in range(2)]
        old = make_alert("alpha", 20).to_wire() | {"schema_version": 1}
        old.pop("kind")
        records = [(0, n, a.to_json()) for n, a in enumerate([*pairs, *surges])]
        store.ingest([*records, (0, 99, Alert.from_wire(old).to_json())], NOW.timestamp())
        listed = {
            kind: [Alert.from_wire(row.body).alert_id for row in store.query(
                "alpha", since=None, until=None, watch_id=None, before=None, limit=2, kind=kind)]
            for kind in ("pair", "surge", None)
        }  # fmt: skip
    finally:
        store.close()
    assert listed["surge"] == [a.alert_id for a in reversed(surges)]
    assert listed["pair"] == [old["alert_id"], pairs[-1].alert_id]  # a page of 2, newest first, no surge in it
    assert len(listed[None]) == 2

"""The broker going away and the connector crashing: nothing lost on the way in, no alert missing."""

from __future__ import annotations

import pytest

from streams.reliability.broker import BrokerRestartSpec, run_broker_restart
from streams.reliability.connector import ConnectorCrashSpec, run_connector_crash
from streams.reliability.harness import Bench

pytestmark = [pytest.mark.reliability, pytest.mark.integration]


def test_connector_and_worker_recover_by_themselves_from_a_broker_restart(bench: Bench) -> None:
    figures = run_broker_restart(BrokerRestartSpec.short(), bench)
    print(figures.report())
    assert [outage.signal for outage in figures.outages] == ["SIGTERM", "SIGKILL"]
    assert figures.published > 100
    assert figures.lost == 0
    check = figures.outcome.check
    assert check.missing == ()
    assert check.unexpected == ()
    assert figures.outcome.crashed == ()


def test_kill_9_mid_cycle_loses_no_article_and_tags_none_twice(bench: Bench) -> None:
    spec = ConnectorCrashSpec.short()
    figures = run_connector_crash(spec, bench)
    print(figures.report())
    assert figures.kills_during_fetch + figures.kills_after_fetch == spec.kills
    assert figures.published > 50
    assert figures.lost == 0
    assert figures.raw_distinct == figures.published
    assert figures.tagged_duplicates == 0
    assert figures.crashed == ()

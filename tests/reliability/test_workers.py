"""Workers crashing, joining and leaving under load: the alerts topic must still be exactly the oracle's."""

from __future__ import annotations

import pytest

from streams.reliability.harness import Bench, Outcome
from streams.reliability.scale import ScaleSpec, run_scale
from streams.reliability.storm import StormSpec, run_storm

pytestmark = [pytest.mark.reliability, pytest.mark.integration]


def _assert_exactly_the_oracle(outcome: Outcome) -> None:
    check = outcome.check
    assert check.expected > 50
    assert check.missing == ()
    assert check.unexpected == ()
    assert check.duplicates_after_dedup == 0
    assert outcome.processing_errors == 0
    assert outcome.crashed == ()


@pytest.mark.xfail(
    strict=False,
    reason="known issue, open: with kills in quick succession at start-up the group can miss 2-3 alerts or stop "
    "committing a partition (docs/reliability.md, 'Known issue'; decision 0605)",
)
def test_kill_storm_misses_no_alert_and_doubles_none_after_dedup(bench: Bench) -> None:
    spec = StormSpec.short()
    figures = run_storm(spec, bench)
    print(figures.report())
    _assert_exactly_the_oracle(figures.outcome)
    assert len(figures.kills) == spec.kills
    assert figures.kills_during_rebalance >= 1, "no kill landed during a rebalance"
    assert figures.produced.failed == 0


def test_scaling_out_and_in_under_load_keeps_the_alerts_exact(bench: Bench) -> None:
    figures = run_scale(ScaleSpec.short(), bench)
    print(figures.report())
    _assert_exactly_the_oracle(figures.outcome)
    assert any("worker a exited with code 0" in event for event in figures.events)

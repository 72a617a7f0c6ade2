"""Workers crashing, joining and leaving under load: the alerts topic must still be exactly the oracle's."""

from __future__ import annotations

import pytest

from streams.tools.reliability.harness import Bench, Outcome
from streams.tools.reliability.recovery import RecoverySpec, SingleWorkerRecoverySpec, run_recovery
from streams.tools.reliability.scale import ScaleSpec, run_scale
from streams.tools.reliability.storm import StormSpec, run_storm

pytestmark = [pytest.mark.reliability, pytest.mark.integration]


def _assert_exactly_the_oracle(outcome: Outcome) -> None:
    check = outcome.check
    assert check.expected > 50
    assert check.missing == ()
    assert check.unexpected == ()
    assert check.duplicates_after_dedup == 0
    assert outcome.processing_errors == 0
    assert outcome.crashed == ()


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


@pytest.mark.parametrize("spec", [RecoverySpec.short(), SingleWorkerRecoverySpec.short()], ids=["two", "one"])
def test_every_worker_killed_at_once_and_restarted_loses_no_alert_and_recovers(
    bench: Bench, spec: RecoverySpec
) -> None:
    figures = run_recovery(spec, bench)
    print(figures.report())
    _assert_exactly_the_oracle(figures.outcome)
    assert len(figures.cycles) == spec.cycles
    for cycle in figures.cycles:  # within the cycle budget: alerts flow again and the outage's backlog is gone
        assert cycle.first_alert_s is not None, cycle
        assert cycle.caught_up_s is not None, cycle
    if spec.workers > 1:
        assert figures.takeover_s is not None, "the partitions of a worker that never came back were not taken over"

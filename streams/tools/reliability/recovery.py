"""Recovery: every worker killed at once under steady input, restarted after a random pause, again and again.

Each cycle ``kill -9``s all the workers together (one, or both of two), waits 0-``max_down_s`` seconds (seeded)
and restarts them with the same worker ids, as a supervisor or a StatefulSet would. Per cycle it measures, from
the restart:

- **first alert**: until the first alert fired after the restart (alerts flow again);
- **caught up**: until the group has committed every record that was on ``articles.raw`` and ``pairs`` at the
  restart (the backlog of the outage is gone: the lag is back to what steady input leaves).

With two workers, one is then killed for good: **takeover** is the time until the survivor has committed
everything that was on the topics at that kill (the session timeout, a rebalance and a recovery). At the end
the alerts topic is compared with the oracle: nothing missing, nothing doubled after dedup by ``alert_id``.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Self

from streams.infra.settings import Settings
from streams.tools.figures import percentile
from streams.tools.reliability.harness import Bench, Outcome, Say, Scenario, publish_watches, scenario
from streams.tools.reliability.oracle import expected_alert_ids
from streams.tools.reliability.processes import WorkerSlot
from streams.tools.reliability.traffic import AlertClock, PacedProducer, PacedStats, group_positions
from streams.tools.synthetic import CorpusSpec, synthetic_corpus

CYCLE_BUDGET_S = 60.0
"""A cycle that has not caught up this long after its restart is recorded as not recovered (and fails)."""


@dataclass(frozen=True)
class RecoverySpec:
    workers: int = 2
    cycles: int = 10
    rate: float = 30.0
    """Articles per second, steady through every outage."""
    max_down_s: float = 10.0
    """Each outage lasts a seeded random 0 to this many seconds."""
    settle_s: float = 5.0
    """Steady running after a cycle caught up, before the next kill."""
    membership: str = "static"
    """``static``: each worker with its stable worker id (the shipped way); ``dynamic``: none, the baseline."""
    seed: int = 3

    @classmethod
    def short(cls) -> Self:
        return cls(cycles=3, max_down_s=4.0, settle_s=2.0)


@dataclass(frozen=True)
class SingleWorkerRecoverySpec(RecoverySpec):
    """The same with one worker: the group is empty during every outage."""

    workers: int = 1


@dataclass(frozen=True)
class Cycle:
    down_s: float
    first_alert_s: float | None
    caught_up_s: float | None


@dataclass(frozen=True)
class RecoveryFigures:
    spec: RecoverySpec
    settings: Settings
    produced: PacedStats
    cycles: tuple[Cycle, ...]
    takeover_s: float | None
    """With two workers: from killing one for good until the other caught up; None when not measured."""
    outcome: Outcome

    @property
    def recovered(self) -> bool:
        return all(c.first_alert_s is not None and c.caught_up_s is not None for c in self.cycles)

    @property
    def passed(self) -> bool:
        took_over = self.spec.workers < 2 or self.takeover_s is not None
        return self.outcome.passed and self.recovered and took_over

    def report(self) -> str:
        first = [c.first_alert_s for c in self.cycles if c.first_alert_s is not None]
        caught = [c.caught_up_s for c in self.cycles if c.caught_up_s is not None]
        session = self.settings.worker_session_timeout_s
        lines = [
            f"recovery — {self.spec.workers} worker(s) killed together {len(self.cycles)} times at "
            f"{self.spec.rate:g} articles/s, restarted after 0-{self.spec.max_down_s:g} s, {self.spec.membership} "
            f"membership, seed {self.spec.seed}",
            f"produced                        {self.produced.sent:8d} at {self.produced.rate:.1f}/s",
            "cycle  down s  first alert s  caught up s   (from the restart)",
            *(
                f"{n:5d}  {c.down_s:6.1f}  {_seconds(c.first_alert_s):>13}  {_seconds(c.caught_up_s):>11}"
                for n, c in enumerate(self.cycles, 1)
            ),
            f"restart → first alert          p50 {_p(first, 0.5)}  p95 {_p(first, 0.95)}  max {_max(first)}",
            f"restart → caught up            p50 {_p(caught, 0.5)}  p95 {_p(caught, 0.95)}  max {_max(caught)}",
        ]
        if self.spec.workers >= 2:
            lines.append(
                f"a worker that never comes back  the other caught up after {_seconds(self.takeover_s)} s "
                f"(session timeout {session:g} s)"
            )
        lines += [*self.outcome.lines(), f"result: {'PASS' if self.passed else 'FAIL'}"]
        return "\n".join(lines)


def run_recovery(spec: RecoverySpec, bench: Bench) -> RecoveryFigures:
    rng = random.Random(spec.seed)  # noqa: S311 - a reproducible schedule, not a secret
    downs = [rng.uniform(0.0, spec.max_down_s) for _ in range(spec.cycles)]
    budget_s = sum(downs) + spec.cycles * (CYCLE_BUDGET_S + spec.settle_s) + 3 * CYCLE_BUDGET_S
    articles = list(
        synthetic_corpus(
            CorpusSpec(count=int(spec.rate * budget_s), seed=spec.seed), datetime.now(UTC) - timedelta(hours=6)
        )
    )
    with scenario(bench.bootstrap, "recovery", bench.workdir, bench.say, keep_topics=bench.keep_topics) as run:
        watches = publish_watches(run)
        if spec.membership not in ("static", "dynamic"):
            raise ValueError(f"membership is static or dynamic, not {spec.membership!r}")
        workers = tuple(run.worker(name, static=spec.membership == "static") for name in "ab"[: spec.workers])
        run.start_workers(*workers)
        records = [(a.id.encode(), a.to_json()) for a in articles]
        with (
            AlertClock(bench.bootstrap, run.settings.topics.alerts) as alerts,
            PacedProducer(bench.bootstrap, run.settings.topics.articles_raw, records, spec.rate) as producer,
        ):
            time.sleep(spec.settle_s)
            cycles = [_cycle(run, workers, down_s, alerts, bench.say) for down_s in downs]
            takeover_s = _takeover(run, workers, bench.say) if spec.workers >= 2 else None
            produced = producer.stop()
        sent = articles[: produced.sent]
        expected = expected_alert_ids(sent, watches, bench.tag)
        bench.say(f"oracle: {len(expected)} alerts from the {len(sent)} articles produced")
        outcome = run.finish(expected, drain_timeout_s=300)
    return RecoveryFigures(spec, run.settings, produced, tuple(cycles), takeover_s, outcome)


def _cycle(run: Scenario, workers: tuple[WorkerSlot, ...], down_s: float, alerts: AlertClock, say: Say) -> Cycle:
    for worker in workers:
        worker.kill()
    time.sleep(down_s)
    restarted_wall, restarted = time.time(), time.monotonic()
    backlog, _ = group_positions(run.settings)
    for worker in workers:
        worker.start()
    first_alert = caught_up = None
    deadline = restarted + CYCLE_BUDGET_S
    while time.monotonic() < deadline and (first_alert is None or caught_up is None):
        if first_alert is None and (fired := alerts.first_fired_after(restarted_wall)) is not None:
            first_alert = fired - restarted_wall
        if caught_up is None and _has_committed(run.settings, backlog):
            caught_up = time.monotonic() - restarted
        time.sleep(0.25)
    say(f"killed {len(workers)} worker(s), down {down_s:.1f} s: first alert {_seconds(first_alert)} s, "
        f"caught up {_seconds(caught_up)} s after the restart")  # fmt: skip
    for worker in workers:
        worker.wait_healthy()
    return Cycle(down_s, first_alert, caught_up)


def _takeover(run: Scenario, workers: tuple[WorkerSlot, ...], say: Say) -> float | None:
    """Kill the last worker for good; the time until the others committed what was there at the kill."""
    workers[-1].kill()
    killed = time.monotonic()
    backlog, _ = group_positions(run.settings)
    deadline = killed + run.settings.worker_session_timeout_s + 2 * CYCLE_BUDGET_S
    while time.monotonic() < deadline:
        if _has_committed(run.settings, backlog):
            took = time.monotonic() - killed
            say(f"worker {workers[-1].name} killed for good: the others caught up after {took:.1f} s")
            return took
        time.sleep(0.25)
    lost, survivors = workers[-1], workers[:-1]
    say(f"worker {lost.name} killed for good: its partitions were not taken over; what the others logged last:")
    for worker in survivors:
        say(_group_lines(worker.current.log()))
    lost.start()  # back, so that the drain still checks every alert instead of waiting on a stuck lag
    say(f"worker {lost.name} restarted to drain the backlog; the takeover is recorded as failed")
    return None


def _group_lines(log: str, keep: int = 40) -> str:
    """The last lines of a worker's log about its consumer groups and recovery: why a takeover did not happen."""
    words = ("group", "assign", "revok", "rebalanc", "heartbeat", "recovery", "coordinator", "error", "warning")
    lines = [line for line in log.splitlines() if any(word in line.lower() for word in words)]
    return "\n".join(lines[-keep:])


def _has_committed(settings: Settings, targets: dict[tuple[str, int], int]) -> bool:
    _, positions = group_positions(settings)
    return all(positions.get(tp, 0) >= offset for tp, offset in targets.items())


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _p(values: list[float], share: float) -> str:
    return _seconds(percentile(values, share) if values else None)


def _max(values: list[float]) -> str:
    return _seconds(max(values) if values else None)

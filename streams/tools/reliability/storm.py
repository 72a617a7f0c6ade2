"""Worker kill storm: two workers, the corpus streamed at a steady rate, ``kill -9`` at random moments.

Each round kills a random worker and restarts it; with its stable worker id it takes its partitions back
without a rebalance. A rebalance round stops the worker with SIGTERM instead (it leaves the group: a
rebalance) and restarts it (it joins: another), and the *other* worker is killed while the group coordinator
still reports the rebalance (the group's state is read and recorded at every kill, so the report shows that
the rebalance was really hit). Afterwards the alerts topic is compared with the oracle.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from streams.tools.reliability.harness import Bench, Outcome, Say, publish_watches, scenario
from streams.tools.reliability.oracle import expected_alert_ids
from streams.tools.reliability.processes import WorkerSlot
from streams.tools.reliability.traffic import GroupProbe, PacedProducer, PacedStats
from streams.tools.synthetic import CorpusSpec, synthetic_corpus

REBALANCING = frozenset({"PreparingRebalance", "CompletingRebalance"})


@dataclass(frozen=True)
class StormSpec:
    articles: int = 20_000
    rate: float = 100.0
    kills: int = 10
    rebalance_kills: int = 2
    """Kills aimed at a rebalance (the other worker, right after one was restarted); part of ``kills``."""
    seed: int = 1

    @classmethod
    def short(cls) -> StormSpec:
        return cls(articles=1_500, rate=150.0, kills=3, rebalance_kills=1)


@dataclass(frozen=True)
class Kill:
    at_s: float
    worker: str
    group_state: str
    signal: str = "KILL"
    """``KILL`` (``kill -9``) or ``TERM`` (a clean stop that leaves the group, starting a rebalance round)."""


@dataclass(frozen=True)
class StormFigures:
    spec: StormSpec
    produced: PacedStats
    kills: tuple[Kill, ...]
    outcome: Outcome

    @property
    def kills_during_rebalance(self) -> int:
        return sum(1 for kill in self.kills if kill.signal == "KILL" and kill.group_state in REBALANCING)

    @property
    def passed(self) -> bool:
        return self.outcome.passed and self.kills_during_rebalance >= min(1, self.spec.rebalance_kills)

    def report(self) -> str:
        kills = ", ".join(
            f"{k.worker}@{k.at_s:.0f}s{'' if k.signal == 'KILL' else ' SIGTERM'} ({k.group_state})" for k in self.kills
        )
        return "\n".join(
            [
                f"worker kill storm — {self.spec.articles} articles at {self.spec.rate:g}/s, two workers, "
                f"seed {self.spec.seed}",
                f"produced                        {self.produced.sent:8d} at {self.produced.rate:.1f}/s "
                f"(at most {self.produced.max_behind_s:.1f} s behind schedule)",
                f"kill -9 or SIGTERM              {len(self.kills):8d}: {kills}",
                f"kills during a rebalance        {self.kills_during_rebalance:8d}",
                *self.outcome.lines(),
                f"result: {'PASS' if self.passed else 'FAIL'}",
            ]
        )


def run_storm(spec: StormSpec, bench: Bench) -> StormFigures:
    articles = list(
        synthetic_corpus(CorpusSpec(count=spec.articles, seed=spec.seed), datetime.now(UTC) - timedelta(hours=6))
    )
    with scenario(bench.bootstrap, "storm", bench.workdir, bench.say, keep_topics=bench.keep_topics) as run:
        watches = publish_watches(run)
        workers = (run.worker("a"), run.worker("b"))
        with run.starting(*workers):
            expected = expected_alert_ids(articles, watches, bench.tag)
            bench.say(f"oracle: {len(expected)} alerts from {len(articles)} articles")
        records = [(a.id.encode(), a.to_json()) for a in articles]
        with (
            PacedProducer(bench.bootstrap, run.settings.topics.articles_raw, records, spec.rate) as producer,
            GroupProbe(run.settings) as probe,
        ):
            kills = _storm(probe, workers, spec, bench.say)
            produced = producer.wait()
        outcome = run.finish(expected, drain_timeout_s=300)
    return StormFigures(spec, produced, tuple(kills), outcome)


def _storm(probe: GroupProbe, workers: tuple[WorkerSlot, WorkerSlot], spec: StormSpec, say: Say) -> list[Kill]:
    """Kill at random moments in the first 60 % of the stream: the group has settled again (a killed member holds
    its partitions for the session timeout) before the input ends, so the drain measures recovery, not waiting."""
    rng = random.Random(spec.seed)  # noqa: S311 - a reproducible schedule, not a secret
    duration = spec.articles / spec.rate
    rounds = spec.kills - spec.rebalance_kills
    moments = sorted(rng.uniform(0.05, 0.6) * duration for _ in range(rounds))
    aimed = set(rng.sample(range(rounds), min(spec.rebalance_kills, rounds)))
    started = time.monotonic()
    kills: list[Kill] = []

    def kill(worker: WorkerSlot, signal: str = "KILL", state: str | None = None) -> None:
        """``state``: the group's state read just before (the rebalance an aimed kill waited for), else read now."""
        state = state or probe.state()
        if signal == "KILL":
            worker.kill()
        else:
            worker.stop()
        kills.append(Kill(time.monotonic() - started, worker.name, state, signal))
        how = "kill -9" if signal == "KILL" else "SIGTERM"
        say(f"{how} worker {worker.name} at {kills[-1].at_s:.0f} s (group {state})")

    for number, moment in enumerate(moments):
        time.sleep(max(0.0, started + moment - time.monotonic()))
        victim = rng.choice(workers)  # both are always running or booting: each kill is followed by a start
        kill(victim, "TERM" if number in aimed else "KILL")
        time.sleep(rng.uniform(0.0, 2.0))
        victim.start()
        if number in aimed:
            other = workers[1 - workers.index(victim)]
            kill(other, state=_wait_for_rebalance(probe, victim))
            time.sleep(rng.uniform(0.0, 2.0))
            other.start()
    return kills


def _wait_for_rebalance(probe: GroupProbe, joining: WorkerSlot, timeout_s: float = 90.0) -> str:
    """Until the group rebalances because ``joining`` joined (or ``timeout_s`` passed, long enough for a worker's
    boot on a loaded machine: the kill happens anyway); the state last read, for the kill that follows at once.
    With static members a rebalance of live workers takes well under a second, so the probe looks without pause:
    reading the state again before the kill could already find it over."""
    deadline = time.monotonic() + timeout_s
    state = "unknown"
    while time.monotonic() < deadline and joining.is_running():
        state = probe.state()
        if state in REBALANCING:
            return state
    return state

"""Scale out and in under load: one worker, a second joins, then the first leaves cleanly (SIGTERM).

The partitions move twice while the corpus streams in at a steady rate; the alerts must still be exactly the
oracle's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from streams.tools.reliability.harness import Bench, Outcome, publish_watches, scenario
from streams.tools.reliability.oracle import expected_alert_ids
from streams.tools.reliability.traffic import PacedProducer, PacedStats
from streams.tools.synthetic import CorpusSpec, synthetic_corpus


@dataclass(frozen=True)
class ScaleSpec:
    articles: int = 20_000
    rate: float = 100.0
    scale_out_at: float = 0.25
    """Share of the stream after which the second worker starts."""
    scale_in_at: float = 0.6
    """Share of the stream after which the first worker is stopped."""
    seed: int = 2

    @classmethod
    def short(cls) -> ScaleSpec:
        return cls(articles=1_500, rate=150.0)


@dataclass(frozen=True)
class ScaleFigures:
    spec: ScaleSpec
    produced: PacedStats
    events: tuple[str, ...]
    outcome: Outcome

    @property
    def passed(self) -> bool:
        return self.outcome.passed

    def report(self) -> str:
        return "\n".join(
            [
                f"scale out and in — {self.spec.articles} articles at {self.spec.rate:g}/s, workers 1 → 2 → 1",
                f"produced                        {self.produced.sent:8d} at {self.produced.rate:.1f}/s",
                *(f"  {event}" for event in self.events),
                *self.outcome.lines(),
                f"result: {'PASS' if self.passed else 'FAIL'}",
            ]
        )


def run_scale(spec: ScaleSpec, bench: Bench) -> ScaleFigures:
    articles = list(
        synthetic_corpus(CorpusSpec(count=spec.articles, seed=spec.seed), datetime.now(UTC) - timedelta(hours=6))
    )
    events: list[str] = []

    def note(event: str) -> None:
        events.append(event)
        bench.say(event)

    with scenario(bench.bootstrap, "scale", bench.workdir, bench.say, keep_topics=bench.keep_topics) as run:
        watches = publish_watches(run)
        first, second = run.worker("a"), run.worker("b")
        with run.starting(first):
            expected = expected_alert_ids(articles, watches, bench.tag)
        records = [(a.id.encode(), a.to_json()) for a in articles]
        duration = spec.articles / spec.rate
        with PacedProducer(bench.bootstrap, run.settings.topics.articles_raw, records, spec.rate) as producer:
            started = time.monotonic()
            time.sleep(spec.scale_out_at * duration)
            note(f"{time.monotonic() - started:5.1f} s: scale out, worker b starts ({producer.sent} produced)")
            run.start_workers(second)
            time.sleep(max(0.0, started + spec.scale_in_at * duration - time.monotonic()))
            note(f"{time.monotonic() - started:5.1f} s: scale in, worker a stops ({producer.sent} produced)")
            code = first.stop()
            note(f"{time.monotonic() - started:5.1f} s: worker a exited with code {code}")
            produced = producer.wait()
        outcome = run.finish(expected, drain_timeout_s=300)
    return ScaleFigures(spec, produced, tuple(events), outcome)

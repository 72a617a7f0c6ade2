"""Soak: one worker at a steady rate for a long time — is the lag bounded, does memory stay flat, any errors?

Articles carry ``fetched`` = the moment they are produced, so each alert's ``latency_s`` is produce → alert.
Every few seconds the group's committed lag (raw + pairs) and the worker's resident memory (/proc) are sampled.
After the warm-up, the lag's 99th percentile and least-squares slope say whether it is bounded, and memory
growth compares the median of the first and last windows of samples.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from kafka.errors import KafkaError

from streams.tools.figures import percentile
from streams.tools.reliability.harness import Bench, publish_watches, scenario
from streams.tools.reliability.traffic import PacedProducer, PacedStats, total_lag, wait_drained
from streams.tools.synthetic import CorpusSpec, synthetic_corpus

LAG_BOUND_S = 10.0
"""Bounded lag: its p99, and its trend over the run, stay under this many seconds of input."""
MEMORY_GROWTH_LIMIT = 0.10


@dataclass(frozen=True)
class SoakSpec:
    duration_s: float = 600.0
    rate: float = 100.0
    warmup_s: float = 120.0
    sample_every_s: float = 5.0
    memory_window_s: float = 60.0
    """Memory is compared between the first and the last window of this length after the warm-up."""
    seed: int = 5

    @classmethod
    def short(cls) -> SoakSpec:
        return cls(duration_s=12.0, warmup_s=4.0, sample_every_s=1.0, memory_window_s=3.0)


@dataclass(frozen=True)
class Sample:
    at_s: float
    lag: int
    rss_bytes: int


@dataclass(frozen=True)
class SoakFigures:
    spec: SoakSpec
    produced: PacedStats
    samples: tuple[Sample, ...]
    alerts: int
    latency_p50_s: float
    latency_p99_s: float
    processing_errors: int
    tracebacks: int
    crashed: tuple[str, ...]

    def _steady(self) -> list[Sample]:
        return [s for s in self.samples if s.at_s >= self.spec.warmup_s]

    @property
    def lag_p99(self) -> float:
        return percentile([s.lag for s in self._steady()], 0.99)

    @property
    def lag_slope_per_min(self) -> float:
        steady = self._steady()
        if len(steady) < 2:
            return 0.0
        fit = statistics.linear_regression([s.at_s for s in steady], [float(s.lag) for s in steady])
        return fit.slope * 60

    @property
    def memory_mib(self) -> tuple[float, float]:
        """Median RSS of the first and of the last window after the warm-up, in MiB."""
        steady = self._steady()
        first = [s.rss_bytes for s in steady if s.at_s < self.spec.warmup_s + self.spec.memory_window_s]
        last = [s.rss_bytes for s in steady if s.at_s > steady[-1].at_s - self.spec.memory_window_s]
        return statistics.median(first) / 2**20, statistics.median(last) / 2**20

    @property
    def memory_growth(self) -> float:
        start, end = self.memory_mib
        return (end - start) / start

    @property
    def lag_bounded(self) -> bool:
        bound = LAG_BOUND_S * self.spec.rate
        trend = self.lag_slope_per_min / 60 * (self.spec.duration_s - self.spec.warmup_s)
        return self.lag_p99 <= bound and trend <= bound

    @property
    def passed(self) -> bool:
        return (
            self.lag_bounded
            and self.memory_growth < MEMORY_GROWTH_LIMIT
            and self.processing_errors == 0
            and self.tracebacks == 0
            and not self.crashed
        )

    def report(self) -> str:
        start, end = self.memory_mib
        return "\n".join(
            [
                f"soak — {self.spec.rate:g} articles/s for {self.spec.duration_s:g} s, one worker, "
                f"warm-up {self.spec.warmup_s:g} s, a sample every {self.spec.sample_every_s:g} s",
                f"produced                        {self.produced.sent:8d} at {self.produced.rate:.1f}/s "
                f"(at most {self.produced.max_behind_s:.1f} s behind schedule)",
                f"committed lag p99 (records)     {self.lag_p99:8.0f}  (max {max(s.lag for s in self._steady())}, "
                f"bound {LAG_BOUND_S * self.spec.rate:.0f})",
                f"lag slope (records/min)         {self.lag_slope_per_min:8.1f}",
                f"worker RSS after warm-up        {start:8.1f} MiB",
                f"worker RSS at the end           {end:8.1f} MiB  ({self.memory_growth:+.1%})",
                f"alerts                          {self.alerts:8d}  produce→alert "
                f"p50 {self.latency_p50_s * 1000:.0f} ms, p99 {self.latency_p99_s * 1000:.0f} ms",
                f"processing-error dead letters   {self.processing_errors:8d}",
                f"tracebacks in the worker log    {self.tracebacks:8d}",
                f"processes that exited by itself {len(self.crashed):8d} {' '.join(self.crashed)}".rstrip(),
                f"result: {'PASS' if self.passed else 'FAIL'}",
            ]
        )


def run_soak(spec: SoakSpec, bench: Bench) -> SoakFigures:
    count = int(spec.rate * spec.duration_s)
    with scenario(bench.bootstrap, "soak", bench.workdir, bench.say, keep_topics=bench.keep_topics) as run:
        publish_watches(run)
        worker = run.worker("a")
        run.start_workers(worker)
        samples: list[Sample] = []
        records = _fresh(count, spec.seed)
        with PacedProducer(bench.bootstrap, run.settings.topics.articles_raw, records, spec.rate) as producer:
            started = time.monotonic()
            while producer.sent < count and worker.is_running():
                time.sleep(max(0.0, started + (len(samples) + 1) * spec.sample_every_s - time.monotonic()))
                try:
                    lag = total_lag(run.settings)
                except KafkaError as err:
                    bench.say(f"lag not sampled: {err}")
                    continue
                samples.append(Sample(time.monotonic() - started, lag, worker.current.rss_bytes()))
                if len(samples) % 12 == 0:
                    bench.say(f"{samples[-1].at_s:5.0f} s: lag {lag}, RSS {samples[-1].rss_bytes / 2**20:.1f} MiB")
            produced = producer.wait()
        wait_drained(run.settings, 300, bench.say)
        latencies = sorted(alert.latency_s for alert in run.alerts())
        letters = run.dead_letters()
        return SoakFigures(
            spec=spec,
            produced=produced,
            samples=tuple(samples),
            alerts=len(latencies),
            latency_p50_s=percentile(latencies, 0.5),
            latency_p99_s=percentile(latencies, 0.99),
            processing_errors=sum(1 for letter in letters if letter.reason == "processing_error"),
            tracebacks=run.tracebacks(),
            crashed=tuple(run.crashed()),
        )


def _fresh(count: int, seed: int) -> Iterator[tuple[bytes, bytes]]:
    """The corpus, each article stamped ``fetched`` = now as the producer takes it (unique ids per run)."""
    for article in synthetic_corpus(CorpusSpec(count=count, pair_share=0.2, seed=seed), datetime.now(UTC)):
        stamped = article.model_copy(update={"fetched": datetime.now(UTC)})
        yield stamped.id.encode(), stamped.to_json()

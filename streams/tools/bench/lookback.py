"""``wirewatch bench lookback``: how fast a look back re-tags the retained copy, and what it does to live alerts.

One worker on topics of their own. ``articles.raw`` is filled with real full-length copy (the generated copy
stands in when it is absent, and says so), repeated under distinct ids, and the worker drains it live first, as
it would have over the past week. Then, at the same live load in both:

1. **baseline** — live articles at ``rate`` per second for ``seconds`` (``streams.tools.bench.pipeline``'s
   latency phase: produce→tagged over every article, produce→alert over the alerts of a watch on a pair the
   phase's fresh stories name), no look back;
2. **during a look back** — the same, started right after a look back over the whole retained copy was asked
   for on a watch of the pair the copy names most; the look back's own rate comes from its progress records
   (articles scanned over the time from the request to its last job's end).

The phase is only a fair measure if the look back outlasts it: the output says whether it did.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from streams.core.errors import WirewatchError
from streams.core.history import LookbackStatus
from streams.infra.kafka_topics import delete_prefix_topics, ensure_topics
from streams.infra.processes import free_port, running_worker, wait_healthy
from streams.infra.settings import Settings
from streams.tools.bench.pipeline import (
    LatencyRun,
    latency_phase,
    produce_all,
    repeated,
    wait_for_end_offsets,
    workload_pairs,
)
from streams.tools.bench.prose import Workload, pipeline_workloads
from streams.tools.synthetic import PAIR_PEOPLE


@dataclass(frozen=True)
class LookbackFigures:
    workload: str
    source: str
    retained: int
    partitions: int
    lookback: LookbackStatus
    lookback_seconds: float
    outlasted_phase: bool
    baseline: LatencyRun
    during: LatencyRun

    @property
    def lookback_rate(self) -> float:
        return self.lookback.scanned / max(self.lookback_seconds, 1e-3)


def run_lookback_bench(
    settings: Settings, retained: int, rate: float, seconds: float, workdir: Path, say: Callable[[str], None]
) -> LookbackFigures:
    from streams.infra.lookback import request_lookback, wait_for_lookback
    from streams.infra.registry_files import shipped_tagger
    from streams.infra.watches import build_watch, publish

    workload: Workload = pipeline_workloads(["full-length"], None, None, retained, say)[0]
    port = free_port()
    bench = settings.model_copy(update={"topic_prefix": f"benchlb{uuid.uuid4().hex[:8]}", "web_port": port})
    ensure_topics(bench)
    try:
        tag = shipped_tagger().tag
        pair = workload_pairs([tag(article) for article in workload.articles], top=1)[0]
        live_watches = [build_watch("bench", list(people), scope="sentence") for people in PAIR_PEOPLE]
        history_watch = build_watch("bench", list(pair), scope="article")
        for watch in live_watches:
            publish(bench, watch.watch_id, watch)
        say(f"producing {retained:,} {workload.name} articles: the retained week")
        produce_all(bench, [(a.id.encode(), a.to_json()) for a in repeated(workload.articles, retained, "r")])
        with running_worker(bench, workdir / "bench-lookback-worker.log") as worker:
            wait_healthy(port, worker)
            say("the worker tags the retained copy live first (as it did over the week)")
            wait_for_end_offsets(bench, bench.topics.articles_tagged, lambda n: n >= retained, timeout_s=1800)
            say(f"baseline: live articles at {rate:g}/s for {seconds:g} s, no look back")
            live = frozenset(
                w.watch_id for w in live_watches
            )  # the history watch fires on the copy too: like with like
            baseline = latency_phase(
                bench, workload, "live only", rate, seconds, 1, workdir / "bench-lookback-1.tsv", live
            )
            publish(bench, history_watch.watch_id, history_watch)
            say(f"look back over everything retained for {' + '.join(pair)}, live load as before")
            requested = time.monotonic()
            asked = request_lookback(bench, history_watch, 7 * 86400, datetime.now(UTC))
            during = latency_phase(
                bench, workload, "live during a look back", rate, seconds, 2, workdir / "bench-lookback-2.tsv", live
            )
            lookback_id = asked.lookback_id
            status = asyncio.run(wait_for_lookback(bench, lookback_id, lambda _s: None, 0))
            outlasted = status is not None and status.state == "running"
            status = asyncio.run(wait_for_lookback(bench, lookback_id, lambda _s: None, 1800))
            finished = time.monotonic()
            if status is None or status.state != "done":
                raise WirewatchError(f"the look back did not finish: {status}")
    finally:
        delete_prefix_topics(bench)
    return LookbackFigures(
        workload.name, workload.source, retained, bench.topic_partitions, status, finished - requested, outlasted,
        baseline, during,
    )  # fmt: skip


def format_figures(figures: LookbackFigures) -> str:
    status = figures.lookback
    lines = [
        f"look back over {figures.retained:,} retained {figures.workload} articles ({figures.source}), "
        f"{figures.partitions} partitions, one worker",
        f"  look back: {status.scanned:,} articles in {figures.lookback_seconds:.1f} s = "
        f"{figures.lookback_rate:,.0f} articles/s, {status.matches:,} matches, {status.jobs} jobs",
        f"  the look back outlasted the live phase: {'yes' if figures.outlasted_phase else 'NO (phase not covered)'}",
        "",
        "| live load | articles/s | tagged p50 | tagged p99 | alert p50 | alert p95 | alert p99 | alerts |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in (figures.baseline, figures.during):
        tagged, alerts = phase.tagged, phase.alerts
        lines.append(
            f"| {phase.label} | {phase.achieved_rate:,.0f} | {tagged.p50 * 1000:,.0f} | {tagged.p99 * 1000:,.0f} "
            f"| {alerts.p50 * 1000:,.0f} | {alerts.p95 * 1000:,.0f} | {alerts.p99 * 1000:,.0f} | {alerts.count} |"
        )
    return "\n".join(lines)

"""``wirewatch bench pipeline``: throughput and latency of one worker on the real broker, beside a ceiling.

Per workload — real feed **teasers** and real **full-length** article text (``streams.tools.bench.prose``; the
generated ~3 KB copy stands in, and says so, when the real copy is absent):

1. ceiling — a bare aiokafka consume→produce loop copying the same records between two topics, no processing;
2. throughput — N articles already in ``articles.raw`` (the workload's articles repeated under distinct ids), one
   worker: tagged and alert-firing rate from the broker's own record timestamps (first tagged → last output);
3. latency — articles produced at fixed fractions of the capacity just measured (and at a fixed rate), each
   carrying ``fetched`` = its produce time: produce→tagged over every article (the tagged record's broker
   timestamp) and produce→alert over the alerts (``latency_s``). The workload's copy repeats, and a repeated story
   corroborates rather than alerts, so one article in ``ALERT_EVERY`` is a fresh generated story naming a watched
   pair, of the workload's length: the alerts measure the whole path, the load stays the workload's.

Between phases the worker is left to drain (end offsets watched, never read while it works: reading would take
its CPU), so no phase inherits another's backlog.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from streams.core.models import Article, TaggedArticle
from streams.infra.kafka_topics import TopicSpec, delete_prefix_topics, ensure_topics, topic_specs
from streams.infra.processes import free_port, running_worker, wait_healthy
from streams.infra.settings import Settings
from streams.tools.bench.prose import Workload
from streams.tools.figures import percentile
from streams.tools.synthetic import PAIR_PEOPLE, CorpusSpec, synthetic_corpus

ALERT_EVERY = 50
"""In the latency phases, one article in this many is a fresh story naming a watched pair."""
WORKLOAD_PAIR_WATCHES = 3
"""Article-scope watches on the actor pairs the workload's own copy names together most often."""
DEFAULT_FRACTIONS = (0.25, 0.5, 0.75)


@dataclass(frozen=True)
class Percentiles:
    count: int
    p50: float
    p95: float
    p99: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Percentiles:
        return cls(len(values), percentile(values, 0.50), percentile(values, 0.95), percentile(values, 0.99))


@dataclass(frozen=True)
class LatencyRun:
    label: str
    target_rate: float
    achieved_rate: float
    tagged: Percentiles
    """produce → tagged record, every article of the phase."""
    alerts: Percentiles
    """produce → alert, every alert of the phase."""


@dataclass(frozen=True)
class WorkloadRun:
    name: str
    source: str
    articles: int
    kb_each: float
    ceiling_rate: float
    tagged_rate: float
    end_to_end_rate: float
    alerts: int
    watches: tuple[str, ...]
    latency: tuple[LatencyRun, ...]


def repeated(articles: Sequence[Article], count: int, tag: str) -> Iterator[Article]:
    """``count`` articles cycling through ``articles``, each under an id of its own (the worker de-duplicates by
    id, and a re-read article costs less than a new one)."""
    for index, article in zip(range(count), itertools.cycle(articles), strict=False):
        yield article.model_copy(update={"id": f"{tag}{index}-{article.id}"[:128]})


def pair_stories(count: int, characters: int, seed: int) -> Iterator[Article]:
    """Fresh generated stories naming a watched pair in one sentence, about ``characters`` long."""
    words = max(20, characters // 6)
    spec = CorpusSpec(count=count, pair_share=1.0, syndicated_share=0.0, body_words=words, seed=seed)
    return synthetic_corpus(spec, datetime.now(UTC))


def latency_articles(workload: Workload, count: int, seed: int) -> Iterator[Article]:
    """The latency phase's articles: the workload's copy, with a fresh pair story every ``ALERT_EVERY``-th, each
    under an id of this phase's own (the generated stories' ids repeat from one seed to the next)."""
    mean_chars = workload.characters // max(len(workload.articles), 1)
    stories = pair_stories(count // ALERT_EVERY + 1, mean_chars, seed)
    copy = itertools.cycle(workload.articles)
    for index in range(count):
        article = next(stories) if index % ALERT_EVERY == ALERT_EVERY - 1 else next(copy)
        yield article.model_copy(update={"id": f"lat{seed}-{index}-{article.id}"[:128]})


def workload_pairs(tagged: Sequence[TaggedArticle], top: int = WORKLOAD_PAIR_WATCHES) -> list[tuple[str, str]]:
    """The actor pairs most often named in the same article (ties broken by id, so runs agree)."""
    counts: Counter[tuple[str, str]] = Counter()
    for article in tagged:
        ids = sorted({actor.id for actor in article.actors})
        counts.update(itertools.combinations(ids, 2))
    return [pair for pair, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]]


def run_workload(
    settings: Settings,
    workload: Workload,
    count: int,
    fractions: Sequence[float],
    fixed_rate: float,
    latency_s: float,
    workdir: Path,
    say: Callable[[str], None],
    tag: Callable[[Article], TaggedArticle],
) -> WorkloadRun:
    """One workload through the ceiling, the throughput phase and the latency phases, on topics of its own."""
    from streams.infra.watches import build_watch, publish

    port = free_port()
    bench = settings.model_copy(update={"topic_prefix": f"bench{uuid.uuid4().hex[:8]}", "web_port": port})
    baseline_topic = f"{bench.topic_prefix}.baseline"
    ensure_topics(bench, [*topic_specs(bench), TopicSpec(baseline_topic, bench.topic_partitions)])
    try:
        own_pairs = workload_pairs([tag(article) for article in workload.articles])
        watches = [build_watch("bench", list(pair), scope="sentence") for pair in PAIR_PEOPLE]
        watches += [build_watch("bench", list(pair), scope="article") for pair in own_pairs]
        for watch in watches:
            publish(bench, watch.watch_id, watch)
        say(f"{workload.name}: producing {count} articles into {bench.topics.articles_raw}")
        articles = list(repeated(workload.articles, count, "t"))
        produce_all(bench, [(a.id.encode(), a.to_json()) for a in articles])
        del articles
        say(f"{workload.name}: ceiling — bare aiokafka consume→produce of the same records")
        ceiling = asyncio.run(_copy_rate(bench, baseline_topic, count))
        say(f"{workload.name}: one worker (web port {port}) drains them")
        with running_worker(bench, workdir / f"bench-worker-{workload.name.replace(' ', '-')}.log") as worker:
            wait_healthy(port, worker)
            tagged_rate, end_rate, alerts = _throughput(bench, count)
            rates = [(f"{fraction:.0%} of capacity", fraction * end_rate) for fraction in fractions]
            rates.append((f"{fixed_rate:g}/s", fixed_rate))
            latency = []
            for seed, (label, rate) in enumerate(rates, start=1):
                say(f"{workload.name}: latency at {label} ({rate:.0f} articles/s for {latency_s:g} s)")
                trace = workdir / f"bench-latency-{workload.name.replace(' ', '-')}-{seed}.tsv"
                latency.append(latency_phase(bench, workload, label, rate, latency_s, seed, trace))
    finally:
        delete_prefix_topics(bench)
    return WorkloadRun(
        name=workload.name,
        source=workload.source,
        articles=count,
        kb_each=workload.characters / max(len(workload.articles), 1) / 1000,
        ceiling_rate=ceiling,
        tagged_rate=tagged_rate,
        end_to_end_rate=end_rate,
        alerts=alerts,
        watches=tuple(" + ".join(w.entities) for w in watches),
        latency=tuple(latency),
    )


def produce_all(settings: Settings, records: list[tuple[bytes, bytes]]) -> None:
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        linger_ms=20,
        batch_size=1 << 20,
        max_request_size=8 << 20,
    )
    for key, value in records:
        producer.send(settings.topics.articles_raw, key=key, value=value)
    producer.flush()
    producer.close()


async def _copy_rate(settings: Settings, target: str, count: int) -> float:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    consumer = AIOKafkaConsumer(
        settings.topics.articles_raw, bootstrap_servers=settings.kafka_bootstrap, group_id=None,
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=5)
    await consumer.start()
    await producer.start()
    try:
        copied, started = 0, 0.0
        pending = []
        while copied < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
            for records in batches.values():
                if not started:
                    started = time.perf_counter()
                for record in records:
                    pending.append(await producer.send(target, key=record.key, value=record.value))
                    copied += 1
        await asyncio.gather(*pending)
        return count / (time.perf_counter() - started)
    finally:
        await producer.stop()
        await consumer.stop()


def _read_from(
    settings: Settings, topic: str, start: dict[TopicPartition, int] | None, quiet_s: float
) -> list[tuple[int, bytes, bytes]]:
    """(timestamp ms, key, value) of every record on ``topic`` from ``start`` (default: the beginning) to its
    current end."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None, enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    consumer.assign(partitions)
    if start is None:
        consumer.seek_to_beginning(*partitions)
    else:
        for partition in partitions:
            consumer.seek(partition, start.get(partition, 0))
    end = consumer.end_offsets(partitions)
    found: list[tuple[int, bytes, bytes]] = []
    last = time.monotonic()
    while any(consumer.position(p) < end[p] for p in partitions) and time.monotonic() - last < quiet_s:
        for records in consumer.poll(timeout_ms=500, max_records=5000).values():
            found.extend((r.timestamp, r.key, r.value) for r in records)
            last = time.monotonic()
    consumer.close()
    return found


def _throughput(settings: Settings, count: int) -> tuple[float, float, int]:
    """Wait (watching end offsets only: reading records meanwhile would steal the worker's CPU), then read the
    broker's record timestamps: first tagged article → last tagged article, and → last alert."""
    wait_for_end_offsets(settings, settings.topics.articles_tagged, lambda total: total >= count, timeout_s=900)
    wait_for_end_offsets(settings, settings.topics.alerts, None, timeout_s=120)
    tagged = _read_from(settings, settings.topics.articles_tagged, None, quiet_s=10)
    alerts = _read_from(settings, settings.topics.alerts, None, quiet_s=3)
    stamps = [ts for ts, _, _ in tagged]
    first, last_tagged = min(stamps), max(stamps)
    last_output = max([last_tagged, *(ts for ts, _, _ in alerts)])
    return (
        len(tagged) / max((last_tagged - first) / 1000, 1e-3),
        len(tagged) / max((last_output - first) / 1000, 1e-3),
        len(alerts),
    )


def wait_for_end_offsets(
    settings: Settings, topic: str, done: Callable[[int], bool] | None, timeout_s: float, quiet_s: float = 3.0
) -> None:
    """Until ``done(total records)`` holds, or (``done`` None) until the total stopped growing for ``quiet_s``."""
    deadline = time.monotonic() + timeout_s
    last_total, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        total = sum(_end_offsets(settings, topic).values())
        if done is not None and done(total):
            return
        if total != last_total:
            last_total, last_change = total, time.monotonic()
        elif done is None and time.monotonic() - last_change >= quiet_s:
            return
        time.sleep(0.5)
    raise TimeoutError(f"{topic} did not reach the expected size within {timeout_s:.0f} s")


def _end_offsets(settings: Settings, topic: str) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None)
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    offsets: dict[TopicPartition, int] = consumer.end_offsets(partitions)
    consumer.close()
    return offsets


def latency_phase(
    settings: Settings,
    workload: Workload,
    label: str,
    rate: float,
    duration_s: float,
    seed: int,
    trace: Path,
    watch_ids: frozenset[str] | None = None,
) -> LatencyRun:
    """One phase at ``rate``; ``trace`` gets each article's second into the phase and produce→tagged latency (ms),
    to tell a steady queue from stalls; ``watch_ids``: count only these watches' alerts (default: all)."""
    topics = settings.topics
    tagged_start = _end_offsets(settings, topics.articles_tagged)
    alerts_start = _end_offsets(settings, topics.alerts)
    total = max(int(rate * duration_s), 1)
    articles = list(latency_articles(workload, total, seed))
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=0, max_request_size=8 << 20
    )
    produced_at: dict[bytes, float] = {}
    started, started_wall = time.monotonic(), time.time()
    for index, article in enumerate(articles):
        delay = started + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        now = datetime.now(UTC)
        stamped = article.model_copy(update={"fetched": now})
        key = stamped.id.encode()
        produced_at[key] = now.timestamp()
        producer.send(topics.articles_raw, key=key, value=stamped.to_json())
    producer.flush()
    achieved = total / (time.monotonic() - started)
    producer.close()
    baseline = sum(tagged_start.values())
    wait_for_end_offsets(settings, topics.articles_tagged, lambda n: n - baseline >= total, timeout_s=600)
    wait_for_end_offsets(settings, topics.alerts, None, timeout_s=120, quiet_s=2.0)
    tagged_at = {
        key: stamp / 1000
        for stamp, key, _ in _read_from(settings, topics.articles_tagged, tagged_start, quiet_s=5)
        if key in produced_at
    }
    tagged = [tagged_at[key] - produced_at[key] for key in tagged_at]
    with trace.open("w") as out:
        for key, produced in sorted(produced_at.items(), key=lambda item: item[1]):
            if key in tagged_at:
                print(f"{produced - started_wall:.3f}\t{(tagged_at[key] - produced) * 1000:.1f}", file=out)
    fired = [json.loads(value) for _, _, value in _read_from(settings, topics.alerts, alerts_start, 3)]
    alerts = [float(a["latency_s"]) for a in fired if watch_ids is None or a["watch_id"] in watch_ids]
    return LatencyRun(label, rate, achieved, Percentiles.of(tagged), Percentiles.of(alerts))


def format_runs(runs: Sequence[WorkloadRun]) -> str:
    lines = [
        "pipeline benchmark — one worker, each workload's articles repeated under distinct ids",
        "",
        "| workload | source | articles | KB each | ceiling (aiokafka copy)/s | raw→tagged/s | end to end/s "
        "| share of ceiling | alerts |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        share = run.end_to_end_rate / run.ceiling_rate if run.ceiling_rate else 0.0
        lines.append(
            f"| {run.name} | {run.source} | {run.articles:,} | {run.kb_each:.1f} | {run.ceiling_rate:,.0f} "
            f"| {run.tagged_rate:,.0f} | {run.end_to_end_rate:,.0f} | {share:.1%} | {run.alerts:,} |"
        )
    lines += [
        "",
        "latency: produce→tagged over every article, produce→alert over the alerts (ms)",
        "",
        "| workload | load | articles/s | tagged p50 | tagged p99 | alert p50 | alert p95 | alert p99 | alerts |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        for phase in run.latency:
            tagged, alerts = phase.tagged, phase.alerts
            lines.append(
                f"| {run.name} | {phase.label} | {phase.achieved_rate:,.0f} | {tagged.p50 * 1000:,.0f} "
                f"| {tagged.p99 * 1000:,.0f} | {alerts.p50 * 1000:,.0f} | {alerts.p95 * 1000:,.0f} "
                f"| {alerts.p99 * 1000:,.0f} | {alerts.count} |"
            )
    lines += ["", "watches: " + "; ".join(dict.fromkeys(w for run in runs for w in run.watches))]
    return "\n".join(lines)

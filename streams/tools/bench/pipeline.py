"""``wirewatch bench pipeline``: throughput and latency of one worker on the real broker, beside a ceiling.

1. ceiling — a bare aiokafka consume→produce loop copying the same articles, no processing;
2. throughput — N synthetic ~3 KB articles already in ``articles.raw``, one worker: tagged and alert-firing
   rate from the broker's own record timestamps (first tagged → last output);
3. latency — articles produced at a fixed rate (default 200/s) carrying ``fetched`` = produce time;
   each alert's ``latency_s`` is then produce→alert. Percentiles over the alerts of that phase.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from streams.infra.kafka_topics import TopicSpec, delete_prefix_topics, ensure_topics, topic_specs
from streams.infra.processes import free_port, running_worker, wait_healthy
from streams.infra.settings import Settings
from streams.tools.figures import percentile
from streams.tools.synthetic import PAIR_PEOPLE, CorpusSpec, synthetic_corpus


@dataclass(frozen=True)
class PipelineFigures:
    articles: int
    ceiling_rate: float
    tagged_rate: float
    end_to_end_rate: float
    alerts: int
    latency_rate: float
    latency_alerts: int
    p50: float
    p95: float
    p99: float


def run_pipeline_bench(
    settings: Settings, count: int, rate: float, latency_s: float, workdir: Path, say: Callable[[str], None]
) -> PipelineFigures:

    from streams.infra.watches import build_watch, publish

    port = free_port()
    bench = settings.model_copy(update={"topic_prefix": f"bench{uuid.uuid4().hex[:8]}", "web_port": port})
    baseline_topic = f"{bench.topic_prefix}.baseline"
    ensure_topics(bench, [*topic_specs(bench), TopicSpec(baseline_topic, bench.topic_partitions)])
    try:
        for first, second in PAIR_PEOPLE:
            watch = build_watch("bench", [first, second], scope="sentence")
            publish(bench, watch.watch_id, watch)
        say(f"producing {count} synthetic articles into {bench.topics.articles_raw}")
        articles = list(synthetic_corpus(CorpusSpec(count=count), datetime.now(UTC)))
        _produce_all(bench, [(a.id.encode(), a.to_json()) for a in articles])
        say("ceiling: bare aiokafka consume→produce of the same records")
        ceiling = asyncio.run(_copy_rate(bench, baseline_topic, count))
        say(f"starting one worker (web port {port})")
        with running_worker(bench, workdir / "bench-worker.log") as worker:
            wait_healthy(port, worker)
            tagged_rate, end_rate, alerts = _throughput(bench, count)
            say(f"latency: {rate:g} articles/s for {latency_s:g} s")
            latencies, achieved = _latency_phase(
                bench, rate, latency_s, start_offsets=_end_offsets(bench, bench.topics.alerts)
            )
    finally:
        delete_prefix_topics(bench)
    return PipelineFigures(
        articles=count,
        ceiling_rate=ceiling,
        tagged_rate=tagged_rate,
        end_to_end_rate=end_rate,
        alerts=alerts,
        latency_rate=achieved,
        latency_alerts=len(latencies),
        p50=percentile(latencies, 0.50),
        p95=percentile(latencies, 0.95),
        p99=percentile(latencies, 0.99),
    )


def _produce_all(settings: Settings, records: list[tuple[bytes, bytes]]) -> None:
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


def _read_all(settings: Settings, topic: str, expected: int | None, quiet_s: float) -> list[tuple[int, bytes]]:
    """(timestamp ms, value) of every record on ``topic``; waits for ``expected`` or until quiet."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None, enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    found: list[tuple[int, bytes]] = []
    last = time.monotonic()
    while (expected is None or len(found) < expected) and time.monotonic() - last < quiet_s:
        for records in consumer.poll(timeout_ms=500, max_records=5000).values():
            found.extend((r.timestamp, r.value) for r in records)
            last = time.monotonic()
    consumer.close()
    return found


def _throughput(settings: Settings, count: int) -> tuple[float, float, int]:
    """Wait (watching end offsets only: reading records meanwhile would steal the worker's CPU), then read the
    broker's record timestamps: first tagged article → last tagged article, and → last alert."""
    _wait_for_end_offsets(settings, settings.topics.articles_tagged, lambda total: total >= count, timeout_s=600)
    _wait_for_end_offsets(settings, settings.topics.alerts, None, timeout_s=120)
    tagged = _read_all(settings, settings.topics.articles_tagged, count, quiet_s=10)
    alerts = _read_all(settings, settings.topics.alerts, None, quiet_s=3)
    stamps = [ts for ts, _ in tagged]
    first, last_tagged = min(stamps), max(stamps)
    last_output = max([last_tagged, *(ts for ts, _ in alerts)])
    return (
        len(tagged) / max((last_tagged - first) / 1000, 1e-3),
        len(tagged) / max((last_output - first) / 1000, 1e-3),
        len(alerts),
    )


def _wait_for_end_offsets(
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


def _latency_phase(
    settings: Settings, rate: float, duration_s: float, start_offsets: dict[TopicPartition, int]
) -> tuple[list[float], float]:
    total = int(rate * duration_s)
    spec = CorpusSpec(count=total, pair_share=0.3, syndicated_share=0.0, seed=7, spacing_s=1 / rate)
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=0)
    started = time.monotonic()
    for index, article in enumerate(synthetic_corpus(spec, datetime.now(UTC))):
        delay = started + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        stamped = article.model_copy(update={"fetched": datetime.now(UTC), "id": f"lat-{index}-{article.id}"})
        producer.send(settings.topics.articles_raw, key=stamped.id.encode(), value=stamped.to_json())
    producer.flush()
    achieved = total / (time.monotonic() - started)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None, enable_auto_commit=False)
    consumer.assign(list(start_offsets))
    for partition, offset in start_offsets.items():
        consumer.seek(partition, offset)
    latencies: list[float] = []
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < 5:
        for records in consumer.poll(timeout_ms=500).values():
            latencies.extend(json.loads(r.value)["latency_s"] for r in records)
            quiet_since = time.monotonic()
    consumer.close()
    return latencies, achieved


def format_figures(figures: PipelineFigures) -> str:
    share = figures.end_to_end_rate / figures.ceiling_rate if figures.ceiling_rate else 0.0
    return "\n".join(
        [
            f"pipeline benchmark — {figures.articles} synthetic articles (~3 KB), one worker",
            f"  ceiling: bare aiokafka consume→produce   {figures.ceiling_rate:10.0f} articles/s",
            f"  wirewatch raw→tagged                     {figures.tagged_rate:10.0f} articles/s",
            f"  wirewatch raw→tagged→pairs→alerts        {figures.end_to_end_rate:10.0f} articles/s "
            f"({share:.0%} of the ceiling; {figures.alerts} alerts)",
            f"  produce→alert latency at {figures.latency_rate:.0f} articles/s: "
            f"p50 {figures.p50 * 1000:.0f} ms, p95 {figures.p95 * 1000:.0f} ms, p99 {figures.p99 * 1000:.0f} ms "
            f"over {figures.latency_alerts} alerts",
        ]
    )

"""One look-back job, run in the worker's look-back process (``streams.worker.lookback``): read a stretch of one
``articles.raw`` partition, re-tag every article with today's registries and desk entities, match the job's
watch, and write each match as a ``HistoryHit`` and the job's progress as it goes.

Runs in a process of its own (spawned, at a lower CPU priority), never on the worker's event loop: tagging is
CPU-bound Python, and in the worker's process it would hold the interpreter lock the live stages need.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from streams.core.alerts import WatchIndex, match_watches
from streams.core.entities import DeskEntityMatcher
from streams.core.history import HistoryHit, LookbackJob, LookbackProgress
from streams.core.models import Article, DeskEntity, WireError
from streams.core.tagger import Tagger

PROGRESS_EVERY_S = 1.0
LOOKBACK_NICENESS = 10
"""How much lower the look-back process runs than the live stages (``os.nice``): it gets the CPU they leave."""
STALL_S = 60.0
"""A partition that yields nothing for this long before the job's end offset fails the job (the records are
gone: retention deleted them, or the topic was recreated)."""


@dataclass(frozen=True)
class ScanResult:
    scanned: int
    matches: int
    unreadable: int
    seconds: float


_parent: int | None = None


def lower_priority() -> None:
    """The look-back process's initializer: a lower priority, and the worker's pid to notice its death by."""
    global _parent
    _parent = os.getppid()
    os.nice(LOOKBACK_NICENESS)


class WorkerGone(Exception):
    """The worker that asked for the job died (a kill -9): its job goes to the next owner, so stop."""


@functools.cache
def _tagger() -> Tagger:
    from streams.infra.registry_files import shipped_tagger

    return shipped_tagger()


_matchers: dict[str, DeskEntityMatcher] = {}


def _desk_matcher(entities: list[bytes]) -> DeskEntityMatcher:
    """The desk-entity automaton, compiled once per distinct set of entities (jobs come in runs of the same)."""
    digest = hashlib.blake2b(b"\x00".join(sorted(entities)), digest_size=16).hexdigest()
    if digest not in _matchers:
        from streams.infra.inflection import name_forms

        previous = next(iter(_matchers.values()), None)
        _matchers.clear()
        _matchers[digest] = DeskEntityMatcher((DeskEntity.from_wire(raw) for raw in entities), name_forms, previous)
    return _matchers[digest]


def scan_job(
    job_json: bytes, entities: list[bytes], bootstrap: str, raw_topic: str, history: str, progress: str
) -> ScanResult:
    job = LookbackJob.from_wire(job_json)
    started = time.perf_counter()
    tagger, desk_entities = _tagger(), _desk_matcher(entities)
    index = WatchIndex.build([job.watch])
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )  # fmt: skip
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20)
    scanned = matches = unreadable = 0

    def report(state: str, error: str | None = None) -> None:
        record = LookbackProgress(
            lookback_id=job.lookback_id, watch_id=job.watch.watch_id, desk=job.watch.desk, job=job.job,
            jobs=job.jobs, partition=job.partition, scanned=scanned, total=job.end_offset - job.start_offset,
            matches=matches, unreadable=unreadable, state=state, error=error,  # type: ignore[arg-type]
            updated_at=datetime.now(UTC),
        )  # fmt: skip
        producer.send(progress, key=record.key.encode(), value=record.to_json())

    try:
        partition = TopicPartition(raw_topic, job.partition)
        consumer.assign([partition])
        consumer.seek(partition, job.start_offset)
        reported = last_record = time.monotonic()
        while consumer.position(partition) < job.end_offset:
            batch = consumer.poll(timeout_ms=1000, max_records=500).get(partition, [])
            if not batch and time.monotonic() - last_record > STALL_S:
                raise RuntimeError(f"{raw_topic}[{job.partition}] yielded nothing for {STALL_S:.0f} s")
            if _parent is not None and os.getppid() != _parent:
                raise WorkerGone(f"the worker (pid {_parent}) is gone")
            for record in batch:
                if record.offset >= job.end_offset:
                    break
                last_record = time.monotonic()
                scanned += 1
                try:
                    article = Article.from_wire(record.value if record.value is not None else b"null")
                except WireError:
                    unreadable += 1
                    continue
                for candidate in match_watches(tagger.tag(article, desk_entities), index):
                    hit = HistoryHit(lookback_id=job.lookback_id, candidate=candidate)
                    producer.send(history, key=hit.key.encode(), value=hit.to_json())
                    matches += 1
            if time.monotonic() - reported >= PROGRESS_EVERY_S:
                report("running")
                reported = time.monotonic()
        producer.flush()  # every hit is on the broker before the job says it is done
        report("done")
        producer.flush()
    except WorkerGone:
        raise  # not a failure of the job: its next owner scans it
    except Exception as err:
        report("failed", f"{type(err).__name__}: {err}")
        producer.flush()
        raise
    finally:
        consumer.close()
        producer.close()
    return ScanResult(scanned, matches, unreadable, time.perf_counter() - started)

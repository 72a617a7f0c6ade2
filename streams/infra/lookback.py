"""Look backs on Kafka: asking for one (the offsets of the window, one job record per stretch of a partition),
and reading progress and history back. The CLI and the desk API both use it; the workers do the scanning
(``streams.worker.lookback``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from streams.core.errors import BrokerUnavailable
from streams.core.history import (
    HistoryHit,
    HistoryStory,
    LookbackJob,
    LookbackProgress,
    LookbackStatus,
    history_stories,
    lookback_id_for,
    lookback_status,
    plan_jobs,
)
from streams.core.models import VersionedModel, Watch
from streams.infra.compacted import CompactedView, OnInvalid, publish_many
from streams.infra.kafka_topics import ARTICLE_RETENTION_S
from streams.infra.settings import Settings
from streams.infra.watches import WatchError


def check_since(since_s: int) -> None:
    """A look back reaches no further than ``articles.raw`` keeps articles."""
    if since_s <= 0:
        raise WatchError("a look back needs a positive duration (e.g. 7d, 12h)")
    if since_s > ARTICLE_RETENTION_S:
        days = ARTICLE_RETENTION_S // 86400
        raise WatchError(f"a look back reaches at most {days}d back: articles.raw keeps articles {days} days")


@dataclass(frozen=True)
class Lookback:
    lookback_id: str
    jobs: list[LookbackJob]

    @property
    def total(self) -> int:
        return sum(job.end_offset - job.start_offset for job in self.jobs)


def request_lookback(settings: Settings, watch: Watch, since_s: int, now: datetime) -> Lookback:
    """Plan the jobs over what ``articles.raw`` holds from ``now - since_s`` to its end now and publish each with a
    ``running`` progress record at zero (so a status has its total at once); a window with nothing in it gets one
    ``done`` record instead, so its status says so."""
    check_since(since_s)
    since = now - timedelta(seconds=since_s)
    try:
        consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None)
    except KafkaError as err:
        raise BrokerUnavailable(f"no Kafka broker answers at {settings.kafka_bootstrap}: {err}") from err
    try:
        topic = settings.topics.articles_raw
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            raise BrokerUnavailable(f"{topic} does not exist yet (start a worker or run `wirewatch topics`)")
        ends = consumer.end_offsets(partitions)
        found = consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in partitions})
    except KafkaError as err:
        raise BrokerUnavailable(f"could not read the offsets of {settings.topics.articles_raw}: {err}") from err
    finally:
        consumer.close()
    starts = {tp.partition: (found[tp].offset if found.get(tp) else ends[tp]) for tp in partitions}
    ends_by_partition = {tp.partition: ends[tp] for tp in partitions}
    jobs = plan_jobs(watch, since, now, starts, ends_by_partition, settings.lookback_job_records)
    lookback_id = lookback_id_for(watch.watch_id, since, now)
    if jobs:
        _publish_jobs(settings, jobs, now)
    else:
        empty = LookbackProgress(
            lookback_id=lookback_id, watch_id=watch.watch_id, desk=watch.desk, job=0, jobs=1, partition=0, scanned=0,
            total=0, matches=0, state="done", updated_at=now,
        )  # fmt: skip
        publish_many(settings, settings.topics.lookback_progress, [(empty.key, empty)])
    return Lookback(lookback_id, jobs)


def _publish_jobs(settings: Settings, jobs: list[LookbackJob], now: datetime) -> None:
    """Each job on its partition's number (modulo the jobs topic's partitions), after its zero progress."""
    progress = [(job.key, starting_progress(job, now)) for job in jobs]
    publish_many(settings, settings.topics.lookback_progress, progress)

    def partition_of(_key: str, job: VersionedModel | None, partitions: int) -> int:
        assert isinstance(job, LookbackJob)
        return job.partition % partitions

    publish_many(settings, settings.topics.lookback_jobs, [(job.key, job) for job in jobs], partition_of)


def starting_progress(job: LookbackJob, now: datetime) -> LookbackProgress:
    return LookbackProgress(
        lookback_id=job.lookback_id, watch_id=job.watch.watch_id, desk=job.watch.desk, job=job.job, jobs=job.jobs,
        partition=job.partition, scanned=0, total=job.end_offset - job.start_offset, matches=0, state="running",
        updated_at=now,
    )  # fmt: skip


def progress_view(settings: Settings, on_invalid: OnInvalid | None = None) -> CompactedView[LookbackProgress]:
    return CompactedView(
        settings.kafka_bootstrap, settings.topics.lookback_progress, LookbackProgress, lambda p: p.key, on_invalid
    )


def history_view(settings: Settings, on_invalid: OnInvalid | None = None) -> CompactedView[HistoryHit]:
    return CompactedView(settings.kafka_bootstrap, settings.topics.history, HistoryHit, lambda h: h.key, on_invalid)


def watch_status(progress: Mapping[str, LookbackProgress], watch_id: str) -> LookbackStatus | None:
    return lookback_status(p for p in progress.values() if p.watch_id == watch_id)


def watch_history(hits: Mapping[str, HistoryHit], watch_id: str) -> list[HistoryStory]:
    return history_stories(h.candidate for h in hits.values() if h.candidate.watch.watch_id == watch_id)


async def wait_for_lookback(
    settings: Settings, lookback_id: str, show: Callable[[LookbackStatus | None], None], timeout_s: float
) -> LookbackStatus | None:
    """Follow the progress topic, showing the look back's status, until it is no longer running or time is up."""
    view = progress_view(settings)
    follower = asyncio.create_task(view.run())
    try:
        await asyncio.wait_for(view.ready.wait(), 30)
        deadline = time.monotonic() + timeout_s
        while True:
            status = lookback_status(p for p in view.records.values() if p.lookback_id == lookback_id)
            show(status)
            if (status is not None and status.state != "running") or time.monotonic() > deadline:
                return status
            await asyncio.sleep(0.5)
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)  # its consumer stops before the loop ends


def read_progress(settings: Settings, timeout_s: float = 30.0) -> dict[str, LookbackProgress]:
    return progress_view(settings).read(timeout_s)


def read_history(settings: Settings, timeout_s: float = 30.0) -> dict[str, HistoryHit]:
    return history_view(settings).read(timeout_s)


def forget_history(
    settings: Settings, watch_id: str, hits: Mapping[str, HistoryHit], progress: Mapping[str, LookbackProgress]
) -> None:
    """Tombstone a removed watch's history and look-back progress (compaction then drops them)."""
    hit_keys = [key for key, hit in hits.items() if hit.candidate.watch.watch_id == watch_id]
    progress_keys = [key for key, record in progress.items() if record.watch_id == watch_id]
    publish_many(settings, settings.topics.history, [(key, None) for key in hit_keys])
    publish_many(settings, settings.topics.lookback_progress, [(key, None) for key in progress_keys])

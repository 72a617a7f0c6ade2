"""The worker's share of the look backs: the jobs of the partitions Kafka assigns it, scanned one at a time in a
process of its own.

Every worker joins one consumer group on ``lookback.jobs`` (Kafka's group membership spreads the jobs as Faust
spreads the articles; a lost worker's jobs move to the others). A job is committed once its scan is done; a
worker that dies mid-job leaves it to the next owner, which scans it again: hits are keyed by watch and article,
so the second scan overwrites the first. A job whose progress already says ``done`` is skipped.

The scan runs in a spawned child process at a lower priority (``streams.worker.lookback_scan``), so a week's
look back takes the CPU the live stages leave instead of their event loop and interpreter lock.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError as AsyncKafkaError

from streams.core.history import LookbackJob, LookbackProgress
from streams.core.models import WireError
from streams.infra.compacted import CompactedView, publish
from streams.infra.entities import EntityBook
from streams.infra.lookback import starting_progress
from streams.infra.settings import Settings
from streams.worker.lookback_scan import ScanResult, lower_priority, scan_job
from streams.worker.metrics import WorkerMetrics

log = logging.getLogger(__name__)

JOB_POLL_INTERVAL_MS = 15 * 60 * 1000
"""Longest a job may take before the group counts this worker as gone (a job is ``JOB_RECORDS`` articles)."""
DeadLetter = Callable[[str, str, str, bytes | None, bytes | None], Awaitable[None]]


class LookbackRunner:
    def __init__(
        self,
        settings: Settings,
        entities: EntityBook,
        progress: CompactedView[LookbackProgress],
        metrics: WorkerMetrics,
        dead_letter: DeadLetter,
    ) -> None:
        self._settings = settings
        self._entities = entities
        self._progress = progress
        self._metrics = metrics
        self._dead_letter = dead_letter
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")  # never fork a process with Faust's threads in it
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=lower_priority)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def run(self) -> None:
        """Take jobs forever; after a broker error, rejoin the group (an unfinished job is redone)."""
        await asyncio.gather(self._progress.ready.wait(), self._entities.built.wait())
        settings = self._settings
        while True:
            consumer = AIOKafkaConsumer(
                settings.topics.lookback_jobs,
                bootstrap_servers=settings.kafka_bootstrap,
                group_id=settings.group_id("lookback"),
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_interval_ms=JOB_POLL_INTERVAL_MS,
            )
            try:
                await consumer.start()
                while True:
                    batches = await consumer.getmany(timeout_ms=1000, max_records=1)
                    for tp, messages in batches.items():
                        for message in messages:
                            await self.run_job(message.key, message.value)
                            await consumer.commit({tp: message.offset + 1})
            except AsyncKafkaError as err:
                log.warning("look-back jobs: %s; rejoining in 2 s", err)
                await asyncio.sleep(2)
            finally:
                await consumer.stop()

    async def run_job(self, key: bytes | None, value: bytes | None) -> None:
        try:
            job = LookbackJob.from_wire(value if value is not None else b"null")
        except WireError as err:
            await self._dead_letter("lookback", "invalid_message", str(err), key, value)
            return
        done = self._progress.records.get(job.key)
        if done is not None and done.state == "done":
            self._metrics.lookback_jobs.labels("skipped").inc()
            return
        entities = [entity.to_json() for entity in self._entities.records.values()]
        names = self._settings.topics
        loop = asyncio.get_running_loop()
        try:
            result: ScanResult = await loop.run_in_executor(
                self._executor(), scan_job, job.to_json(), entities, self._settings.kafka_bootstrap,
                names.articles_raw, names.history, names.lookback_progress,
            )  # fmt: skip
        except Exception as err:  # the child reported "failed" itself, unless it died (then say so here)
            log.exception("look-back job %s failed", job.key)
            self._metrics.lookback_jobs.labels("failed").inc()
            if isinstance(err, BrokenProcessPool):
                self._pool = None
                failed = starting_progress(job, datetime.now(UTC)).model_copy(
                    update={"state": "failed", "error": f"the look-back process died: {err}"}
                )
                await asyncio.to_thread(publish, self._settings, names.lookback_progress, job.key, failed)
            return
        self._metrics.lookback_jobs.labels("done").inc()
        self._metrics.lookback_articles.inc(result.scanned)
        self._metrics.history_matches.inc(result.matches)
        log.info(
            "look-back job %s: %d articles, %d matches in %.1f s", job.key, result.scanned, result.matches,
            result.seconds,
        )  # fmt: skip

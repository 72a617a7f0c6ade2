"""Kafka traffic for the scenarios: a steady-rate producer thread, reading a topic to its end, waiting for the
worker group to drain, the group's rebalance state, and removing a scenario's topics afterwards."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError

from streams.infra.kafka_topics import admin_client
from streams.infra.observability import ConsumerLagProbe
from streams.infra.observability import group_positions as positions_of
from streams.infra.settings import Settings

Say = Callable[[str], None]


@dataclass(frozen=True)
class PacedStats:
    sent: int
    failed: int
    elapsed_s: float
    max_behind_s: float
    """The furthest the producer fell behind its schedule (a loaded machine shows here, not in the rate)."""

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s else 0.0


class PacedProducer:
    """Produces ``records`` to ``topic`` at a steady ``rate`` from a background thread (``acks=all``,
    idempotent): the scenario's main thread is free to kill and restart processes meanwhile."""

    def __init__(self, bootstrap: str, topic: str, records: Iterable[tuple[bytes, bytes]], rate: float) -> None:
        self.topic = topic
        self.rate = rate
        self._records = records
        self._producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="paced-producer", daemon=True)
        self._sent = 0
        self._failed = 0
        self._elapsed = 0.0
        self._behind = 0.0

    @property
    def sent(self) -> int:
        return self._sent

    def start(self) -> PacedProducer:
        self._thread.start()
        return self

    def _failure(self, _err: Exception) -> None:
        self._failed += 1

    def _run(self) -> None:
        started = time.monotonic()
        try:
            for index, (key, value) in enumerate(self._records):
                if self._stop.is_set():
                    break
                delay = started + index / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self._behind = max(self._behind, -delay)
                self._producer.send(self.topic, key=key, value=value).add_errback(self._failure)
                self._sent += 1
            self._producer.flush()
        finally:
            self._elapsed = time.monotonic() - started

    def wait(self) -> PacedStats:
        """Until every record is produced and acknowledged."""
        self._thread.join()
        return PacedStats(self._sent, self._failed, self._elapsed, self._behind)

    def stop(self) -> PacedStats:
        """Stop producing now; the first ``sent`` records are produced and acknowledged when this returns."""
        self._stop.set()
        return self.wait()

    def __enter__(self) -> PacedProducer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        """Stop early (a failed scenario) or after ``wait``; the client is closed either way."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(60)
        self._producer.close(timeout=30)


def read_topic(bootstrap: str, topic: str, timeout_s: float = 120.0) -> list[ConsumerRecord]:
    """Every record of ``topic`` up to the end offsets of the moment of the call, from all partitions."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            return []
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: not read to its end within {timeout_s:.0f} s")
            for batch in consumer.poll(timeout_ms=500, max_records=5000).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


class AlertClock:
    """Reads the alerts topic from a background thread while a scenario runs: when each alert id was first
    fired (the worker's ``fired_at``), so a scenario can ask for the first alert fired after a moment."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
        partitions = [TopicPartition(topic, p) for p in sorted(self._consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            raise RuntimeError(f"{topic}: no partitions (create the scenario's topics first)")
        self._consumer.assign(partitions)
        self._consumer.seek_to_beginning(*partitions)
        self._fired: list[float] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-clock", daemon=True)

    def _run(self) -> None:
        from streams.core.models import Alert

        while not self._stop.is_set():
            for batch in self._consumer.poll(timeout_ms=200).values():
                times = [Alert.from_wire(r.value).fired_at.timestamp() for r in batch]
                with self._lock:
                    self._fired.extend(times)

    def first_fired_after(self, moment: float) -> float | None:
        """The earliest ``fired_at`` (Unix time) at or after ``moment`` seen so far."""
        with self._lock:
            later = [fired for fired in self._fired if fired >= moment]
        return min(later) if later else None

    def __enter__(self) -> AlertClock:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(30)
        self._consumer.close()


def worker_topics(settings: Settings) -> tuple[str, ...]:
    """The topics whose committed lag says whether the pipeline has finished its input."""
    return (settings.topics.articles_raw, settings.topics.pairs)


def total_lag(settings: Settings) -> int:
    """The worker group's lag on the raw and pairs topics (committed offsets; producers flush first)."""
    return sum(ConsumerLagProbe(settings.kafka_bootstrap, settings.app_id).measure(worker_topics(settings)).values())


def group_positions(settings: Settings) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
    """Per partition of the worker topics: the end offset, and the group's position (its committed offset, or
    the first retained record where it never committed)."""
    end, committed, start = ConsumerLagProbe(settings.kafka_bootstrap, settings.app_id).offsets(worker_topics(settings))
    return end, positions_of(end, committed, start)


def wait_drained(settings: Settings, timeout_s: float, say: Say, settle_s: float = 2.0) -> float:
    """Until the group has committed everything on raw and pairs (twice, ``settle_s`` apart); return the wait.

    Faust flushes its producer before it commits, so a drained group has also written every alert.
    """
    started = time.monotonic()
    zero_since: float | None = None
    reported = started
    while True:
        now = time.monotonic()
        try:
            lag = total_lag(settings)
        except KafkaError as err:
            say(f"lag not measured yet: {err}")
            lag = -1
        if lag == 0:
            zero_since = zero_since or now
            if now - zero_since >= settle_s:
                return now - started
        else:
            zero_since = None
        if now - started > timeout_s:
            raise TimeoutError(f"the worker group still lags {lag} records after {timeout_s:.0f} s")
        if now - reported >= 10:
            say(f"waiting for the workers to drain: lag {lag}")
            reported = now
        time.sleep(1.0)


class GroupProbe:
    """Reads the worker group's state as the coordinator reports it (``PreparingRebalance`` during a rebalance)
    through one admin client kept open: a rebalance of live static members can be over in well under a second,
    shorter than connecting a new client for every look. Use as a context manager."""

    def __init__(self, settings: Settings) -> None:
        self._group = settings.app_id
        self._admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id=f"{settings.app_id}-probe")

    def state(self) -> str:
        state: str = self._admin.describe_groups([self._group])[self._group]["group_state"]
        return state

    def __enter__(self) -> GroupProbe:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._admin.close()


def delete_scenario_topics(settings: Settings) -> None:
    """Remove the scenario's topics and the worker's changelogs: a run leaves the shared broker as it found it."""
    admin = admin_client(settings)
    try:
        prefixes = (f"{settings.topic_prefix}.", f"{settings.app_id}-")
        mine = [topic for topic in admin.list_topics() if topic.startswith(prefixes)]
        if mine:
            admin.delete_topics(mine)
    finally:
        admin.close()

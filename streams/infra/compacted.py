"""Compacted state topics (watches, desks, webhooks): a live view per process, and the one way to write them.

Each topic holds the latest record per key; a tombstone (null value) deletes. Every worker needs *all* of
them, so they are read by a plain aiokafka consumer without a group (decision 0003 explains why not Faust's
GlobalTable): from the beginning up to the end offsets seen at start, swapped in at once (``ready``), then
followed batch by batch, each batch applied to a copy and swapped in, so readers never see half a batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError as AsyncKafkaError
from kafka import KafkaProducer
from kafka.errors import KafkaError

from streams.core.errors import BrokerUnavailable
from streams.core.models import VersionedModel, WireError
from streams.infra.settings import Settings

log = logging.getLogger(__name__)

Record = TypeVar("Record", bound=VersionedModel)
OnInvalid = Callable[[bytes | None, bytes | None, str], None]


def publish(settings: Settings, topic: str, key: str, record: VersionedModel | None) -> None:
    """Write ``record`` (a tombstone when ``None``) under ``key`` and wait until the broker has it."""
    publish_many(settings, topic, [(key, record)])


def publish_many(
    settings: Settings,
    topic: str,
    records: Iterable[tuple[str, VersionedModel | None]],
    partition_of: Callable[[str, VersionedModel | None, int], int] | None = None,
) -> None:
    """``publish`` for many keys through one producer (tombstoning a removed watch's history, say);
    ``partition_of(key, record, partitions)`` places each record instead of its key's hash."""
    try:
        producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True)
    except KafkaError as err:
        raise BrokerUnavailable(f"no Kafka broker answers at {settings.kafka_bootstrap}: {err}") from err
    try:
        count = len(producer.partitions_for(topic)) if partition_of is not None else 0
        sent = [
            producer.send(
                topic,
                key=key.encode(),
                value=record.to_json() if record is not None else None,
                partition=partition_of(key, record, count) if partition_of is not None else None,
            )
            for key, record in records
        ]
        for future in sent:
            future.get(timeout=30)
    except KafkaError as err:
        raise BrokerUnavailable(f"could not write to {topic}: {err}") from err
    finally:
        producer.close()


def apply_record(
    records: dict[str, Record],
    key: bytes | None,
    value: bytes | None,
    model: type[Record],
    key_of: Callable[[Record], str],
    on_invalid: OnInvalid,
) -> None:
    """One record of a compacted topic into ``records`` (a tombstone deletes); what cannot be read goes to
    ``on_invalid``, and a record filed under another key than its own is not taken."""
    if key is None:
        on_invalid(key, value, "record without a key")
        return
    name = key.decode("utf-8", errors="replace")
    if value is None:
        records.pop(name, None)
        return
    try:
        record = model.from_wire(value)
    except WireError as err:
        on_invalid(key, value, str(err))
        return
    if key_of(record) != name:
        on_invalid(key, value, f"key {name!r} differs from the record's own id {key_of(record)!r}")
        return
    records[name] = record


def log_invalid(topic: str) -> OnInvalid:
    def on_invalid(key: bytes | None, _value: bytes | None, reason: str) -> None:
        log.warning("%s: skipped record %r: %s", topic, key, reason)

    return on_invalid


class CompactedView(Generic[Record]):
    """A live ``key → record`` copy of one compacted topic."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        model: type[Record],
        key_of: Callable[[Record], str],
        on_invalid: OnInvalid | None = None,
        on_change: Callable[[Mapping[str, Record]], None] = lambda _records: None,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.ready = asyncio.Event()
        self.records: Mapping[str, Record] = {}
        self._model = model
        self._key_of = key_of
        self._on_invalid = on_invalid or log_invalid(topic)
        self._on_change = on_change

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """Apply one record now (read-your-writes for a process that just published it)."""
        records = dict(self.records)
        self._apply_to(records, key, value)
        self._swap(records)

    def _apply_to(self, records: dict[str, Record], key: bytes | None, value: bytes | None) -> None:
        apply_record(records, key, value, self._model, self._key_of, self._on_invalid)

    def _swap(self, records: dict[str, Record]) -> None:
        self.records = records
        self._on_change(records)

    async def snapshot(self, timeout_s: float = 30.0) -> dict[str, Record]:
        """Read the topic once, to its current end (the CLI's view)."""
        consumer = groupless_consumer(self.bootstrap)
        try:
            await consumer.start()
            await asyncio.wait_for(self._load(consumer), timeout_s)
        except TimeoutError as err:
            raise BrokerUnavailable(f"could not read {self.topic} within {timeout_s:.0f} s") from err
        finally:
            await consumer.stop()
        return dict(self.records)

    def read(self, timeout_s: float = 30.0) -> dict[str, Record]:
        """``snapshot`` for synchronous callers."""
        return asyncio.run(self.snapshot(timeout_s))

    async def run(self) -> None:
        """Follow the topic forever; after a broker error, reconnect and reload it whole."""

        async def follow(consumer: AIOKafkaConsumer) -> None:
            await self._load(consumer)
            while True:
                batches = await consumer.getmany(timeout_ms=1000, max_records=1000)
                if any(batches.values()):
                    records = dict(self.records)
                    self._apply_batch(records, batches)
                    self._swap(records)

        await follow_forever(self.bootstrap, self.topic, follow)

    async def _load(self, consumer: AIOKafkaConsumer) -> None:
        """Read up to the end offsets seen now into a fresh dict, then swap it in at once.

        Without a group, ``subscribe`` assigns every partition and ``auto_offset_reset=earliest`` starts at the
        beginning (aiokafka's ``partitions_for_topic`` alone would not fetch metadata for an unassigned topic).
        """
        consumer.subscribe([self.topic])
        loaded: dict[str, Record] = {}
        while not consumer.assignment():
            self._apply_batch(loaded, await consumer.getmany(timeout_ms=200, max_records=1000))
        assigned = sorted(consumer.assignment())
        end = await consumer.end_offsets(assigned)
        while any([await consumer.position(tp) < end[tp] for tp in assigned]):
            self._apply_batch(loaded, await consumer.getmany(timeout_ms=500, max_records=1000))
        self._swap(loaded)
        if not self.ready.is_set():
            log.info("%s ready: %d records", self.topic, len(loaded))
            self.ready.set()

    def _apply_batch(self, records: dict[str, Record], batches: dict[TopicPartition, list[Any]]) -> None:
        for messages in batches.values():
            for message in messages:
                self._apply_to(records, message.key, message.value)


def groupless_consumer(bootstrap: str) -> AIOKafkaConsumer:
    """A consumer outside any group, reading from the earliest offset and committing nothing: every process
    that follows a topic whole (compacted views, the desk alert store) reads it this way."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest"
    )


async def follow_forever(bootstrap: str, what: str, session: Callable[[AIOKafkaConsumer], Awaitable[None]]) -> None:
    """Run ``session`` on a fresh group-less consumer; after a broker error, log it, wait 2 s and start again
    (the session reloads what it needs: a broker restart must not leave a follower stuck)."""
    while True:
        consumer = groupless_consumer(bootstrap)
        try:
            await consumer.start()
            await session(consumer)
        except AsyncKafkaError as err:
            log.warning("%s: %s; reconnecting in 2 s", what, err)
            await asyncio.sleep(2)
        finally:
            await consumer.stop()

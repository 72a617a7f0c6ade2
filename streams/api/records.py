"""Desk and webhook records: their wire shapes, and reading or writing their compacted topics.

Both topics hold state (latest value per key, a tombstone deletes), like the watches topic. Workers follow
them with ``CompactedView``; the ``desk`` CLI reads them once to their end and writes with ``publish``. Only
hashes of desk tokens are stored; webhook signing secrets have to be stored as they are (signing needs them),
so the webhooks topic must be as protected as the broker itself (docs/decisions/0401-desk-api-design.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError as AsyncKafkaError
from kafka import KafkaProducer
from kafka.errors import KafkaError
from pydantic import AwareDatetime, Field

from streams.core.models import VersionedModel, WireError, WireModel
from streams.errors import BrokerUnavailable
from streams.settings import Settings

log = logging.getLogger(__name__)

DESK_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
WebhookFormat = Literal["standard", "slack"]


class DeskRecord(VersionedModel):
    """A desk (``desks``, compacted, key = ``name``): who may call the API as this desk."""

    TOPIC: ClassVar[str] = "desks"

    name: Annotated[str, Field(pattern=DESK_NAME_PATTERN)]
    token_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    created_at: AwareDatetime
    rotated_at: AwareDatetime | None = None


class SigningSecret(WireModel):
    secret: Annotated[str, Field(pattern=r"^whsec_[A-Za-z0-9+/=]+$")]
    expires_at: AwareDatetime | None = None
    """``None`` for the current secret; a rotated-away one keeps signing until then."""


class WebhookRecord(VersionedModel):
    """A desk's webhook endpoint (``webhooks``, compacted, key = ``webhook_id``)."""

    TOPIC: ClassVar[str] = "webhooks"

    webhook_id: Annotated[str, Field(pattern=r"^wh-[0-9a-f]{16}$")]
    desk: Annotated[str, Field(pattern=DESK_NAME_PATTERN)]
    url: Annotated[str, Field(min_length=1, max_length=2048)]
    format: WebhookFormat = "standard"
    description: Annotated[str, Field(max_length=200)] = ""
    secrets: tuple[SigningSecret, ...]
    enabled: bool = True
    disabled_reason: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets that sign a delivery made at ``now``: the current one plus any still overlapping."""
        return [s.secret for s in self.secrets if s.expires_at is None or s.expires_at > now]


Record = TypeVar("Record", bound=VersionedModel)


def publish(settings: Settings, topic: str, key: str, record: VersionedModel | None) -> None:
    """Write ``record`` (a tombstone when ``None``) under ``key`` and wait until the broker has it."""
    try:
        producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True)
    except KafkaError as err:
        raise BrokerUnavailable(f"no Kafka broker answers at {settings.kafka_bootstrap}: {err}") from err
    try:
        value = record.to_json() if record is not None else None
        producer.send(topic, key=key.encode(), value=value).get(timeout=30)
    except KafkaError as err:
        raise BrokerUnavailable(f"could not write to {topic}: {err}") from err
    finally:
        producer.close()


class CompactedView(Generic[Record]):
    """A live ``key → record`` copy of one compacted topic, read without a consumer group.

    ``ready`` is set once the topic has been read up to the end offsets seen at start. Invalid records are
    logged and skipped: these topics are written only by wirewatch itself.
    """

    def __init__(self, bootstrap: str, topic: str, model: type[Record], key_of: Callable[[Record], str]) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.ready = asyncio.Event()
        self.records: dict[str, Record] = {}
        self._model = model
        self._key_of = key_of

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """Apply one record now (a worker's read-your-writes after it published it itself)."""
        self._apply_to(self.records, key, value)

    def _apply_to(self, records: dict[str, Record], key: bytes | None, value: bytes | None) -> None:
        """A value upserts, a tombstone deletes."""
        if key is None:
            return
        name = key.decode("utf-8", errors="replace")
        if value is None:
            records.pop(name, None)
            return
        try:
            record = self._model.from_wire(value)
        except WireError as err:
            log.warning("%s: skipped record %r: %s", self.topic, name, err)
            return
        if self._key_of(record) != name:
            log.warning("%s: skipped record %r: key differs from the record's own id", self.topic, name)
            return
        records[name] = record

    async def snapshot(self) -> dict[str, Record]:
        """Read the topic once, to its current end."""
        consumer = self._consumer()
        try:
            await consumer.start()
            await self._load(consumer)
        finally:
            await consumer.stop()
        return dict(self.records)

    async def run(self) -> None:
        """Follow the topic forever; after a broker error, reconnect and reload it whole."""
        while True:
            consumer = self._consumer()
            try:
                await consumer.start()
                await self._load(consumer)
                while True:
                    self._apply_batch(self.records, await consumer.getmany(timeout_ms=1000, max_records=1000))
            except AsyncKafkaError as err:
                log.warning("%s: %s; reconnecting in 2 s", self.topic, err)
                await asyncio.sleep(2)
            finally:
                await consumer.stop()

    def _consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest"
        )

    async def _load(self, consumer: AIOKafkaConsumer) -> None:
        """Read up to the end offsets seen now into a fresh dict, then swap it in at once."""
        consumer.subscribe([self.topic])
        loaded: dict[str, Record] = {}
        while not consumer.assignment():
            self._apply_batch(loaded, await consumer.getmany(timeout_ms=200, max_records=1000))
        assigned = sorted(consumer.assignment())
        end = await consumer.end_offsets(assigned)
        while any([await consumer.position(tp) < end[tp] for tp in assigned]):
            self._apply_batch(loaded, await consumer.getmany(timeout_ms=500, max_records=1000))
        self.records = loaded
        self.ready.set()

    def _apply_batch(self, records: dict[str, Record], batches: dict[TopicPartition, list[Any]]) -> None:
        for messages in batches.values():
            for message in messages:
                self._apply_to(records, message.key, message.value)


def desk_view(settings: Settings) -> CompactedView[DeskRecord]:
    return CompactedView(settings.kafka_bootstrap, settings.topics.desks, DeskRecord, lambda d: d.name)


def webhook_view(settings: Settings) -> CompactedView[WebhookRecord]:
    return CompactedView(settings.kafka_bootstrap, settings.topics.webhooks, WebhookRecord, lambda w: w.webhook_id)


def read_desks(settings: Settings, timeout_s: float = 30.0) -> dict[str, DeskRecord]:
    """All desks as the workers will see them (the CLI's view)."""
    try:
        return asyncio.run(asyncio.wait_for(desk_view(settings).snapshot(), timeout_s))
    except TimeoutError as err:
        raise BrokerUnavailable(f"could not read {settings.topics.desks} within {timeout_s:.0f} s") from err

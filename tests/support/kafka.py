"""Produce/consume helpers for integration tests against the real broker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic


def unique_name(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    partition: int
    offset: int

    @classmethod
    def of(cls, message: Any) -> Record:
        """A kafka-python ``ConsumerRecord`` as the fields the tests look at."""
        return cls(message.key, message.value, tuple(message.headers or ()), message.partition, message.offset)


def create_topics(bootstrap: str, names: Iterable[str], partitions: int = 1) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(n, partitions, 1) for n in names], wait_for_metadata=True)
    finally:
        admin.close()


def produce(
    bootstrap: str,
    topic: str,
    records: Iterable[tuple[bytes | None, bytes | None]],
    headers: list[tuple[str, bytes]] | None = None,
) -> int:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    count = 0
    try:
        for key, value in records:
            producer.send(topic, key=key, value=value, headers=headers or [])
            count += 1
        producer.flush(timeout=30)
    finally:
        producer.close()
    return count


def consume(bootstrap: str, topic: str, expected: int, timeout_s: float = 60.0) -> list[Record]:
    """Read ``topic`` from the beginning until ``expected`` records arrived or the timeout passed."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=1000,
    )
    records: list[Record] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for message in consumer:
                records.append(Record.of(message))
                if len(records) >= expected:
                    break
    finally:
        consumer.close()
    return records


def consume_quiet(bootstrap: str, topic: str, quiet_s: float = 3.0, timeout_s: float = 60.0) -> list[Record]:
    """Read everything on ``topic``: stop once nothing new arrived for ``quiet_s``."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=int(quiet_s * 1000),
    )
    records: list[Record] = []
    deadline = time.monotonic() + timeout_s
    try:
        for message in consumer:
            records.append(Record.of(message))
            if time.monotonic() > deadline:
                break
    finally:
        consumer.close()
    return records

"""Every worker's copy of all watches, read from the compacted watches topic and kept live.

Each worker needs *all* watches (any article may match any watch), so this is not a partitioned table.
Faust's GlobalTable was the obvious tool, but it has a history of standby/recovery bugs
(docs/decisions/0003-watches-from-a-plain-consumer.md); a plain aiokafka consumer without a group, assigned
every partition from the beginning, is small and predictable. ``ready`` is set once the topic has been read
up to the end offsets seen at start, so no article is matched against a half-loaded watch list.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from streams.core.alerts import WatchIndex
from streams.core.models import Watch, WireError

log = logging.getLogger(__name__)


class WatchBook:
    def __init__(
        self,
        bootstrap: str,
        topic: str,
        on_invalid: Callable[[bytes, bytes | None, str], None],
        on_change: Callable[[float], None] = lambda _count: None,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.ready = asyncio.Event()
        self._watches: dict[str, Watch] = {}
        self.index = WatchIndex.build(())
        self._on_invalid = on_invalid
        self._on_change = on_change

    @property
    def watches(self) -> dict[str, Watch]:
        return dict(self._watches)

    def _apply_to(self, watches: dict[str, Watch], key: bytes | None, value: bytes | None) -> bool:
        """Apply one record of the compacted topic: a Watch upserts, a tombstone deletes."""
        if key is None:
            self._on_invalid(b"", value, "watch record without a key")
            return False
        watch_id = key.decode("utf-8", errors="replace")
        if value is None:
            return watches.pop(watch_id, None) is not None
        try:
            watch = Watch.from_wire(value)
        except WireError as err:
            self._on_invalid(key, value, str(err))
            return False
        if watch.watch_id != watch_id:
            self._on_invalid(key, value, f"key {watch_id!r} differs from watch_id {watch.watch_id!r}")
            return False
        watches[watch_id] = watch
        return True

    def _publish(self, watches: dict[str, Watch]) -> None:
        self._watches = watches
        self.index = WatchIndex.build(watches.values())
        self._on_change(len(watches))

    async def snapshot(self) -> dict[str, Watch]:
        """Read the topic once, to its current end (the CLI's view of the watches)."""
        consumer = self._consumer()
        try:
            await consumer.start()
            await self._load(consumer)
        finally:
            await consumer.stop()
        return self.watches

    def _consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest"
        )

    async def run(self) -> None:
        """Consume forever; after a broker error, reconnect and reload the whole topic."""
        while True:
            consumer = self._consumer()
            try:
                await consumer.start()
                await self._load(consumer)
                await self._follow(consumer)
            except KafkaError as err:
                log.warning("watch book: %s; reconnecting in 2 s", err)
                await asyncio.sleep(2)
            finally:
                await consumer.stop()

    async def _load(self, consumer: AIOKafkaConsumer) -> None:
        """Read the topic up to the end offsets seen now into a fresh dict, then swap it in at once.

        Without a group, ``subscribe`` assigns every partition and ``auto_offset_reset=earliest`` starts at
        the beginning (``partitions_for_topic`` alone would not fetch metadata for an unassigned topic).
        """
        consumer.subscribe([self.topic])
        loaded: dict[str, Watch] = {}
        while not consumer.assignment():
            self._apply_batch(loaded, await consumer.getmany(timeout_ms=200, max_records=1000))
        assigned = sorted(consumer.assignment())
        end = await consumer.end_offsets(assigned)
        while any([await consumer.position(tp) < end[tp] for tp in assigned]):
            self._apply_batch(loaded, await consumer.getmany(timeout_ms=500, max_records=1000))
        self._publish(loaded)
        if not self.ready.is_set():
            log.info("watch book ready: %d watches from %s", len(loaded), self.topic)
            self.ready.set()

    def _apply_batch(self, watches: dict[str, Watch], batches: dict[TopicPartition, list[Any]]) -> None:
        for records in batches.values():
            for record in records:
                self._apply_to(watches, record.key, record.value)

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=1000, max_records=1000)
            if any(batches.values()):
                watches = dict(self._watches)
                self._apply_batch(watches, batches)
                self._publish(watches)

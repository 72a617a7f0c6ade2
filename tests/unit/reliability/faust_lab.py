"""A broker-less bench for Faust's consumer: the real drain loop, ``ack``, commit path, ``perform_seek``,
revoke, flow control and queues, with only the broker's I/O faked (the fetch position, the committed offsets,
the log start). What the reliability scenarios found against the broker reproduces here deterministically.

``Lab.lost()`` is what matters: the offsets the broker's committed position passed that no agent processed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import faust
from aiokafka.structs import ConsumerRecord
from faust.transport.consumer import Consumer
from faust.types import TP

TOPIC = "lab.articles.raw"
P0, P1 = TP(TOPIC, 0), TP(TOPIC, 1)


def record(tp: TP, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, b"k", b"v", None, 1, 1, [])


@dataclass
class Lab:
    """One consumer over ``partitions`` of a topic, an agent that acknowledges what it takes from its queue."""

    partitions: tuple[TP, ...] = (P0, P1)
    log_size: dict[TP, int] = field(default_factory=dict)
    """Records in each partition (offsets 0 .. size-1; the log starts at 0)."""
    position: dict[TP, int] = field(default_factory=dict)
    """The fetch position (aiokafka: the committed offset after a seek, else where the last fetch ended)."""
    broker_committed: dict[TP, int] = field(default_factory=dict)
    commits: list[dict[TP, int]] = field(default_factory=list)
    processed: list[tuple[int, int]] = field(default_factory=list)
    agent_delay_s: float = 0.002
    queue_size: int = 4096
    processed_before: Callable[[TP, int], bool] = lambda tp, offset: False
    """The worker's check for a record read again after the one it had processed (the offsets guard's)."""
    fail_commits: bool = False
    """The broker refuses commits (a rebalance in progress): Faust still records them as committed locally."""
    app: faust.App = field(init=False)
    consumer: Consumer = field(init=False)
    queue: Any = field(init=False)
    _drain: asyncio.Future[Any] | None = None
    _agent_task: asyncio.Future[Any] | None = None

    def __post_init__(self) -> None:
        self.app = faust.App("lab", broker="kafka://127.0.0.1:1", store="memory://")
        self.consumer = self.app.consumer
        self.app.topics._acking_topics.add(TOPIC)
        for tp in self.partitions:
            self.log_size.setdefault(tp, 0)
            self.position.setdefault(tp, 0)
        consumer = self.consumer
        consumer.highwater = lambda tp: self.log_size[tp]
        consumer.assignment = lambda: set(self.partitions)
        consumer._wait_next_records = self._fetch
        consumer.seek_to_committed = self._seek_to_committed
        consumer.earliest_offsets = self._earliest_offsets
        consumer._seek = self._seek_from_the_wrong_thread
        consumer.seek_wait = self._seek_wait
        consumer.position = self._position
        consumer._commit = self._commit
        self.app.producer.flush = self._flush
        self.queue = self.app.FlowControlQueue(
            maxsize=self.queue_size, clear_on_resume=True
        )  # an agent's channel queue
        consumer.callback = self.queue.put

    # ------------------------------------------------------------------ the broker, faked
    async def _fetch(
        self,
        timeout: float,  # noqa: ASYNC109 - Consumer._wait_next_records' signature
    ) -> tuple[dict[TP, list[ConsumerRecord[bytes, bytes]]], set[TP]]:
        if not self.consumer.flow_active:
            await self.consumer.can_resume_flow.wait()
        await asyncio.sleep(0.001)
        active = self.consumer._get_active_partitions()
        records = {}
        for tp in sorted(active):
            if self.position[tp] < self.log_size[tp]:
                records[tp] = [record(tp, o) for o in range(self.position[tp], self.log_size[tp])]
                self.position[tp] = self.log_size[tp]
        return records, active

    async def _seek_to_committed(self) -> dict[TP, int | None]:
        """aiokafka: one OffsetFetch round trip per partition; seeks only where an offset was committed."""
        answer: dict[TP, int | None] = {}
        for tp in self.partitions:
            await asyncio.sleep(0.025)
            offset = self.broker_committed.get(tp)
            if offset:
                self.position[tp] = offset
            answer[tp] = offset
        return answer

    async def _earliest_offsets(self, *partitions: TP) -> dict[TP, int]:
        return dict.fromkeys(partitions, 0)

    async def _seek_wait(self, partitions: dict[TP, int]) -> None:
        """Faust's seek in the consumer's thread: the position, and the read offset that filters re-fetches."""
        for tp, offset in partitions.items():
            self.position[tp] = offset
            if offset > 0:
                self.consumer._read_offset[tp] = offset
            else:
                self.consumer._read_offset.pop(tp, None)

    async def _position(self, tp: TP) -> int:
        return self.position[tp]

    async def _seek_from_the_wrong_thread(self, tp: TP, offset: int) -> None:
        """``Consumer.seek`` runs aiokafka's seek in the event loop's thread, racing the consumer thread."""
        raise AssertionError(f"seek of {tp} outside the consumer thread")

    async def _commit(self, offsets: dict[TP, int]) -> bool:
        self.commits.append(dict(offsets))
        if self.fail_commits:
            return False
        self.broker_committed.update(offsets)
        return True

    async def _flush(self) -> None:
        return None

    # ------------------------------------------------------------------ the worker
    def append(self, count: int, partitions: Iterable[TP] | None = None) -> None:
        """Producers write ``count`` more records to each partition."""
        for tp in partitions or self.partitions:
            self.log_size[tp] += count

    def start(self, agent_starts_after_s: float = 0.0) -> None:
        self._start_fetcher()
        self.start_agent(agent_starts_after_s)

    def _start_fetcher(self) -> None:
        if self._drain is None or self._drain.done():
            fetcher = type("Fetcher", (), {"_stopped": asyncio.Event()})()
            self._drain = asyncio.ensure_future(self.consumer._drain_messages(fetcher))

    def _stop_fetcher(self) -> None:
        if self._drain is not None:
            self._drain.cancel()

    def start_agent(self, after_s: float = 0.0) -> None:
        self._agent_task = asyncio.ensure_future(self._agent(after_s))

    def stop_agent(self) -> None:
        """The agent stops between two messages (nothing in flight)."""
        if self._agent_task is not None:
            self._agent_task.cancel()

    async def _agent(self, starts_after_s: float) -> None:
        await asyncio.sleep(starts_after_s)
        while True:
            message = await self.queue.get()
            if not self.processed_before(message.tp, message.offset):
                await asyncio.sleep(self.agent_delay_s)
                self.processed.append((message.partition, message.offset))
            self.consumer.ack(message)

    def stop(self) -> None:
        self.stop_agent()
        self._stop_fetcher()

    def close(self) -> None:
        """Stop the tasks and close the event loop Faust's consumer thread made (it is never started here)."""
        self.stop()
        self.consumer._thread.thread_loop.close()

    async def revoke(self, wait_empty: Callable[[], Awaitable[None]] | None = None) -> None:
        """A revoke of every partition with ``App._on_partitions_revoked`` reduced to what matters: stop the
        flow, clear the queues, wait for what is in flight (``wait_empty``), commit."""

        async def app_handler(revoked: set[TP]) -> None:
            self.consumer.stop_flow()
            self.app.flow_control.suspend()
            self.consumer.pause_partitions(revoked)
            self.app.flow_control.clear()
            if wait_empty is not None:
                await wait_empty()
            await self.consumer.commit()

        self.consumer._on_partitions_revoked = app_handler
        await self.consumer.on_partitions_revoked(set(self.partitions))

    def reassign(self) -> None:
        """The same partitions assigned again: Faust stops its fetcher (``App._stop_fetcher``) until the
        recovery ends; aiokafka fetches from the committed offset, else the log start."""
        self._stop_fetcher()
        for tp in self.partitions:
            self.position[tp] = self.broker_committed.get(tp, 0)

    async def recover(self) -> None:
        """``Recovery.on_recovery_completed`` after a rebalance (faust/tables/recovery.py 649-660): stream
        partitions resumed, the seek awaited while the fetcher runs, then the flow resumed — which clears the
        agents' queues."""
        self.consumer.resume_partitions(set(self.partitions))
        await self.consumer.perform_seek()
        self.app.flow_control.resume()
        self.consumer.resume_flow()
        self._start_fetcher()

    def paused_for_recovery(self) -> None:
        """The state after ``tables.on_rebalance`` and the changelog recovery: stream partitions paused, the flow
        and flow control already resumed for the changelogs."""
        self.consumer.pause_partitions(set(self.partitions))
        self.app.flow_control.resume()
        self.consumer.resume_flow()
        self._start_fetcher()

    # ------------------------------------------------------------------ what happened
    def done(self, tp: TP) -> set[int]:
        return {offset for partition, offset in self.processed if partition == tp.partition}

    def lost(self) -> dict[TP, list[int]]:
        """Per partition, the offsets below the broker's committed offset that no agent processed."""
        lost = {}
        for tp in self.partitions:
            missing = sorted(set(range(self.broker_committed.get(tp, 0))) - self.done(tp))
            if missing:
                lost[tp] = missing
        return lost

    def lag(self) -> dict[TP, int]:
        return {tp: self.log_size[tp] - self.broker_committed.get(tp, 0) for tp in self.partitions}

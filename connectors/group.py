"""A group of connectors over the feeds topic: Kafka's consumer group (kafka-python's) assigns each connector
some partitions of ``<prefix>.feeds``, and a connector polls exactly the feeds of the partitions it holds.

Feeds are placed by host (``connectors.core.feedlist.host_partition``), so one connector owns all of a host's
feeds and per-host politeness holds within one process. A connector that joins or leaves (or is killed, once its
session times out) moves partitions, and with them hosts, to the others: no hand-split lists.

The group is used for membership only: nothing is committed. On every assignment the assigned partitions are
read from their beginning (the topic is compacted: it is the whole feed list). The consumer runs in a thread of
its own (poll is blocking) and hands every change to the connector's event loop.

Hosts move without two connectors polling one at once (decision 0906): the cooperative-sticky assignor moves
only the partitions that change owner, in two rounds — the old owner revokes them (its connector drops their
feeds at once, abandoning their polls under way) before the new owner is given them, and the new owner waits one
spacing before its first request to each host it takes over. The rebalance listener runs on kafka-python's IO
thread, which also sends the heartbeats, so it only records what moved: the moved feed states are read by the
group thread after ``poll`` returns.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
from kafka.errors import KafkaError

from connectors.core.feedlist import FeedRecord, FeedSpec, feed_key
from connectors.core.feedstate import FeedStateRecord
from streams.infra.compacted import apply_record, log_invalid
from streams.infra.settings import Settings

log = logging.getLogger("wirewatch.connector")

SESSION_TIMEOUT_MS = 10_000
"""How long a killed connector keeps its hosts before the group moves them to the others."""
Changed = Callable[[list[FeedSpec], tuple[int, ...], list[FeedStateRecord]], None]
"""Called (from the group thread) with the feeds to poll, the partitions held and the moved states of the
partitions just assigned (adopt them before polling), after every change."""


class FeedGroup:
    """This connector's membership in the connector group and the feeds it owns."""

    def __init__(self, settings: Settings, on_change: Changed, group: str | None = None) -> None:
        self._settings = settings
        self._on_change = on_change
        self._group = group or settings.group_id("connectors")
        self._records: dict[int, dict[str, FeedRecord]] = {}
        self._unread_states: set[int] = set()
        """Partitions just assigned whose feed states are still to be read."""
        self._pending_states: list[FeedStateRecord] = []
        """States read at an assignment, handed over (to be adopted) with the next change."""
        self._stop = threading.Event()
        self._invalid = log_invalid(settings.topics.feeds)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="feed-group", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def _publish(self, states: list[FeedStateRecord] | None = None) -> None:
        specs = [
            record.spec()
            for partition in sorted(self._records)
            for _, record in sorted(self._records[partition].items())
            if not record.paused
        ]
        self._on_change(specs, tuple(sorted(self._records)), states or [])

    def _read_states(self, partitions: list[int]) -> list[FeedStateRecord]:
        """The feed states of these partitions of the state topic, read to their end now."""
        if not partitions:  # more connectors than partitions: this one holds none
            return []
        reader = KafkaConsumer(bootstrap_servers=self._settings.kafka_bootstrap, group_id=None)
        try:
            wanted = [TopicPartition(self._settings.topics.feed_state, p) for p in partitions]
            reader.assign(wanted)
            reader.seek_to_beginning(*wanted)
            end = reader.end_offsets(wanted)
            latest: dict[str, FeedStateRecord] = {}
            while any(reader.position(tp) < end[tp] for tp in wanted):
                for messages in reader.poll(timeout_ms=500).values():
                    for message in messages:
                        apply_record(latest, message.key, message.value, FeedStateRecord, _state_key, self._invalid)
            return list(latest.values())
        finally:
            reader.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._membership()
            except KafkaError as err:
                log.warning("connector group: %s; rejoining in 2 s", err)
                self._stop.wait(2)

    def _membership(self) -> None:
        consumer = KafkaConsumer(
            bootstrap_servers=self._settings.kafka_bootstrap, group_id=self._group, enable_auto_commit=False,
            auto_offset_reset="earliest", session_timeout_ms=SESSION_TIMEOUT_MS, heartbeat_interval_ms=2_000,
            partition_assignment_strategy=(CooperativeStickyAssignor,),
        )  # fmt: skip
        group = self

        class Moves(ConsumerRebalanceListener):  # type: ignore[misc]
            """Runs on kafka-python's IO thread: nothing here may block (the heartbeats wait for it)."""

            def on_partitions_revoked(self, revoked: Any) -> None:
                for tp in revoked:
                    group._records.pop(tp.partition, None)
                group._publish()

            def on_partitions_assigned(self, assigned: Any) -> None:
                for tp in assigned:
                    group._records[tp.partition] = {}
                    consumer.seek_to_beginning(tp)
                    group._unread_states.add(tp.partition)
                group._publish()

        try:
            consumer.subscribe([self._settings.topics.feeds], listener=Moves())
            while not self._stop.is_set():
                batches = consumer.poll(timeout_ms=500)
                if self._unread_states:  # before this poll's feeds: the states are adopted before they are polled
                    partitions, self._unread_states = sorted(self._unread_states), set()
                    self._pending_states += self._read_states(partitions)
                changed = bool(self._pending_states)
                for tp, messages in batches.items():
                    records = self._records.setdefault(tp.partition, {})
                    before = dict(records)
                    for message in messages:
                        apply_record(records, message.key, message.value, FeedRecord, _feed_key, self._invalid)
                    changed |= records != before
                if changed:
                    self._publish(self._pending_states)
                    self._pending_states = []
        finally:
            consumer.close()


def _feed_key(record: FeedRecord) -> str:
    return record.key


def _state_key(record: FeedStateRecord) -> str:
    return feed_key(record.url)

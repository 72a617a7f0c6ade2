"""Keeps Faust's offset commits at-least-once across crashes and rebalances (decisions 0602 and 0606).

Faust 0.15.3 commits, per partition, the end of the run of acknowledged offsets. Around a rebalance it drops
records it has already read — the recovery clears the agents' queues after the fetcher handed them records,
records of an old generation are skipped, a stale read offset filters re-fetched records out — and its commit
rules then move the committed offset past them:

1. a jump in the offsets it reads is recorded as a *gap* that counts as acknowledged (meant for compacted and
   transactional topics, where offsets really are missing);
2. a run of acknowledged offsets may be committed when it starts *one past* the offset the partition owes
   (faust-streaming issues #596 and #606; the fix proposed in PR #707 is not released);
3. while the owed offset is unknown — a partition the group never committed, every revoke (Faust forgets the
   owed offsets before its handlers commit) and the moment between an assignment and the seek — any run is
   committed, wherever it starts.

``guard_offsets`` replaces all three by one invariant: **a commit moves a partition's committed offset only over
offsets an agent acknowledged, counted from an owed offset the consumer knows.** There are no gaps (wirewatch's
agents read only plain, non-compacted topics, whose offsets are contiguous); the owed offset is always known
(the broker's committed offset, or the log start for a partition never committed, which is where
``auto_offset_reset=earliest`` reads from); nothing is committed while it is not. What Faust dropped then shows
as a partition whose owed offset is neither acknowledged nor moving while there is something to read; a timer
seeks such a partition back to the owed offset so the dropped records are read again; the records after them
that an agent had already processed are acknowledged again without being processed twice (a desk sees no
alert twice), and the stages are idempotent besides.

The guard also makes the commit wait for every record the worker produced before it (``ProducerBuffer.flush``
gives up after 100 ms without progress, leaving table changelog writes behind the offsets they belong to).

A table recovery can wait the same way: a worker that took over a lost one's partitions once waited minutes for
changelog partitions that delivered no event at all (``No event received for active tp``) until the next
rebalance, whose recovery then finished at once. A ``RecoveryWatch`` seeks such a partition back to where its
recovery stands, as the recovery's own start does (decision 0909).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

import faust
from aiokafka.errors import IllegalStateError, KafkaError
from faust.tables.manager import TableManager
from faust.transport.consumer import Consumer
from faust.transport.producer import ProducerBuffer
from faust.types import TP

log = logging.getLogger(__name__)

GUARDED_FAUST_VERSION = "0.15.3"
STUCK_CHECK_INTERVAL_S = 2.0
"""A partition seen stuck at two checks in a row (so 2-4 s) is sought back; commits happen every 2.8 s."""
RECOVERY_STALL_S = 15.0
"""A changelog partition whose recovery read nothing for this long while it has records left is sought again
(a healthy recovery reads a partition's changelog in well under a second; the session timeout is 20 s)."""

_faust_perform_seek = Consumer.perform_seek
_faust_on_partitions_revoked = Consumer.on_partitions_revoked
_faust_send_pending = ProducerBuffer._send_pending


def committable_run(acked: list[int], committed: int | None) -> list[int]:
    """The acknowledged offsets that may be committed now, taken off the front of ``acked`` (kept sorted).

    ``committed`` is the next offset the partition owes, or None while the consumer does not know it: then
    nothing is committed. Offsets below it are stale and dropped; the run must start *at* it, so an
    unacknowledged owed offset blocks the commit.
    """
    if committed is None:
        return []
    acked.sort()
    while acked and acked[0] < committed:
        acked.pop(0)
    if not acked or acked[0] != committed:
        return []
    end = 1
    while end < len(acked) and acked[end] == acked[end - 1] + 1:
        end += 1
    run = acked[:end]
    del acked[:end]
    return run


def _strict_new_offset(self: Consumer, tp: TP) -> int | None:
    """Replaces ``Consumer._new_offset``: the next offset to commit for ``tp``, or None."""
    run = committable_run(self._acked[tp], self._committed_offset.get(tp))
    if not run:
        return None
    self._acked_index[tp].difference_update(run)
    return run[-1] + 1


async def _no_gap(self: Consumer, tp: TP, offset_from: int, offset_to: int) -> None:
    """Replaces ``Consumer._add_gap``: skipped offsets stay owed (the stuck-partition timer reads them again)."""
    log.debug("offsets %d-%d of %s skipped by the fetcher: left owed", offset_from, offset_to, tp)


async def _perform_seek_knowing_owed(self: Consumer) -> None:
    """Replaces ``Consumer.perform_seek``: Faust's seek to the committed offsets, then the log start as the owed
    offset of every assigned partition the group never committed (Faust leaves it unknown)."""
    await _faust_perform_seek(self)
    acks_enabled_for = self.app.topics.acks_enabled_for
    unknown = [tp for tp in self.assignment() if acks_enabled_for(tp.topic) and self._committed_offset.get(tp) is None]
    if not unknown:
        return
    log_start = await self.earliest_offsets(*unknown)
    for tp in unknown:
        if self._committed_offset.get(tp) is None and tp in log_start:
            self._committed_offset[tp] = log_start[tp]


async def _revoke_after_committing(self: Consumer, revoked: Set[TP]) -> None:
    """Replaces ``Consumer.on_partitions_revoked``: commit what is acknowledged while the owed offsets are known,
    then Faust's revoke (which forgets them before its handlers commit, so their commits now do nothing)."""
    try:
        await self.commit()
    except KafkaError as err:  # the group moved on already: the next owner starts at the last commit
        log.warning("commit before the revoke failed: %r", err)
    await _faust_on_partitions_revoked(self, revoked)


_in_flight: weakref.WeakKeyDictionary[ProducerBuffer, int] = weakref.WeakKeyDictionary()
"""Per producer buffer, the records taken off it and not yet handed to the client."""


async def _send_pending_counted(self: ProducerBuffer, fut: Any) -> None:
    """Replaces ``ProducerBuffer._send_pending``: counts the record between the buffer and the client."""
    _in_flight[self] = in_flight(self) + 1
    try:
        await _faust_send_pending(self, fut)
    finally:
        _in_flight[self] -= 1


def in_flight(buffer: ProducerBuffer) -> int:
    return _in_flight.get(buffer, 0)


async def _flush_everything(self: ProducerBuffer) -> None:
    """Replaces ``ProducerBuffer.flush``: until every buffered record was handed to the client, however long a
    send takes (Faust's gives up after 100 ms without progress); the client's own flush then waits for acks."""
    while self.size or in_flight(self):
        if self.state != "running":
            raise RuntimeError("Cannot flush: Producer not Running")
        self.message_sent.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.message_sent.wait(), timeout=0.5)


class PartitionHead(NamedTuple):
    """What the consumer knows of one assigned partition at a check."""

    tp: TP
    owed: int | None
    """The committed offset: the next one the group owes."""
    acked: tuple[int, ...]
    """Offsets acknowledged and not committed yet."""
    highwater: int | None
    """The log end offset: there is something to read while it is above ``owed``."""
    position: int | None = None
    """The consumer's fetch position: the records below it were handed to Faust (None: not known)."""


@dataclass
class StuckWatch:
    """Partitions whose owed offset is neither acknowledged nor moving while there is something to read.

    Agents process a partition's records in order, so an owed offset left behind while later ones are
    acknowledged (a *hole*), or nothing acknowledged at all while records wait (a *stall*), means Faust dropped
    the owed record. A partition is reported at the second check in a row that finds it so; an agent that is
    merely busy is reported only if it acknowledged nothing of that partition for a whole interval, and a seek
    it did not need only repeats work.
    """

    seen: dict[TP, PartitionHead] = field(default_factory=dict)
    """Partition → how it looked at the previous check, when it looked stuck then."""
    processed: dict[TP, set[int]] = field(default_factory=dict)
    """Partition → offsets an agent had acknowledged past the owed one when the partition was sought back: they
    come again with the dropped record, and are acknowledged again without being processed twice."""

    def stuck(self, heads: Iterable[PartitionHead]) -> list[tuple[TP, int]]:
        """The partitions stuck at this check and at the previous one, with the offset to read again from."""
        suspects = {head.tp: head for head in heads if _looks_stuck(head)}
        stuck: list[tuple[TP, int]] = []
        for tp, head in suspects.items():
            before = self.seen.get(tp)
            if before is not None and before.owed == head.owed:
                hole = bool(head.acked) and min(head.acked) > cast(int, head.owed)
                if hole or before.acked == head.acked:
                    stuck.append((tp, cast(int, head.owed)))
        reported = {tp for tp, _ in stuck}
        self.seen = {tp: head for tp, head in suspects.items() if tp not in reported}
        return stuck

    def sought_back(self, tp: TP, owed: int, acked: Iterable[int]) -> None:
        """``tp`` is read again from ``owed``: remember what was already processed after it."""
        done = {offset for offset in acked if offset > owed}
        if done:
            self.processed.setdefault(tp, set()).update(done)

    def processed_before(self, tp: TP, offset: int) -> bool:
        """Whether this record is a re-read of one already processed (each answers True once)."""
        done = self.processed.get(tp)
        if not done or offset not in done:
            return False
        done.discard(offset)
        if not done:
            del self.processed[tp]
        return True

    def forget(self) -> None:
        """A rebalance started: what was seen belongs to the old assignment (the revoke committed what was
        acknowledged, so nothing processed is read again)."""
        self.seen.clear()
        self.processed.clear()


def _looks_stuck(head: PartitionHead) -> bool:
    """Something to read, the owed record not acknowledged, and (when known) already fetched: a partition whose
    owed record the consumer has not fetched yet waits its turn behind another's backlog and dropped nothing."""
    return (
        head.owed is not None
        and head.highwater is not None
        and head.highwater > head.owed
        and head.owed not in head.acked
        and (head.position is None or head.position > head.owed)
    )


POSITION_TIMEOUT_S = 1.0


async def partition_heads(consumer: Consumer, app: faust.App) -> list[PartitionHead]:
    """The head of every assigned, fetched partition an agent acknowledges (paused ones are waiting on purpose),
    with the fetch position of those that look stuck (asked in the consumer's thread)."""
    paused = consumer._paused_partitions
    heads = [
        PartitionHead(tp, consumer._committed_offset.get(tp), tuple(consumer._acked[tp]), consumer.highwater(tp))
        for tp in consumer.assignment()
        if app.topics.acks_enabled_for(tp.topic) and tp not in paused
    ]
    for index, head in enumerate(heads):
        if _looks_stuck(head):
            with contextlib.suppress(TimeoutError, IllegalStateError, KafkaError):
                position = await asyncio.wait_for(consumer.position(head.tp), timeout=POSITION_TIMEOUT_S)
                heads[index] = head._replace(position=position)
    return heads


async def read_stuck_partitions_again(app: faust.App, watch: StuckWatch) -> list[tuple[TP, int]]:
    """One check: seek every stuck partition back to its owed offset; returns what was sought."""
    if app.rebalancing:
        watch.forget()
        return []
    consumer = cast(Consumer, app.consumer)
    sought = []
    for tp, offset in watch.stuck(await partition_heads(consumer, app)):
        log.warning("%s: offset %d was dropped before an agent saw it; reading the partition again from it", tp, offset)
        acked = tuple(consumer._acked[tp])
        try:
            # In the consumer's own thread: ``Consumer.seek`` changes the fetcher's state from this one while the
            # consumer thread reads it (a KeyError in aiokafka's ``fetched_records`` crashed a busy worker).
            await consumer.seek_wait({tp: offset})
        except (IllegalStateError, KafkaError) as err:  # revoked meanwhile: its next owner starts there anyway
            log.warning("%s: not sought back: %r", tp, err)
        else:
            watch.sought_back(tp, offset, acked)
            sought.append((tp, offset))
    return sought


@dataclass
class RecoveryWatch:
    """Changelog partitions a table recovery waits on whose recovered offset has not moved for ``stall_s``."""

    stall_s: float = RECOVERY_STALL_S
    since: dict[TP, tuple[int | None, float]] = field(default_factory=dict)
    """Partition → (its recovered offset, when that offset was first seen) while it has records left."""

    def stalled(self, recovered: Mapping[TP, int | None], remaining: Mapping[TP, int], now: float) -> dict[TP, int]:
        """The partitions stalled at ``now``, each with the offset to read again from (the last one recovered, as
        the recovery's own seek does; -1, nothing recovered yet, reads from 0). A stalled partition's clock
        starts again, so a seek that did not help is repeated only after another ``stall_s``."""
        stalled: dict[TP, int] = {}
        since: dict[TP, tuple[int | None, float]] = {}
        for tp, left in remaining.items():
            if left <= 0:
                continue
            offset = recovered.get(tp)
            before = self.since.get(tp)
            if before is None or before[0] != offset:
                since[tp] = (offset, now)
            elif now - before[1] >= self.stall_s:
                stalled[tp] = max(offset if offset is not None else 0, 0)
                since[tp] = (offset, now)
            else:
                since[tp] = before
        self.since = since
        return stalled

    def forget(self) -> None:
        self.since.clear()


async def reseek_stalled_recovery(app: faust.App, watch: RecoveryWatch, now: float) -> dict[TP, int]:
    """One check during a table recovery: seek its stalled changelog partitions again; returns what was sought."""
    recovery = cast(TableManager, app.tables).recovery
    if not recovery.in_recovery:
        watch.forget()
        return {}
    stalled = watch.stalled(recovery.active_offsets, recovery.active_remaining(), now)
    if not stalled:
        return {}
    log.warning(
        "table recovery read nothing for %.0f s from %s; reading them again from where it stands",
        watch.stall_s,
        ", ".join(f"{tp.topic}[{tp.partition}]@{offset}" for tp, offset in sorted(stalled.items())),
    )
    try:
        await cast(Consumer, app.consumer).seek_wait(stalled)
    except (IllegalStateError, KafkaError) as err:  # revoked meanwhile: the next recovery seeks them itself
        log.warning("stalled changelog partitions not sought again: %r", err)
        return {}
    return stalled


def install_guard() -> None:
    """Patch Faust's consumer and producer buffer (class level; idempotent)."""
    if faust.__version__ != GUARDED_FAUST_VERSION:
        raise RuntimeError(
            f"streams.worker.offsets guards faust-streaming {GUARDED_FAUST_VERSION}, found {faust.__version__}: "
            "check whether the new version still commits past dropped records (decisions 0602, 0606), then update it"
        )
    Consumer._new_offset = _strict_new_offset  # type: ignore[method-assign]
    Consumer._add_gap = _no_gap  # type: ignore[method-assign]
    Consumer.perform_seek = _perform_seek_knowing_owed  # type: ignore[method-assign]
    Consumer.on_partitions_revoked = _revoke_after_committing  # type: ignore[method-assign]
    ProducerBuffer._send_pending = _send_pending_counted  # type: ignore[method-assign]
    ProducerBuffer.flush = _flush_everything  # type: ignore[method-assign]


def guard_offsets(app: faust.App, is_ready: Callable[[], bool] = lambda: True) -> StuckWatch:
    """Install the guard and the timer that reads stuck partitions again (while ``is_ready``: an agent that has
    not started reading yet acknowledges nothing and is not stuck)."""
    install_guard()
    watch = StuckWatch()

    @app.timer(interval=STUCK_CHECK_INTERVAL_S)
    async def read_stuck_again() -> None:
        if is_ready():
            await read_stuck_partitions_again(app, watch)
        else:
            watch.forget()

    recovery_watch = RecoveryWatch()

    @app.timer(interval=STUCK_CHECK_INTERVAL_S)
    async def read_stalled_recovery_again() -> None:
        await reseek_stalled_recovery(app, recovery_watch, time.monotonic())

    return watch

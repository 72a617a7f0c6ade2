"""A table recovery that reads nothing of a changelog partition is sought again where it stands (decision 0909)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import faust
from faust.types import TP

from streams.worker.offsets import RecoveryWatch, reseek_stalled_recovery

SEEN = TP("w-seen-articles-changelog", 1)
STATE = TP("w-watch-state-changelog", 3)
DONE = TP("w-seen-articles-changelog", 0)


def test_a_partition_whose_recovered_offset_stays_put_while_records_remain_is_stalled() -> None:
    watch = RecoveryWatch(stall_s=15.0)
    remaining = {SEEN: 328, STATE: 104, DONE: 0}
    assert watch.stalled({SEEN: -1, STATE: 40, DONE: 435}, remaining, now=0.0) == {}
    assert watch.stalled({SEEN: -1, STATE: 40, DONE: 435}, remaining, now=14.0) == {}
    # Nothing recovered yet reads from 0; a partition recovered to 40 reads 40 again (the recovery's own rule).
    assert watch.stalled({SEEN: -1, STATE: 40, DONE: 435}, remaining, now=15.0) == {SEEN: 0, STATE: 40}


def test_a_partition_that_moves_or_has_nothing_left_is_never_stalled() -> None:
    watch = RecoveryWatch(stall_s=15.0)
    for second in range(0, 60, 2):
        offsets = {SEEN: second * 10, DONE: 435}  # SEEN recovers steadily; DONE is caught up
        assert watch.stalled(offsets, {SEEN: 500 - second * 10, DONE: 0}, now=float(second)) == {}


def test_a_seek_that_did_not_help_is_repeated_only_after_another_stall() -> None:
    watch = RecoveryWatch(stall_s=15.0)
    offsets, remaining = {SEEN: 7}, {SEEN: 100}
    watch.stalled(offsets, remaining, now=0.0)
    assert watch.stalled(offsets, remaining, now=15.0) == {SEEN: 7}
    assert watch.stalled(offsets, remaining, now=29.0) == {}
    assert watch.stalled(offsets, remaining, now=30.0) == {SEEN: 7}


@dataclass
class FakeRecovery:
    in_recovery: bool
    active_offsets: dict[TP, int]
    highwaters: dict[TP, int]

    def active_remaining(self) -> dict[TP, int]:
        return {tp: high - self.active_offsets[tp] for tp, high in self.highwaters.items()}


@dataclass
class FakeConsumer:
    sought: list[dict[TP, int]] = field(default_factory=list)

    async def seek_wait(self, partitions: dict[TP, int]) -> None:
        self.sought.append(dict(partitions))


@dataclass
class FakeTables:
    recovery: FakeRecovery


@dataclass
class FakeApp:
    tables: FakeTables
    consumer: FakeConsumer


def _app(recovery: FakeRecovery) -> tuple[faust.App, FakeConsumer]:
    consumer = FakeConsumer()
    return cast(Any, FakeApp(FakeTables(recovery), consumer)), consumer


async def test_the_worker_seeks_a_stalled_changelog_partition_through_the_consumer() -> None:
    recovery = FakeRecovery(True, {SEEN: -1, DONE: 300}, {SEEN: 327, DONE: 435})
    app, consumer = _app(recovery)
    watch = RecoveryWatch(stall_s=15.0)
    assert await reseek_stalled_recovery(app, watch, now=0.0) == {}
    recovery.active_offsets[DONE] = 435  # DONE finishes, SEEN never receives an event
    assert await reseek_stalled_recovery(app, watch, now=16.0) == {SEEN: 0}
    assert consumer.sought == [{SEEN: 0}]


async def test_no_seek_outside_a_recovery_and_a_new_recovery_starts_its_clocks_afresh() -> None:
    recovery = FakeRecovery(True, {SEEN: -1}, {SEEN: 327})
    app, consumer = _app(recovery)
    watch = RecoveryWatch(stall_s=15.0)
    await reseek_stalled_recovery(app, watch, now=0.0)
    recovery.in_recovery = False
    assert await reseek_stalled_recovery(app, watch, now=20.0) == {}
    recovery.in_recovery = True
    assert await reseek_stalled_recovery(app, watch, now=21.0) == {}  # its clock starts now
    assert consumer.sought == []

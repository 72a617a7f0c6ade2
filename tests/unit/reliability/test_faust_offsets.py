"""The offset guard: a commit moves a partition's committed offset only over offsets an agent acknowledged,
counted from an owed offset the consumer knows (decisions 0602, 0606).

The scenario tests run Faust's own consumer in ``faust_lab`` (only the broker's I/O faked); each one is a way
the kill storm lost alerts or stalled a partition against the real broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from faust.transport.consumer import Consumer
from faust.transport.producer import ProducerBuffer
from faust.types import TP

from streams.infra.settings import load_settings
from streams.worker.app import create_app
from streams.worker.offsets import (
    PartitionHead,
    StuckWatch,
    committable_run,
    install_guard,
    read_stuck_partitions_again,
)
from tests.unit.reliability.faust_lab import P0, P1, Lab, record

RAW = TP("p.articles.raw", 0)
PAIRS = TP("p.pairs", 1)


@pytest.fixture(autouse=True)
def _guarded() -> None:
    install_guard()


@pytest.fixture
def make_lab() -> Iterator[Callable[..., Lab]]:
    labs: list[Lab] = []

    def make(**options: Any) -> Lab:
        labs.append(Lab(**options))
        return labs[-1]

    yield make
    for lab in labs:
        lab.close()


@pytest.mark.parametrize(
    ("acked", "committed", "run", "left"),
    [
        ([5, 6, 7], 5, [5, 6, 7], []),
        ([7, 5, 6], 5, [5, 6, 7], []),  # acknowledged out of order, committed in order
        ([5, 6, 9, 10], 5, [5, 6], [9, 10]),  # only up to the first hole
        ([6, 7, 8], 5, [], [6, 7, 8]),  # the owed offset 5 was never acknowledged: Faust would commit 9 here
        ([40, 41], 5, [], [40, 41]),  # records skipped by the fetcher: a hole, not a gap to jump
        ([3, 4, 5, 6], 5, [5, 6], []),  # stale acknowledgements below the committed offset are dropped
        ([0, 1, 2], None, [], [0, 1, 2]),  # owed offset unknown (revoke, before the seek): commit nothing
        ([], 5, [], []),
    ],
)
def test_only_a_run_starting_at_the_owed_offset_is_committed(
    acked: list[int], committed: int | None, run: list[int], left: list[int]
) -> None:
    assert committable_run(acked, committed) == run
    assert acked == left


def head(
    tp: TP, owed: int | None, acked: tuple[int, ...] = (), highwater: int | None = 100, position: int | None = None
) -> PartitionHead:
    return PartitionHead(tp, owed, acked, highwater, position)


def test_a_hole_is_read_again_once_it_was_seen_twice() -> None:
    watch = StuckWatch()
    holed, fine = head(RAW, 5, (8, 9)), head(PAIRS, 3, (3, 4))
    assert watch.stuck([holed, fine]) == []  # first sighting: it may close by itself
    assert watch.stuck([holed._replace(acked=(8, 9, 10)), fine]) == [(RAW, 5)]  # later records keep coming
    assert watch.stuck([holed]) == []  # sought back: give the re-read time before seeking again
    assert watch.stuck([holed]) == [(RAW, 5)]


def test_a_partition_that_acknowledges_nothing_while_records_wait_is_read_again() -> None:
    watch = StuckWatch()
    stalled = head(RAW, 12, (), highwater=30, position=30)  # the recovery cleared 12..29 from the queue
    assert watch.stuck([stalled]) == []
    assert watch.stuck([stalled]) == [(RAW, 12)]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (head(RAW, 5, (8,)), head(RAW, 9, (12,))),  # committed offset advanced: a new hole, first sighting
        (head(RAW, 9, ()), head(RAW, 9, (9, 10))),  # the owed offset was acknowledged: it commits next
        (head(RAW, 9, (), highwater=9), head(RAW, 9, (), highwater=9)),  # nothing to read
        (head(RAW, 9, ()), head(RAW, 9, (), highwater=None)),  # nothing fetched yet
        (head(RAW, None, (3,)), head(RAW, None, (3,))),  # owed offset unknown: nothing is committed anyway
        (head(RAW, 9, ()), head(RAW, 9, (), highwater=9)),  # caught up
        # not fetched yet: the fetcher is busy with another partition's backlog (a drop leaves the position past it)
        (head(PAIRS, 0, (), highwater=50, position=0), head(PAIRS, 0, (), highwater=80, position=0)),
    ],
)
def test_a_partition_that_moves_or_has_nothing_to_read_is_left_alone(
    first: PartitionHead, second: PartitionHead
) -> None:
    watch = StuckWatch()
    assert watch.stuck([first]) == []
    assert watch.stuck([second]) == []


def test_records_processed_after_a_dropped_one_are_not_processed_again_when_it_is_read_again() -> None:
    watch = StuckWatch()
    watch.sought_back(RAW, 5, (3, 8, 9))  # 3: stale (below the owed offset), committed already
    assert [watch.processed_before(RAW, offset) for offset in (5, 6, 7, 8, 9)] == [False, False, False, True, True]
    assert not watch.processed_before(RAW, 8)  # once only: a later re-read (a crash, a rebalance) processes it
    assert not watch.processed_before(PAIRS, 9)


def test_a_rebalance_forgets_what_was_seen() -> None:
    watch = StuckWatch()
    watch.stuck([head(RAW, 5, (8,))])
    watch.sought_back(PAIRS, 3, (4,))
    watch.forget()
    assert watch.stuck([head(RAW, 5, (8,))]) == []
    assert not watch.processed_before(PAIRS, 4)


def test_the_worker_app_commits_through_the_guard_and_keeps_no_standbys(tmp_path: Path) -> None:
    app = create_app(load_settings(topic_prefix="guard", home=tmp_path))
    consumer = app.consumer
    assert isinstance(consumer, Consumer)
    consumer._acked[RAW] = [6, 7, 8]
    consumer._committed_offset[RAW] = 5
    assert consumer._new_offset(RAW) is None  # Faust 0.15.3's own rule answers 9 and loses offset 5
    consumer._acked[RAW] = [5, 6, 7, 8]
    assert consumer._new_offset(RAW) == 9
    assert app.conf.table_standby_replicas == 0


# ---------------------------------------------------------------------- scenarios on Faust's own consumer
async def repair(lab: Lab, checks: int = 8) -> None:
    """What the worker's timer does between commits, until the group caught up (or ``checks`` ran out)."""
    watch = StuckWatch()
    lab.processed_before = watch.processed_before
    for _ in range(checks):
        await read_stuck_partitions_again(lab.app, watch)
        await asyncio.sleep(0.1)
        await lab.consumer.commit()
        assert lab.lost() == {}
        if not any(lab.lag().values()):
            return


async def commit_repair_and_check(lab: Lab) -> None:
    """A commit that must not pass a dropped record, the repair, and in the end every record processed and
    committed."""
    await lab.consumer.commit()
    assert lab.lost() == {}
    await repair(lab)
    lab.stop()
    assert lab.lost() == {}
    assert lab.lag() == dict.fromkeys(lab.partitions, 0)
    for tp in lab.partitions:
        assert lab.done(tp) == set(range(lab.log_size[tp]))
    assert len(lab.processed) == len(set(lab.processed)), "a record read again was processed twice"


@pytest.mark.parametrize(
    ("more_input", "agent_busy"),
    [
        (True, False),
        (False, False),  # input stopped: the cleared records left the partition with nothing acknowledged
        (True, True),  # the agent was busy in the window: Faust then committed 35 past 30 unread records
    ],
)
async def test_records_the_recovery_clears_are_read_again_and_never_committed_past(
    more_input: bool, agent_busy: bool, make_lab: Callable[..., Lab]
) -> None:
    lab = make_lab()
    lab.append(30)
    lab.paused_for_recovery()
    lab.start(agent_starts_after_s=0.06 if agent_busy else 0.0)
    await asyncio.sleep(0.01)
    await lab.recover()  # the fetcher hands records over during the seek; resuming the flow clears them
    await asyncio.sleep(0.15)
    if more_input:
        lab.append(5)
        await asyncio.sleep(0.1)
    await commit_repair_and_check(lab)


async def test_a_second_generation_on_a_partition_never_committed_reads_what_the_recovery_dropped(
    make_lab: Callable[..., Lab],
) -> None:
    lab = make_lab(partitions=(P0,), queue_size=3)
    lab.append(20)
    lab.start()
    await asyncio.sleep(0.0275)  # the agent is between messages; the drain loop waits on the full queue
    lab.stop_agent()
    await lab.revoke()
    lab.reassign()  # generation 2 on the same worker: no commit yet, so from the log start
    lab.paused_for_recovery()
    lab.start_agent()
    await lab.recover()
    await asyncio.sleep(0.2)
    lab.append(5)
    await asyncio.sleep(0.1)
    await commit_repair_and_check(lab)


async def test_a_revoke_never_commits_past_a_hole_the_guard_was_holding(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(partitions=(P0,))
    consumer = lab.consumer
    lab.broker_committed[P0] = 11
    consumer._committed_offset[P0] = 11
    for offset in (12, 13, 14, 15):  # 11 was dropped by a recovery race: the guard holds the commit
        consumer._acked[P0].append(offset)
        consumer._acked_index[P0].add(offset)
    lab.processed = [(0, offset) for offset in range(11)] + [(0, offset) for offset in (12, 13, 14, 15, 16)]
    in_flight = consumer._to_message(P0, record(P0, 16))

    async def the_agent_finishes_its_event() -> None:
        await asyncio.sleep(0)
        consumer.ack(in_flight)

    await lab.revoke(wait_empty=the_agent_finishes_its_event)
    assert lab.lost() == {}, f"commits during the revoke: {lab.commits}"
    assert lab.broker_committed[P0] == 11


async def test_a_revoke_while_a_record_is_in_flight_commits_only_what_was_acknowledged(
    make_lab: Callable[..., Lab],
) -> None:
    lab = make_lab(partitions=(P0,), agent_delay_s=0.05)
    lab.append(10)
    lab.reassign()
    lab.paused_for_recovery()
    lab.start()
    await lab.recover()
    await asyncio.sleep(0.175)  # a few records done, one in the agent's hands
    await lab.revoke(wait_empty=lambda: asyncio.sleep(0.06))
    lab.stop()
    assert lab.lost() == {}
    assert lab.broker_committed.get(P0, 0) >= 1, "the revoke committed nothing of what was acknowledged before it"


async def test_a_commit_the_broker_refused_is_not_a_base_to_commit_past_a_dropped_record(
    make_lab: Callable[..., Lab],
) -> None:
    lab = make_lab(partitions=(P0,), fail_commits=True)
    consumer = lab.consumer
    lab.append(16)
    await consumer.perform_seek()
    for offset in range(10):
        consumer.ack(consumer._to_message(P0, record(P0, offset)))
        lab.processed.append((0, offset))
    await consumer.commit()  # refused by the broker; Faust records 10 as committed anyway
    lab.fail_commits = False
    for offset in range(11, 16):  # 10 was dropped
        consumer.ack(consumer._to_message(P0, record(P0, offset)))
        lab.processed.append((0, offset))
    await consumer.commit()
    assert lab.lost() == {}
    assert lab.broker_committed.get(P0) is None


async def test_a_partition_never_committed_owes_its_log_start(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(partitions=(P0, P1))
    lab.broker_committed[P1] = 7
    await lab.consumer.perform_seek()
    assert lab.consumer._committed_offset[P0] == 0  # Faust leaves it None: any acknowledged run would commit
    assert lab.consumer._committed_offset[P1] == 7


async def test_the_flush_before_a_commit_waits_for_records_still_in_the_producer_buffer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Faust's ``ProducerBuffer.flush`` returns after 100 ms without a send, leaving table changelog writes
    behind the offsets committed next; the guard's waits until the buffer handed everything to the client."""
    sent: list[int] = []
    buffer = ProducerBuffer()
    buffer.app = type("App", (), {"conf": type("Conf", (), {"producer_threaded": False})()})()

    async def slow_send(_buffer: ProducerBuffer, fut: int) -> None:
        await asyncio.sleep(0.3)  # the client's accumulator is full: an acks=all round trip
        sent.append(fut)

    monkeypatch.setattr("streams.worker.offsets._faust_send_pending", slow_send)
    await buffer.start()
    try:
        for number in range(3):
            buffer.pending.put_nowait(number)
        await asyncio.sleep(0.01)
        await buffer.flush()
        assert sent == [0, 1, 2]
    finally:
        await buffer.stop()

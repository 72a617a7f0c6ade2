"""Keeps Faust's offset commits at-least-once across rebalances (decision 0602).

Faust 0.15.3 commits, per partition, the end of the run of acknowledged offsets. Around a rebalance it can hand
the agents records fetched before a seek, or drop records it had already queued, while its read position moves
on; the reliability scale test then lost articles (and, other times, stalled a partition for good). Two rules
let the committed offset pass records no agent processed:

1. a jump in the offsets it reads is recorded as a *gap* that counts as acknowledged (meant for compacted and
   transactional topics, where offsets really are missing);
2. a run of acknowledged offsets may be committed when it starts *one past* the offset the partition owes
   (faust-streaming issues #596 and #606; the fix proposed in PR #707 is not released).

``guard_offsets`` replaces both rules: no gaps (wirewatch's agents read only plain, non-compacted topics, whose
offsets are contiguous), and nothing is committed while the owed offset itself is unacknowledged. What Faust
skipped then shows as a *hole* at the head of a partition; a timer seeks such a partition back to its committed
offset so the skipped records are read again (the stages are idempotent, so re-read records only repeat work).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

import faust
from aiokafka.errors import IllegalStateError, KafkaError
from faust.transport.consumer import Consumer
from faust.types import TP

log = logging.getLogger(__name__)

GUARDED_FAUST_VERSION = "0.15.3"
HOLE_CHECK_INTERVAL_S = 5.0
"""A hole seen at two checks in a row (so 5-10 s old) is sought back; commits happen every 2.8 s."""


def committable_run(acked: list[int], committed: int | None) -> list[int]:
    """The acknowledged offsets that may be committed now, taken off the front of ``acked`` (kept sorted).

    ``committed`` is the next offset the partition owes (None before the group's first commit). Offsets below it
    are stale and dropped; the run must start *at* it, so an unacknowledged owed offset blocks the commit.
    """
    acked.sort()
    while acked and committed is not None and acked[0] < committed:
        acked.pop(0)
    if not acked or (committed is not None and acked[0] != committed):
        return []
    end = 1
    while end < len(acked) and acked[end] == acked[end - 1] + 1:
        end += 1
    run = acked[:end]
    del acked[:end]
    return run


def _strict_new_offset(self: Consumer, tp: TP) -> int | None:
    """Replaces ``Consumer._new_offset``: the next offset to commit for ``tp``, or None."""
    run = committable_run(self._acked[tp], self._committed_offset[tp])
    if not run:
        return None
    self._acked_index[tp].difference_update(run)
    return run[-1] + 1


async def _no_gap(self: Consumer, tp: TP, offset_from: int, offset_to: int) -> None:
    """Replaces ``Consumer._add_gap``: skipped offsets stay owed (a hole the timer repairs), never acknowledged."""
    log.debug("offsets %d-%d of %s skipped by the fetcher: left owed", offset_from, offset_to, tp)


@dataclass
class HoleWatch:
    """Partitions whose owed offset stays unacknowledged while later ones are acknowledged (a hole at the head)."""

    seen: dict[TP, int] = field(default_factory=dict)
    """Partition → the committed offset at which a hole was seen at the previous check."""

    def stuck(self, heads: Iterable[tuple[TP, int | None, list[int]]]) -> list[tuple[TP, int]]:
        """From (partition, committed offset, acknowledged offsets) of each assigned partition: those with the
        same hole as at the previous check, and the offset to read again from."""
        holes = {
            tp: committed
            for tp, committed, acked in heads
            if committed is not None and acked and min(acked) > committed
        }
        stuck = [(tp, committed) for tp, committed in holes.items() if self.seen.get(tp) == committed]
        self.seen = {tp: committed for tp, committed in holes.items() if (tp, committed) not in stuck}
        return stuck


def guard_offsets(app: faust.App) -> HoleWatch:
    """Install the two rules on Faust's consumer and the timer that reads holes again."""
    if faust.__version__ != GUARDED_FAUST_VERSION:
        raise RuntimeError(
            f"streams.faust_offsets guards faust-streaming {GUARDED_FAUST_VERSION}, found {faust.__version__}: "
            "check whether the new version still commits past skipped records (decision 0602), then update it"
        )
    Consumer._new_offset = _strict_new_offset  # type: ignore[method-assign]
    Consumer._add_gap = _no_gap  # type: ignore[method-assign]
    watch = HoleWatch()

    @app.timer(interval=HOLE_CHECK_INTERVAL_S)
    async def read_holes_again() -> None:
        consumer = cast(Consumer, app.consumer)
        heads = [
            (tp, consumer._committed_offset[tp], list(consumer._acked[tp]))
            for tp in consumer.assignment()
            if app.topics.acks_enabled_for(tp.topic)
        ]
        for tp, offset in watch.stuck(heads):
            log.warning("%s: offset %d was skipped by the fetcher; reading the partition again from it", tp, offset)
            try:
                await consumer.seek(tp, offset)
            except (IllegalStateError, KafkaError) as err:  # revoked meanwhile: its next owner starts there anyway
                log.warning("%s: not sought back: %r", tp, err)

    return watch

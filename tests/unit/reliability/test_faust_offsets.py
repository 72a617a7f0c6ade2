"""The offset guard: nothing is committed past an offset no agent acknowledged (decision 0602)."""

from __future__ import annotations

from pathlib import Path

import pytest
from faust.transport.consumer import Consumer
from faust.types import TP

from streams.app import create_app
from streams.faust_offsets import HoleWatch, committable_run
from streams.settings import load_settings

RAW = TP("p.articles.raw", 0)
PAIRS = TP("p.pairs", 1)


@pytest.mark.parametrize(
    ("acked", "committed", "run", "left"),
    [
        ([5, 6, 7], 5, [5, 6, 7], []),
        ([7, 5, 6], 5, [5, 6, 7], []),  # acknowledged out of order, committed in order
        ([5, 6, 9, 10], 5, [5, 6], [9, 10]),  # only up to the first hole
        ([6, 7, 8], 5, [], [6, 7, 8]),  # the owed offset 5 was never acknowledged: Faust would commit 9 here
        ([40, 41], 5, [], [40, 41]),  # records skipped by the fetcher: a hole, not a gap to jump
        ([3, 4, 5, 6], 5, [5, 6], []),  # stale acknowledgements below the committed offset are dropped
        ([0, 1, 2], None, [0, 1, 2], []),  # before the group's first commit, the run starts where it starts
        ([], 5, [], []),
    ],
)
def test_only_a_run_starting_at_the_owed_offset_is_committed(
    acked: list[int], committed: int | None, run: list[int], left: list[int]
) -> None:
    assert committable_run(acked, committed) == run
    assert acked == left


def test_a_hole_is_read_again_once_it_was_seen_twice() -> None:
    watch = HoleWatch()
    holed, fine = (RAW, 5, [8, 9]), (PAIRS, 3, [3, 4])
    assert watch.stuck([holed, fine]) == []  # first sighting: it may close by itself
    assert watch.stuck([holed, fine]) == [(RAW, 5)]
    assert watch.stuck([holed]) == []  # sought back: give the re-read time before seeking again
    assert watch.stuck([holed]) == [(RAW, 5)]


def test_a_hole_that_moved_on_is_not_read_again() -> None:
    watch = HoleWatch()
    assert watch.stuck([(RAW, 5, [8])]) == []
    assert watch.stuck([(RAW, 9, [12])]) == []  # committed offset advanced: a new hole, first sighting
    assert watch.stuck([(RAW, 9, [9, 10])]) == []  # closed


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

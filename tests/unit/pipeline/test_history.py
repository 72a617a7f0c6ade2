"""Look backs in the pure core: jobs over the retained offsets, progress summed, and history matches grouped by
story exactly as live alerts would have been."""

from __future__ import annotations

from datetime import timedelta

from streams.core.alerts import PairCandidate, StoryBook, WatchIndex, match_watches
from streams.core.history import LookbackProgress, history_stories, lookback_status, plan_jobs
from tests.unit.pipeline.factories import T0, tagged, watch
from tests.unit.pipeline.test_stories import BIRTHDAY, PACT, PACT_REWRITE, PACT_SYNDICATED

WATCH = watch()


def candidate(article_id: str, text: str, after_s: float) -> PairCandidate:
    title, _, body = text.partition(". ")
    found = match_watches(tagged(article_id, title, body, fetched_after_s=after_s), WatchIndex.build([WATCH]))
    assert found, text
    return found[0]


TWO_STORIES = [
    candidate("copy-2", PACT_SYNDICATED, 600),
    candidate("first", PACT, 0),
    candidate("rewrite", PACT_REWRITE, 1200),
    candidate("birthday", BIRTHDAY + " Vladimir Putin sent greetings.", 1800),
]


def test_history_groups_copies_and_rewrites_into_one_story_in_the_articles_order() -> None:
    stories = history_stories(TWO_STORIES)
    assert [s.article_count for s in stories] == [1, 3]  # newest story first
    pact = stories[1]
    assert pact.article.id == "first"  # the earliest article founds the story, whatever order the hits came in
    assert [a.id for a in pact.articles] == ["first", "copy-2", "rewrite"]
    assert pact.first_seen == T0
    assert pact.last_seen == T0 + timedelta(seconds=1200)
    assert stories[0].article.id == "birthday"


def test_a_history_story_has_the_id_a_live_alert_on_it_would_have() -> None:
    live = StoryBook()
    live_ids = {live.decide(c).decision.story_id for c in sorted(TWO_STORIES, key=lambda c: c.fetched)}
    assert {s.story_id for s in history_stories(TWO_STORIES)} == live_ids


def test_a_copy_after_the_cooldown_continues_its_story() -> None:
    late = candidate("late-copy", PACT, WATCH.cooldown_s + 60)
    stories = history_stories([candidate("first", PACT, 0), late])
    assert len(stories) == 1
    assert stories[0].article_count == 2


def test_jobs_cover_every_partition_window_in_stretches() -> None:
    jobs = plan_jobs(WATCH, T0, T0, starts={0: 100, 1: 7, 2: 50}, ends={0: 12_100, 1: 7, 2: 60}, records_per_job=5000)
    assert [(j.partition, j.start_offset, j.end_offset) for j in jobs] == [
        (0, 100, 5100), (0, 5100, 10100), (0, 10100, 12100), (2, 50, 60),
    ]  # fmt: skip
    assert {j.jobs for j in jobs} == {4}
    assert [j.job for j in jobs] == [0, 1, 2, 3]
    assert len({j.lookback_id for j in jobs}) == 1
    assert plan_jobs(WATCH, T0, T0 + timedelta(seconds=1), {0: 0}, {0: 10})[0].lookback_id != jobs[0].lookback_id


def progress(lookback_id: str, job: int, scanned: int, state: str, after_s: float = 0) -> LookbackProgress:
    return LookbackProgress(
        lookback_id=lookback_id, watch_id="w1", desk="korea", job=job, jobs=2, partition=job, scanned=scanned,
        total=100, matches=scanned // 10, state=state, updated_at=T0 + timedelta(seconds=after_s),  # type: ignore[arg-type]
    )  # fmt: skip


def test_status_sums_the_newest_lookbacks_jobs() -> None:
    older = [progress("lb-old", 0, 100, "done"), progress("lb-old", 1, 100, "done")]
    running = [progress("lb-new", 0, 100, "done", 60), progress("lb-new", 1, 40, "running", 61)]
    status = lookback_status([*older, *running])
    assert status is not None
    assert (status.lookback_id, status.state, status.scanned, status.total, status.matches) == (
        "lb-new",
        "running",
        140,
        200,
        14,
    )
    done = lookback_status([*running[:1], progress("lb-new", 1, 100, "done", 62)])
    assert done is not None
    assert done.state == "done"
    assert done.jobs_done == 2
    failed = lookback_status(
        [*running[:1], progress("lb-new", 1, 5, "failed", 62).model_copy(update={"error": "boom"})]
    )
    assert failed is not None
    assert failed.state == "failed"
    assert failed.errors == ("boom",)
    assert lookback_status([]) is None

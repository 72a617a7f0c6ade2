"""Look backs: a new watch evaluated over the articles already retained, as history matches grouped by story.

A look back is split into jobs, each one stretch of one ``articles.raw`` partition (``plan_jobs``): the workers
share the jobs as they share the partitions, re-tag each article with today's registries and desk entities, and
write every article that matches the watch as a ``HistoryHit``. Reading them back, ``history_stories`` groups
the hits by story exactly as live alerts are grouped (``StoryBook``, replayed in the articles' order), so a
story found by a look back has the id a live alert on it would have had. History is never sent as an alert.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, Field

from streams.core.alerts import PairCandidate, StoryBook
from streams.core.models import AlertArticle, EntityRef, StateMedia, TopicTag, VersionedModel, Watch, WireModel

JOB_RECORDS = 5000
"""Offsets per job by default (``Settings.lookback_job_records``)."""
MAX_STORY_ARTICLES = 20
"""Articles listed per history story (the count covers all of them)."""


class LookbackJob(VersionedModel):
    """Scan ``[start_offset, end_offset)`` of one ``articles.raw`` partition for one watch (``lookback.jobs``,
    on the same partition number)."""

    TOPIC: ClassVar[str] = "lookback.jobs"

    lookback_id: str
    job: Annotated[int, Field(ge=0)]
    jobs: Annotated[int, Field(ge=1)]
    watch: Watch
    partition: Annotated[int, Field(ge=0)]
    start_offset: Annotated[int, Field(ge=0)]
    end_offset: Annotated[int, Field(ge=0)]
    since: AwareDatetime
    requested_at: AwareDatetime

    @property
    def key(self) -> str:
        return progress_key(self.lookback_id, self.job)


JobState = Literal["running", "done", "failed"]


class LookbackProgress(VersionedModel):
    """How far one job got (``lookback.progress``, compacted, key = ``progress_key``)."""

    TOPIC: ClassVar[str] = "lookback.progress"

    lookback_id: str
    watch_id: str
    desk: str
    job: int
    jobs: int
    partition: int
    scanned: Annotated[int, Field(ge=0)]
    total: Annotated[int, Field(ge=0)]
    matches: Annotated[int, Field(ge=0)]
    unreadable: Annotated[int, Field(ge=0)] = 0
    """Records that are not articles (the live tag stage dead-letters them; the look back skips them)."""
    state: JobState
    error: str | None = None
    updated_at: AwareDatetime

    @property
    def key(self) -> str:
        return progress_key(self.lookback_id, self.job)


class HistoryHit(VersionedModel):
    """An article a look back found matching a watch (``history``, compacted, key = ``hit_key``)."""

    TOPIC: ClassVar[str] = "history"

    lookback_id: str
    candidate: PairCandidate

    @property
    def key(self) -> str:
        return hit_key(self.candidate.watch.watch_id, self.candidate.article.id)


def progress_key(lookback_id: str, job: int) -> str:
    return f"{lookback_id}\x1f{job}"


def hit_key(watch_id: str, article_id: str) -> str:
    """One hit per watch and article: a job redone after a crash overwrites its hits instead of adding."""
    return f"{watch_id}\x1f{article_id}"


def lookback_id_for(watch_id: str, since: datetime, requested_at: datetime) -> str:
    basis = f"{watch_id}\x00{since.isoformat()}\x00{requested_at.isoformat()}"
    return "lb-" + hashlib.blake2b(basis.encode(), digest_size=8).hexdigest()


def plan_jobs(
    watch: Watch,
    since: datetime,
    requested_at: datetime,
    starts: Mapping[int, int],
    ends: Mapping[int, int],
    records_per_job: int = JOB_RECORDS,
) -> list[LookbackJob]:
    """Jobs over ``[starts[p], ends[p])`` of every partition ``p`` (the first offset at ``since``, the end offset
    when asked), ``records_per_job`` offsets each; a partition with nothing in the window gets no job."""
    stretches = [
        (partition, low, min(low + records_per_job, ends[partition]))
        for partition in sorted(ends)
        for low in range(starts.get(partition, ends[partition]), ends[partition], records_per_job)
    ]
    lookback_id = lookback_id_for(watch.watch_id, since, requested_at)
    return [
        LookbackJob(
            lookback_id=lookback_id, job=number, jobs=len(stretches), watch=watch, partition=partition,
            start_offset=low, end_offset=high, since=since, requested_at=requested_at,
        )
        for number, (partition, low, high) in enumerate(stretches)
    ]  # fmt: skip


class LookbackStatus(WireModel):
    """A look back as a whole: the sum of its jobs' progress."""

    lookback_id: str
    state: Literal["running", "done", "failed"]
    jobs: int
    jobs_done: int
    scanned: int
    total: int
    matches: int
    errors: tuple[str, ...] = ()


def lookback_status(progress: Iterable[LookbackProgress], jobs: int | None = None) -> LookbackStatus | None:
    """The newest look back's status among ``progress`` (all of one watch), or None when there is none yet."""
    records = list(progress)
    if not records:
        return None
    newest = max(records, key=lambda p: p.updated_at).lookback_id
    mine = [p for p in records if p.lookback_id == newest]
    expected = jobs if jobs is not None else mine[0].jobs
    done = sum(1 for p in mine if p.state == "done")
    errors = tuple(p.error for p in mine if p.state == "failed" and p.error)
    state: Literal["running", "done", "failed"] = "failed" if errors else "done" if done >= expected else "running"
    return LookbackStatus(
        lookback_id=newest, state=state, jobs=expected, jobs_done=done, scanned=sum(p.scanned for p in mine),
        total=sum(p.total for p in mine), matches=sum(p.matches for p in mine), errors=errors,
    )  # fmt: skip


class HistoryStory(WireModel):
    """One story a look back found: its first article, the evidence there, and every article after it."""

    story_id: str
    watch_id: str
    entities: tuple[EntityRef, EntityRef] | tuple[EntityRef]
    article: AlertArticle
    evidence: tuple[str, ...]
    state_media: StateMedia
    topics: tuple[TopicTag, ...] = ()
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    article_count: int
    articles: tuple[AlertArticle, ...]
    """The story's articles in order, at most ``MAX_STORY_ARTICLES``."""


def history_stories(hits: Iterable[PairCandidate]) -> list[HistoryStory]:
    """Hits of one watch grouped by story as live alerts are (same ``StoryBook``, same order), newest first."""
    ordered = sorted(hits, key=lambda c: (c.fetched, c.article.id))
    book = StoryBook()
    stories: dict[str, HistoryStory] = {}
    for candidate in ordered:
        decision = book.decide(candidate).decision
        story = stories.get(decision.story_id)
        if not decision.counts_in_hour:
            continue  # the same article again: nothing new
        if story is None:
            stories[decision.story_id] = HistoryStory(
                story_id=decision.story_id, watch_id=candidate.watch.watch_id, entities=candidate.entities,
                article=candidate.article, evidence=candidate.evidence, state_media=candidate.state_media,
                topics=candidate.topics, first_seen=candidate.fetched, last_seen=candidate.fetched, article_count=1,
                articles=(candidate.article,),
            )  # fmt: skip
        else:  # a corroboration, or a copy founding the story again after its cooldown: the same story goes on
            stories[decision.story_id] = story.model_copy(
                update={
                    "last_seen": candidate.fetched,
                    "article_count": story.article_count + 1,
                    "articles": (*story.articles, candidate.article)[:MAX_STORY_ARTICLES],
                }
            )
    return sorted(stories.values(), key=lambda s: (s.first_seen, s.story_id), reverse=True)

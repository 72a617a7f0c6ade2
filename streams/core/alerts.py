"""Alert decisions: which watches an article matches, and whether a match fires, corroborates or repeats.

Two pure steps, each a thin agent's whole logic:

1. ``match_watches`` — for a tagged article, every watch whose two entities co-occur within the watch's scope
   (article, paragraph or sentence), honouring its topic filter and ``state_sourced_only``; the result carries
   the evidence sentences and the story signature.
2. ``decide`` — per watch, in order, against the watch's open stories: a new story fires an alert whose id is
   derived from (watch, story) alone, a near-duplicate of an open story only raises its corroboration count, and a
   redelivered founding article fires the *same* alert again (at-least-once: consumers dedupe by ``alert_id``).

Time comes in as data: story windows use the article's ``fetched`` time, ``fired_at`` is passed by the caller.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Literal

from pydantic import AwareDatetime

from streams.core.models import (
    ActorTag,
    Alert,
    AlertArticle,
    EntityRef,
    StateMedia,
    TaggedArticle,
    TopicTag,
    VersionedModel,
    Watch,
    WireModel,
)
from streams.core.sentences import Segments, segment
from streams.core.stories import SimilarityThresholds, SketchSets, StorySignature, article_signature, story_key
from streams.core.surges import RecentArticle, SurgeSeries, SurgeStep, article_moment, count_article

MAX_EVIDENCE = 3
MAX_EVIDENCE_CHARS = 600
MAX_MEMBERS = 64
MAX_OPEN_STORIES = 64
"""Open stories kept per watch (the oldest closes first): a pair rarely has more distinct stories within a cooldown,
and each new candidate is compared with every open story."""
HOURLY_WINDOWS_KEPT = 7 * 24
_SCOPED_FIELDS = ("title", "summary", "content")


# --------------------------------------------------------------------------- step 1: matching
class PairCandidate(VersionedModel):
    """A tagged article that matched one watch (internal ``pairs`` topic, key = ``watch_id``)."""

    TOPIC: ClassVar[str] = "pairs"

    watch: Watch
    entities: tuple[EntityRef, EntityRef] | tuple[EntityRef]
    article: AlertArticle
    fetched: AwareDatetime
    evidence: tuple[str, ...]
    state_media: StateMedia
    topics: tuple[TopicTag, ...] = ()
    shingles: tuple[int, ...]
    words: tuple[int, ...]

    @property
    def signature(self) -> StorySignature:
        return StorySignature(self.shingles, self.words)


@dataclass(frozen=True)
class WatchIndex:
    """Watches by entity id, so matching an article costs one lookup per actor, not one per watch."""

    by_entity: dict[str, tuple[Watch, ...]]

    @classmethod
    def build(cls, watches: Iterable[Watch]) -> WatchIndex:
        index: dict[str, list[Watch]] = defaultdict(list)
        for watch in sorted(watches, key=lambda w: w.watch_id):
            index[watch.entities[0]].append(watch)
        return cls({entity: tuple(found) for entity, found in index.items()})


def match_watches(tagged: TaggedArticle, index: WatchIndex) -> list[PairCandidate]:
    actors = {actor.id: actor for actor in tagged.actors if _scoped_mentions(actor)}
    candidates: list[PairCandidate] = []
    segments: dict[str, Segments] = {}
    signature: StorySignature | None = None
    for first_id in sorted(actors):
        for watch in index.by_entity.get(first_id, ()):
            # A one-entity watch's entity co-occurs with itself in every sentence naming it.
            second = actors.get(watch.entities[-1]) if watch.is_pair else actors[first_id]
            if second is None or not _passes_filters(tagged, watch):
                continue
            scope = watch.scope if watch.is_pair else "sentence"
            evidence = _cooccurrence_evidence(tagged, actors[first_id], second, scope, segments)
            if evidence is None:
                continue
            signature = signature or article_signature(tagged)
            candidates.append(_candidate(tagged, watch, actors[first_id], second, evidence, signature))
    return candidates


def _passes_filters(tagged: TaggedArticle, watch: Watch) -> bool:
    if watch.state_sourced_only and not tagged.state_media.state_sourced:
        return False
    return not watch.topics or any(topic.id in watch.topics for topic in tagged.topics)


def _scoped_mentions(actor: ActorTag) -> list[tuple[str, int, int]]:
    return [(m.field, m.start, m.end) for m in actor.mentions if m.field in _SCOPED_FIELDS]


def _field_text(tagged: TaggedArticle, field: str) -> str:
    text: str = getattr(tagged, field)
    return text


def _cooccurrence_evidence(
    tagged: TaggedArticle, a: ActorTag, b: ActorTag, scope: str, cache: dict[str, Segments]
) -> tuple[str, ...] | None:
    """Sentences proving the pair within ``scope``; None when the pair is not within the scope."""

    def units(actor: ActorTag, level: str) -> dict[tuple[str, int], tuple[int, int]]:
        found: dict[tuple[str, int], tuple[int, int]] = {}
        for field, start, _end in _scoped_mentions(actor):
            segs = cache.get(field)
            if segs is None:  # segmenting is the costly part: once per field and article, whatever the watches
                segs = cache[field] = segment(_field_text(tagged, field))
            spans = segs.sentences if level == "sentence" else segs.paragraphs
            index = segs.sentence_of(start) if level == "sentence" else segs.paragraph_of(start)
            found.setdefault((field, index), spans[index])
        return found

    sentences_a, sentences_b = units(a, "sentence"), units(b, "sentence")
    shared_sentences = sorted(set(sentences_a) & set(sentences_b), key=_field_order)
    if scope == "sentence" and not shared_sentences:
        return None
    if scope == "paragraph" and not shared_sentences and not set(units(a, "paragraph")) & set(units(b, "paragraph")):
        return None
    if shared_sentences:
        chosen = [(key, sentences_a[key]) for key in shared_sentences]
    else:  # same paragraph or same article, different sentences: the first sentence naming each
        first_a = min(sentences_a.items(), key=lambda item: _field_order(item[0]))
        first_b = min(sentences_b.items(), key=lambda item: _field_order(item[0]))
        chosen = sorted({first_a, first_b}, key=lambda item: _field_order(item[0]))
    texts: list[str] = []
    for (field, _), (start, end) in chosen:
        text = _field_text(tagged, field)[start:end].strip()[:MAX_EVIDENCE_CHARS]
        if text and text not in texts:
            texts.append(text)
    return tuple(texts[:MAX_EVIDENCE])


def _field_order(key: tuple[str, int]) -> tuple[int, int]:
    return _SCOPED_FIELDS.index(key[0]), key[1]


def _candidate(
    tagged: TaggedArticle,
    watch: Watch,
    first: ActorTag,
    second: ActorTag,
    evidence: tuple[str, ...],
    signature: StorySignature,
) -> PairCandidate:
    by_id = {first.id: first, second.id: second}
    return PairCandidate(
        watch=watch,
        entities=tuple(EntityRef(id=i, name=by_id[i].name) for i in watch.entities),  # type: ignore[arg-type]
        article=AlertArticle(
            id=tagged.id,
            url=tagged.url,
            title=tagged.title,
            source=tagged.source,
            published=tagged.published,
            content_source=tagged.content_source,
        ),
        fetched=tagged.fetched,
        evidence=evidence,
        state_media=tagged.state_media,
        topics=tagged.topics,
        shingles=signature.shingles,
        words=signature.words,
    )


# --------------------------------------------------------------------------- step 2: deciding
class OpenStory(WireModel):
    """A story a watch has alerted on and that is still open (persisted one per key by the worker)."""

    story_id: str
    alert_id: str
    founder: str
    opened_at: AwareDatetime
    """Event time (the founding article's ``fetched``); the story stays open for the watch's cooldown."""
    shingles: tuple[int, ...]
    words: tuple[int, ...]
    corroboration: int = 0
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    outcome: Literal["fire", "refire", "corroborate", "duplicate"]
    story_id: str
    alert_id: str
    corroboration: int

    @property
    def is_new_alert(self) -> bool:
        """A story's first alert (the oracle's and the metrics' "alert")."""
        return self.outcome == "fire"

    @property
    def sends_alert(self) -> bool:
        """An alert goes out: a new one, or the founder's redelivery re-sending the same ``alert_id``."""
        return self.outcome in ("fire", "refire")

    @property
    def counts_in_hour(self) -> bool:
        """The article counts in the watch's hourly figures: it opened a story or corroborated one."""
        return self.outcome in ("fire", "corroborate")


@dataclass(frozen=True)
class Outcome:
    """A decision plus what the caller must persist: one upserted story, and the ids of expired ones."""

    decision: Decision
    upserted: OpenStory | None
    expired: tuple[str, ...]

    @property
    def stories_changed(self) -> bool:
        """Whether the set of open story ids changed (a story opened or expired)."""
        return self.decision.outcome == "fire" or bool(self.expired)


def alert_id_for(watch_id: str, story_id: str) -> str:
    """Deterministic: same watch + same story ⇒ same id, on every worker and every redelivery."""
    return "a-" + hashlib.blake2b(f"{watch_id}\x00{story_id}".encode(), digest_size=12).hexdigest()


class StoryBook:
    """One watch's open stories, indexed for look-ups by member article and by similarity.

    Mutable and owned by the one worker that handles the watch's partition; ``decide`` returns what changed so
    the caller can persist exactly that. The story id derives from the founding article's signature, so a
    redelivered founder (even after its story expired) yields the same alert id again.
    """

    def __init__(
        self,
        stories: Iterable[OpenStory] = (),
        thresholds: SimilarityThresholds = SimilarityThresholds(),  # noqa: B008 - frozen value
    ) -> None:
        self.thresholds = thresholds
        self._stories: dict[str, OpenStory] = {}
        self._sketches: dict[str, SketchSets] = {}
        self._member_of: dict[str, str] = {}
        for story in sorted(stories, key=lambda s: s.opened_at):
            self._put(story)

    @property
    def story_ids(self) -> list[str]:
        return list(self._stories)

    @property
    def stories(self) -> list[OpenStory]:
        return list(self._stories.values())

    def decide(self, candidate: PairCandidate) -> Outcome:
        expired = self._expire(candidate.fetched, candidate.watch.cooldown_s)
        article_id = candidate.article.id
        known = self._stories.get(self._member_of.get(article_id, ""))
        if known is not None:
            outcome: Literal["refire", "duplicate"] = "refire" if known.founder == article_id else "duplicate"
            return Outcome(Decision(outcome, known.story_id, known.alert_id, known.corroboration), None, expired)
        sketch = SketchSets.of(candidate.signature)
        for story_id, other in self._sketches.items():
            if sketch.is_same_story(other, self.thresholds):
                story = self._stories[story_id]
                updated = story.model_copy(
                    update={
                        "corroboration": story.corroboration + 1,
                        "members": (*story.members, article_id)[-MAX_MEMBERS:],
                    }
                )
                self._put(updated)
                decision = Decision("corroborate", story_id, story.alert_id, updated.corroboration)
                return Outcome(decision, updated, expired)
        story_id = story_key(candidate.signature)
        opened = OpenStory(
            story_id=story_id,
            alert_id=alert_id_for(candidate.watch.watch_id, story_id),
            founder=article_id,
            opened_at=candidate.fetched,
            shingles=candidate.shingles,
            words=candidate.words,
            members=(article_id,),
        )
        self._put(opened)
        while len(self._stories) > MAX_OPEN_STORIES:
            expired += (self._drop(next(iter(self._stories))),)
        return Outcome(Decision("fire", story_id, opened.alert_id, 0), opened, expired)

    def _put(self, story: OpenStory) -> None:
        previous = self._stories.get(story.story_id)
        if previous is not None:
            for member in previous.members:
                self._member_of.pop(member, None)
        self._stories[story.story_id] = story
        self._sketches[story.story_id] = SketchSets(frozenset(story.shingles), frozenset(story.words))
        for member in story.members:
            self._member_of[member] = story.story_id

    def _drop(self, story_id: str) -> str:
        story = self._stories.pop(story_id)
        del self._sketches[story_id]
        for member in story.members:
            if self._member_of.get(member) == story_id:
                del self._member_of[member]
        return story_id

    def _expire(self, now: datetime, cooldown_s: int) -> tuple[str, ...]:
        stale = [s.story_id for s in self._stories.values() if (now - s.opened_at).total_seconds() >= cooldown_s]
        return tuple(self._drop(story_id) for story_id in stale)


@dataclass(frozen=True)
class PairEffects:
    """What the decide stage must do for one candidate; the shell only applies it."""

    outcome: Outcome
    """The decision and the stories to write or drop."""
    hourly: dict[str, int] | None
    """The watch's hourly counts to write, when this article counted; None leaves them unchanged."""
    hour_count: int | None
    """This article's hour's count after it, for the gauge."""
    alert: Alert | None
    """The alert to send, if any (a new one or a re-send with the same id)."""
    surge_series: SurgeSeries | None = None
    """The watch's surge counts to write (a watch with surges, an article that counted)."""
    surge_alert: Alert | None = None
    """The surge this article started, if any."""

    @property
    def decision(self) -> Decision:
        return self.outcome.decision


def decide_pair(
    book: StoryBook,
    hourly: dict[str, int],
    candidate: PairCandidate,
    now: datetime,
    surge_series: SurgeSeries | None = None,
) -> PairEffects:
    """One candidate through the watch's story book, its hourly counts, its surge counts (``surge_series``, for a
    watch with surges) and the alerts it may fire at ``now`` (a one-entity watch fires surges only)."""
    outcome = book.decide(candidate)
    decision = outcome.decision
    counts = record_hour(hourly, candidate.fetched) if decision.counts_in_hour else None
    surge = None
    if surge_series is not None and decision.counts_in_hour:
        article = candidate.article
        recent = RecentArticle(
            at=article_moment(article.published, candidate.fetched), story_id=decision.story_id,
            article_id=article.id, title=article.title[:200], url=article.url,
        )  # fmt: skip
        watch = candidate.watch
        surge = count_article(surge_series, watch.watch_id, recent, watch.surge_min_count, candidate.fetched)
    return PairEffects(
        outcome=outcome,
        hourly=counts,
        hour_count=counts[hour_window(candidate.fetched)] if counts is not None else None,
        alert=build_alert(candidate, decision, fired_at=now)
        if decision.sends_alert and candidate.watch.is_pair
        else None,
        surge_series=surge.series if surge is not None else None,
        surge_alert=build_surge_alert(candidate, decision, surge, now) if surge is not None else None,
    )


def build_alert(candidate: PairCandidate, decision: Decision, fired_at: datetime) -> Alert:
    return Alert(
        alert_id=decision.alert_id,
        watch_id=candidate.watch.watch_id,
        desk=candidate.watch.desk,
        entities=candidate.entities,
        story_id=decision.story_id,
        article=candidate.article,
        evidence=candidate.evidence,
        state_media=candidate.state_media,
        topics=candidate.topics,
        fired_at=fired_at,
        latency_s=max((fired_at - candidate.fetched).total_seconds(), 0.0),
    )


def build_surge_alert(
    candidate: PairCandidate, decision: Decision, step: SurgeStep, fired_at: datetime
) -> Alert | None:
    """The surge alert ``step`` started, carrying the article that tipped it (its story, evidence and sourcing)."""
    if step.surge is None or step.alert_id is None:
        return None
    alert = build_alert(candidate, decision, fired_at)
    return alert.model_copy(update={"kind": "surge", "alert_id": step.alert_id, "surge": step.surge})


def hour_window(moment: datetime) -> str:
    """Key of the tumbling hourly window containing ``moment`` (UTC, ISO hour)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:00Z")


def record_hour(hourly: dict[str, int], moment: datetime, keep_hours: int = HOURLY_WINDOWS_KEPT) -> dict[str, int]:
    """Count one matching article in its tumbling hourly window; windows older than ``keep_hours`` expire."""
    window = hour_window(moment)
    oldest = hour_window(moment - timedelta(hours=keep_hours - 1))
    counts = {hour: count for hour, count in hourly.items() if hour >= oldest}
    counts[window] = counts.get(window, 0) + 1
    return counts


def watch_summary(hourly: dict[str, int], book: StoryBook, hours: int, now: datetime) -> dict[str, object]:
    """The last ``hours`` hourly windows up to ``now`` (zeros included), with totals, for people and dashboards."""
    windows = [hour_window(now - timedelta(hours=back)) for back in range(hours - 1, -1, -1)]
    counts = {window: hourly.get(window, 0) for window in windows}
    return {
        "hourly": counts,
        "total": sum(counts.values()),
        "open_stories": len(book.story_ids),
        "corroborations": sum(story.corroboration for story in book.stories),
    }


def oracle_alert_ids(candidates_by_watch: Mapping[str, Sequence[PairCandidate]]) -> set[str]:
    """Every alert id a run must produce: the pure core replayed per watch in order (reliability oracle)."""
    fired: set[str] = set()
    for candidates in candidates_by_watch.values():
        book = StoryBook()
        for candidate in candidates:
            decision = book.decide(candidate).decision
            if decision.is_new_alert:
                fired.add(decision.alert_id)
    return fired

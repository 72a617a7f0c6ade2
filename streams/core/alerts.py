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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

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
from streams.core.stories import SimilarityThresholds, StorySignature, article_signature, is_same_story, story_key

MAX_EVIDENCE = 3
MAX_EVIDENCE_CHARS = 600
MAX_MEMBERS = 64
MAX_OPEN_STORIES = 256
HOURLY_WINDOWS_KEPT = 7 * 24
_SCOPED_FIELDS = ("title", "summary", "content")


# --------------------------------------------------------------------------- step 1: matching
class PairCandidate(VersionedModel):
    """A tagged article that matched one watch (internal ``pairs`` topic, key = ``watch_id``)."""

    TOPIC: ClassVar[str] = "pairs"

    watch: Watch
    entities: tuple[EntityRef, EntityRef]
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
            second = actors.get(watch.entities[1])
            if second is None or not _passes_filters(tagged, watch):
                continue
            evidence = _cooccurrence_evidence(tagged, actors[first_id], second, watch.scope, segments)
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
            segs = cache.setdefault(field, segment(_field_text(tagged, field)))
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
            id=tagged.id, url=tagged.url, title=tagged.title, source=tagged.source, published=tagged.published
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
    story_id: str
    alert_id: str
    founder: str
    fired_at: AwareDatetime
    """Event time (the founding article's ``fetched``) the story opened; it stays open for the cooldown."""
    shingles: tuple[int, ...]
    words: tuple[int, ...]
    corroboration: int = 0
    members: tuple[str, ...] = ()


class WatchState(WireModel):
    """A watch's open stories and its article counts per hourly window: the per-watch table value."""

    stories: tuple[OpenStory, ...] = ()
    hourly: dict[str, int] = Field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    outcome: Literal["fire", "refire", "corroborate", "duplicate"]
    story_id: str
    alert_id: str
    corroboration: int


def alert_id_for(watch_id: str, story_id: str) -> str:
    """Deterministic: same watch + same story ⇒ same id, on every worker and every redelivery."""
    return "a-" + hashlib.blake2b(f"{watch_id}\x00{story_id}".encode(), digest_size=12).hexdigest()


def decide(
    state: WatchState,
    candidate: PairCandidate,
    thresholds: SimilarityThresholds = SimilarityThresholds(),  # noqa: B008 - frozen value
) -> tuple[WatchState, Decision]:
    now = candidate.fetched
    cooldown = candidate.watch.cooldown_s
    article_id = candidate.article.id
    open_stories = [
        s for s in state.stories if (now - s.fired_at).total_seconds() < cooldown or s.founder == article_id
    ]
    for story in open_stories:
        if article_id in story.members:
            outcome: Literal["refire", "duplicate"] = "refire" if story.founder == article_id else "duplicate"
            return state.model_copy(update={"stories": tuple(open_stories)}), Decision(
                outcome, story.story_id, story.alert_id, story.corroboration
            )
    signature = candidate.signature
    for position, story in enumerate(open_stories):
        if is_same_story(StorySignature(story.shingles, story.words), signature, thresholds):
            updated = story.model_copy(
                update={
                    "corroboration": story.corroboration + 1,
                    "members": (*story.members, article_id)[-MAX_MEMBERS:],
                }
            )
            open_stories[position] = updated
            return state.model_copy(update={"stories": tuple(open_stories)}), Decision(
                "corroborate", story.story_id, story.alert_id, updated.corroboration
            )
    story_id = story_key(signature)
    opened = OpenStory(
        story_id=story_id,
        alert_id=alert_id_for(candidate.watch.watch_id, story_id),
        founder=article_id,
        fired_at=now,
        shingles=signature.shingles,
        words=signature.words,
        members=(article_id,),
    )
    stories = (*open_stories, opened)[-MAX_OPEN_STORIES:]
    return state.model_copy(update={"stories": stories}), Decision("fire", story_id, opened.alert_id, 0)


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


def hour_window(moment: datetime) -> str:
    """Key of the tumbling hourly window containing ``moment`` (UTC, ISO hour)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:00Z")


def record_hour(state: WatchState, moment: datetime, keep_hours: int = HOURLY_WINDOWS_KEPT) -> WatchState:
    """Count one matching article in its tumbling hourly window; windows older than ``keep_hours`` expire."""
    window = hour_window(moment)
    oldest = hour_window(moment - timedelta(hours=keep_hours - 1))
    hourly = {hour: count for hour, count in state.hourly.items() if hour >= oldest}
    hourly[window] = hourly.get(window, 0) + 1
    return state.model_copy(update={"hourly": hourly})


def watch_summary(state: WatchState, hours: int, now: datetime) -> dict[str, object]:
    """The last ``hours`` hourly windows up to ``now`` (zeros included), with totals, for people and dashboards."""
    windows = [hour_window(now - timedelta(hours=back)) for back in range(hours - 1, -1, -1)]
    hourly = {window: state.hourly.get(window, 0) for window in windows}
    return {
        "hourly": hourly,
        "total": sum(hourly.values()),
        "open_stories": len(state.stories),
        "corroborations": sum(story.corroboration for story in state.stories),
    }


def oracle_alert_ids(candidates_by_watch: dict[str, Sequence[PairCandidate]]) -> set[str]:
    """Every alert id a run must produce: the pure core replayed per watch in order (reliability oracle)."""
    fired: set[str] = set()
    for candidates in candidates_by_watch.values():
        state = WatchState()
        for candidate in candidates:
            state, decision = decide(state, candidate)
            if decision.outcome == "fire":
                fired.add(decision.alert_id)
    return fired

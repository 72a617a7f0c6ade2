"""Topic scoring: weighted phrase rules with the phrases found as evidence.

A topic's score is the sum of the weights of its *distinct* phrases found in the article (a phrase found in the
title counts one and a half times: headlines state what a story is about). The topic is tagged when the score
reaches its threshold, at least one ``require_any`` phrase was found (when the rule has some) and no ``exclude``
phrase was. Overlapping phrases of one topic count once, leftmost-longest ("ballistic missile" does not add
"missile" again).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from streams.core.matcher import FIELDS, Candidate, Document, Kind
from streams.core.models import TopicTag
from streams.core.registry import TopicRule

TITLE_FACTOR = 1.5
_TITLE = FIELDS.index("title")


def score_topics(
    rules: Mapping[str, TopicRule], candidates: Iterable[Candidate], document: Document
) -> tuple[TopicTag, ...]:
    by_topic: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        by_topic[candidate.pattern.target].append(candidate)
    tags: list[TopicTag] = []
    for topic_id, found in by_topic.items():
        rule = rules[topic_id]
        if rule.exclude or rule.require_any:
            kinds = {c.pattern.kind for c in found}
            if Kind.TOPIC_EXCLUDED in kinds or (rule.require_any and Kind.TOPIC_REQUIRED not in kinds):
                continue
        contributions: dict[str, float] = {}
        evidence: dict[str, str] = {}
        field, end = -1, -1
        for candidate in sorted(found, key=_leftmost_longest):
            pattern = candidate.pattern
            if pattern.kind is not Kind.TOPIC or (candidate.field == field and candidate.start < end):
                continue
            field, end = candidate.field, candidate.end
            weight = pattern.weight * TITLE_FACTOR if field == _TITLE else pattern.weight
            if weight > contributions.get(pattern.phrase, 0.0):
                contributions[pattern.phrase] = weight
            if pattern.phrase not in evidence:
                evidence[pattern.phrase] = document.texts[field][candidate.start : candidate.end]
        score = round(sum(contributions.values()), 2)
        if contributions and score >= rule.threshold:
            ranked = sorted(contributions, key=lambda p: (-contributions[p], evidence[p].lower()))
            tags.append(
                TopicTag(id=rule.id, label=rule.label, score=score, evidence=tuple(evidence[p] for p in ranked))
            )
    return tuple(sorted(tags, key=lambda t: (-t.score, t.id)))


def _leftmost_longest(candidate: Candidate) -> tuple[int, int, int]:
    return candidate.field, candidate.start, -candidate.end

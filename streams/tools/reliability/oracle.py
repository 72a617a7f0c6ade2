"""The reliability oracle: which alerts a corpus must produce, from the pure core alone, and a run's check.

The expected alert ids are ``oracle_alert_ids`` over ``match_watches(tag(article))`` per watch in corpus order.
Story clustering is order-sensitive only for near-duplicates that are not identical; the synthetic corpus's
syndicated copies are identical (same story id, so the same alert id whichever copy comes first) and distinct
stories are far apart, so the set is the same in any order the workers see (``tests/unit/reliability`` checks
it by shuffling). A run then passes when its alerts topic, deduplicated by ``alert_id``, is exactly that set.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from streams.core.alerts import PairCandidate, WatchIndex, match_watches, oracle_alert_ids
from streams.core.models import Alert, Article, Watch
from streams.infra.registry_files import Tag, shipped_tagger
from streams.tools.synthetic import PAIR_PEOPLE

RELIABILITY_DESK = "reliability"


@functools.cache
def default_tag() -> Tag:
    """The shipped tagger, compiled once per process (about a second); it is pure and thread-safe."""
    tag: Tag = shipped_tagger().tag
    return tag


def pair_watches(desk: str = RELIABILITY_DESK) -> tuple[Watch, ...]:
    """One sentence-scope watch per pair the synthetic corpus names."""
    from streams.infra.watches import build_watch

    return tuple(build_watch(desk, list(pair), scope="sentence") for pair in PAIR_PEOPLE)


def candidates_by_watch(
    articles: Iterable[Article], watches: Iterable[Watch], tag: Tag
) -> dict[str, list[PairCandidate]]:
    """Each watch's pair candidates in article order: what the tag stage sends to ``pairs``."""
    index = WatchIndex.build(watches)
    found: dict[str, list[PairCandidate]] = {}
    for article in articles:
        for candidate in match_watches(tag(article), index):
            found.setdefault(candidate.watch.watch_id, []).append(candidate)
    return found


def expected_alert_ids(articles: Iterable[Article], watches: Iterable[Watch], tag: Tag) -> frozenset[str]:
    return frozenset(oracle_alert_ids(candidates_by_watch(articles, watches, tag)))


MISSING_LISTED = 20
"""A failed run names this many missing alert ids, so they can be looked up on its kept topics."""


@dataclass(frozen=True)
class AlertCheck:
    """A run's alerts topic against the oracle.

    ``raw_duplicates`` counts records beyond the first per ``alert_id`` (at-least-once redeliveries, expected
    after crashes). ``duplicates_after_dedup`` counts what a desk still sees twice after deduplicating by
    ``alert_id``: another alert id for a (watch, article) already alerted.
    """

    expected: int
    records: int
    distinct: int
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    raw_duplicates: int
    duplicates_after_dedup: int

    @property
    def passed(self) -> bool:
        return not self.missing and not self.unexpected and self.duplicates_after_dedup == 0

    def lines(self) -> list[str]:
        return [
            f"alerts expected (oracle)        {self.expected:8d}",
            f"alert records on the topic      {self.records:8d}",
            f"missing                         {len(self.missing):8d}",
            f"unexpected                      {len(self.unexpected):8d}",
            f"duplicate ids on the topic      {self.raw_duplicates:8d}",
            f"duplicates after dedup          {self.duplicates_after_dedup:8d}",
            *(f"  missing alert id              {alert_id}" for alert_id in self.missing[:MISSING_LISTED]),
        ]


def check_alerts(expected: frozenset[str], alerts: Sequence[Alert]) -> AlertCheck:
    by_id = {alert.alert_id: alert for alert in alerts}
    per_article = Counter((alert.watch_id, alert.article.id) for alert in by_id.values())
    return AlertCheck(
        expected=len(expected),
        records=len(alerts),
        distinct=len(by_id),
        missing=tuple(sorted(expected - by_id.keys())),
        unexpected=tuple(sorted(by_id.keys() - expected)),
        raw_duplicates=len(alerts) - len(by_id),
        duplicates_after_dedup=sum(count - 1 for count in per_article.values()),
    )

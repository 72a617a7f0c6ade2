"""The reliability oracle: the alert ids a corpus must produce do not depend on the order the workers see it."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.alerts import PairCandidate, oracle_alert_ids
from streams.core.models import Alert
from streams.tools.reliability.oracle import candidates_by_watch, check_alerts, default_tag, pair_watches
from streams.tools.reliability.storm import StormSpec
from streams.tools.synthetic import CorpusSpec, synthetic_corpus
from tests.support.desks import make_alert

PARTITIONS = 4


@pytest.fixture(scope="module")
def candidates() -> dict[str, list[PairCandidate]]:
    """The short kill storm's corpus, matched against the reliability watches, in corpus order."""
    corpus = synthetic_corpus(CorpusSpec(count=StormSpec.short().articles), datetime(2026, 11, 27, tzinfo=UTC))
    return candidates_by_watch(corpus, pair_watches(), default_tag())


def _interleaved(items: list[PairCandidate], rng: random.Random) -> list[PairCandidate]:
    """A random merge of per-partition queues (partition = article id modulo 4): what two workers may deliver."""
    queues: list[list[PairCandidate]] = [[] for _ in range(PARTITIONS)]
    for item in items:
        queues[int(item.article.id, 16) % PARTITIONS].append(item)
    merged: list[PairCandidate] = []
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        merged.append(queue.pop(0))
    return merged


def test_the_corpus_exercises_story_clustering(candidates: dict[str, list[PairCandidate]]) -> None:
    expected = oracle_alert_ids(candidates)
    matched = sum(len(found) for found in candidates.values())
    assert len(candidates) == 3
    assert len(expected) > 100
    assert matched > len(expected) + 30  # syndicated copies corroborate instead of firing


@settings(max_examples=25, deadline=None)
@given(rng=st.randoms(use_true_random=False))
def test_any_interleaving_of_partitions_gives_the_same_alert_ids(
    candidates: dict[str, list[PairCandidate]], rng: random.Random
) -> None:
    reordered = {watch: _interleaved(found, rng) for watch, found in candidates.items()}
    assert oracle_alert_ids(reordered) == oracle_alert_ids(candidates)


@settings(max_examples=25, deadline=None)
@given(rng=st.randoms(use_true_random=False))
def test_even_a_full_shuffle_gives_the_same_alert_ids(
    candidates: dict[str, list[PairCandidate]], rng: random.Random
) -> None:
    shuffled = {watch: rng.sample(found, len(found)) for watch, found in candidates.items()}
    assert oracle_alert_ids(shuffled) == oracle_alert_ids(candidates)


def _alert(alert_id: str, article: str, watch: str = "w-000000000001") -> Alert:
    made = make_alert("desk", 1, watch_id=watch)
    return made.model_copy(update={"alert_id": alert_id, "article": made.article.model_copy(update={"id": article})})


@pytest.mark.parametrize(
    ("alerts", "missing", "unexpected", "raw_duplicates", "after_dedup", "passed"),
    [
        ([_alert("a1", "x"), _alert("a2", "y")], 0, 0, 0, 0, True),
        ([_alert("a1", "x"), _alert("a1", "x"), _alert("a2", "y")], 0, 0, 1, 0, True),  # redelivered: fine
        ([_alert("a1", "x")], 1, 0, 0, 0, False),
        ([_alert("a1", "x"), _alert("a2", "y"), _alert("a3", "z")], 0, 1, 0, 0, False),
        ([_alert("a1", "x"), _alert("a2", "y"), _alert("a3", "x")], 0, 1, 0, 1, False),  # one article, two ids
    ],
)
def test_check_alerts_counts_what_a_desk_would_see(
    alerts: list[Alert], missing: int, unexpected: int, raw_duplicates: int, after_dedup: int, passed: bool
) -> None:
    check = check_alerts(frozenset({"a1", "a2"}), alerts)
    assert (len(check.missing), len(check.unexpected), check.raw_duplicates, check.duplicates_after_dedup) == (
        missing,
        unexpected,
        raw_duplicates,
        after_dedup,
    )
    assert check.passed is passed


def test_a_report_names_the_missing_alert_ids_to_look_up_on_the_kept_topics() -> None:
    report = "\n".join(check_alerts(frozenset({"a1", "a2"}), [_alert("a1", "x")]).lines())
    assert "missing alert id              a2" in report
    assert "a1" not in report.replace("missing alert id", "")

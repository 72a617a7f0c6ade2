from __future__ import annotations

from datetime import timedelta

import pytest

from streams.core.alerts import (
    WatchIndex,
    WatchState,
    alert_id_for,
    build_alert,
    decide,
    hour_window,
    match_watches,
    record_hour,
)
from tests.unit.pipeline.factories import KIM, PUTIN, T0, XI, tagged, watch
from tests.unit.pipeline.test_stories import BIRTHDAY, PACT, PACT_REWRITE

SAME_SENTENCE = "Kim Jong Un hosted Vladimir Putin in Pyongyang on Wednesday. Talks lasted hours."
SAME_PARAGRAPH = "Kim Jong Un greeted the guests at the airport. Later, Vladimir Putin toured the city."
OTHER_PARAGRAPHS = "Kim Jong Un inspected a factory on Monday.\n\nSeparately, Vladimir Putin addressed parliament."


def _match(content: str, scope: str, **article: object) -> list[str]:
    index = WatchIndex.build([watch(scope=scope)])
    return [c.watch.watch_id for c in match_watches(tagged("a1", "Daily news", content, **article), index)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("content", "scope", "fires"),
    [
        (SAME_SENTENCE, "sentence", True),
        (SAME_PARAGRAPH, "sentence", False),
        (SAME_PARAGRAPH, "paragraph", True),
        (OTHER_PARAGRAPHS, "paragraph", False),
        (OTHER_PARAGRAPHS, "article", True),
        ("Kim Jong Un inspected a factory.", "article", False),
    ],
)
def test_scope_decides_whether_a_pair_cooccurs(content: str, scope: str, fires: bool) -> None:
    assert _match(content, scope) == (["w1"] if fires else [])


def test_evidence_is_the_shared_sentence_or_the_first_sentence_of_each() -> None:
    index = WatchIndex.build([watch()])
    [same] = match_watches(tagged("a1", "Daily news", SAME_SENTENCE), index)
    assert same.evidence == ("Kim Jong Un hosted Vladimir Putin in Pyongyang on Wednesday.",)
    [apart] = match_watches(tagged("a2", "Daily news", OTHER_PARAGRAPHS), index)
    assert apart.evidence == (
        "Kim Jong Un inspected a factory on Monday.",
        "Separately, Vladimir Putin addressed parliament.",
    )


def test_entity_order_in_the_watch_does_not_matter() -> None:
    index = WatchIndex.build([watch(entities=(PUTIN[0], KIM[0]))])
    [candidate] = match_watches(tagged("a1", "t", SAME_SENTENCE), index)
    assert [e.name for e in candidate.entities] == ["Vladimir Putin", "Kim Jong Un"]


def test_topic_filter_and_state_sourced_only() -> None:
    index = WatchIndex.build([watch("topical", topics=["sanctions"]), watch("state", state_sourced_only=True)])
    assert match_watches(tagged("a1", "t", SAME_SENTENCE), index) == []
    both = match_watches(tagged("a1", "t", SAME_SENTENCE, topics=("sanctions",), state_sourced=True), index)
    assert sorted(c.watch.watch_id for c in both) == ["state", "topical"]


def test_only_watches_whose_both_entities_appear_match() -> None:
    index = WatchIndex.build([watch("kp", (KIM[0], PUTIN[0])), watch("px", (PUTIN[0], XI[0]))])
    found = match_watches(tagged("a1", "t", SAME_SENTENCE, actors=(KIM, PUTIN)), index)
    assert [c.watch.watch_id for c in found] == ["kp"]


def _candidate(article_id: str, text: str, after_s: float = 0.0, cooldown_s: int = 6 * 3600):  # type: ignore[no-untyped-def]
    index = WatchIndex.build([watch(cooldown_s=cooldown_s)])
    [candidate] = match_watches(tagged(article_id, text.split(". ")[0], text, fetched_after_s=after_s), index)
    return candidate


def test_a_story_fires_once_and_later_copies_corroborate() -> None:
    state, first = decide(WatchState(), _candidate("a1", PACT))
    state, second = decide(state, _candidate("a2", PACT_REWRITE, after_s=600))
    state, third = decide(state, _candidate("a3", BIRTHDAY, after_s=900))
    assert first.outcome == "fire"
    assert second.outcome == "corroborate"
    assert (second.alert_id, second.corroboration) == (first.alert_id, 1)
    assert third.outcome == "fire"
    assert third.alert_id != first.alert_id
    assert len(state.stories) == 2


def test_redelivery_of_the_founder_refires_the_same_alert_and_of_a_member_is_a_duplicate() -> None:
    state, first = decide(WatchState(), _candidate("a1", PACT))
    state, _ = decide(state, _candidate("a2", PACT_REWRITE, after_s=60))
    state, again = decide(state, _candidate("a1", PACT))
    _, member = decide(state, _candidate("a2", PACT_REWRITE, after_s=60))
    assert (again.outcome, again.alert_id) == ("refire", first.alert_id)
    assert member.outcome == "duplicate"


def test_after_the_cooldown_a_similar_article_opens_a_new_story() -> None:
    state, first = decide(WatchState(), _candidate("a1", PACT, cooldown_s=3600))
    state, later = decide(state, _candidate("a2", PACT_REWRITE, after_s=7200, cooldown_s=3600))
    assert later.outcome == "fire"
    assert later.alert_id != first.alert_id
    assert [s.founder for s in state.stories] == ["a2"]


def test_alert_ids_depend_on_watch_and_story_only() -> None:
    assert alert_id_for("w1", "s-1") == alert_id_for("w1", "s-1")
    assert alert_id_for("w1", "s-1") != alert_id_for("w2", "s-1")
    _, a = decide(WatchState(), _candidate("a1", PACT))
    _, b = decide(WatchState(), _candidate("copy-elsewhere", PACT))
    assert a.alert_id == b.alert_id  # identical syndicated text: same story whichever copy came first


def test_alert_carries_evidence_and_latency() -> None:
    candidate = _candidate("a1", PACT)
    _, decision = decide(WatchState(), candidate)
    alert = build_alert(candidate, decision, fired_at=T0 + timedelta(seconds=2.5))
    assert alert.latency_s == 2.5
    assert alert.alert_id == decision.alert_id
    assert alert.article.id == "a1"
    assert any("Kim Jong Un" in sentence for sentence in alert.evidence)


def test_hourly_windows_count_by_fetch_time_and_expire() -> None:
    state = WatchState()
    for after_s in (0, 60, 3600, 3 * 3600):
        state = record_hour(state, T0 + timedelta(seconds=after_s), keep_hours=3)
    assert state.hourly == {"2026-11-27T09:00Z": 1, "2026-11-27T11:00Z": 1}
    assert hour_window(T0) == "2026-11-27T08:00Z"

from __future__ import annotations

from datetime import timedelta

import pytest

from streams.core.alerts import (
    OpenStory,
    StoryBook,
    WatchIndex,
    alert_id_for,
    build_alert,
    decide_pair,
    hour_window,
    match_watches,
    record_hour,
    watch_summary,
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
    book = StoryBook()
    first = book.decide(_candidate("a1", PACT))
    second = book.decide(_candidate("a2", PACT_REWRITE, after_s=600))
    third = book.decide(_candidate("a3", BIRTHDAY, after_s=900))
    assert first.decision.outcome == "fire"
    assert first.upserted is not None
    assert first.stories_changed
    assert second.decision.outcome == "corroborate"
    assert (second.decision.alert_id, second.decision.corroboration) == (first.decision.alert_id, 1)
    assert second.upserted is not None
    assert second.upserted.members == ("a1", "a2")
    assert not second.stories_changed
    assert third.decision.outcome == "fire"
    assert third.decision.alert_id != first.decision.alert_id
    assert len(book.story_ids) == 2


def test_redelivery_of_the_founder_refires_the_same_alert_and_of_a_member_is_a_duplicate() -> None:
    book = StoryBook()
    first = book.decide(_candidate("a1", PACT))
    book.decide(_candidate("a2", PACT_REWRITE, after_s=60))
    again = book.decide(_candidate("a1", PACT))
    member = book.decide(_candidate("a2", PACT_REWRITE, after_s=60))
    assert (again.decision.outcome, again.decision.alert_id) == ("refire", first.decision.alert_id)
    assert again.upserted is None
    assert member.decision.outcome == "duplicate"


def test_after_the_cooldown_a_similar_article_opens_a_new_story_and_the_old_one_expires() -> None:
    book = StoryBook()
    first = book.decide(_candidate("a1", PACT, cooldown_s=3600))
    later = book.decide(_candidate("a2", PACT_REWRITE, after_s=7200, cooldown_s=3600))
    assert later.decision.outcome == "fire"
    assert later.decision.alert_id != first.decision.alert_id
    assert later.expired == (first.decision.story_id,)
    assert [s.founder for s in book.stories] == ["a2"]


def test_decide_pair_says_what_the_shell_must_send_count_and_write() -> None:
    """The decide stage applies these effects and decides nothing itself (one place for "alert = fire")."""
    book, now = StoryBook(), T0 + timedelta(hours=1)
    fired = decide_pair(book, {}, _candidate("a1", PACT), now)
    assert fired.decision.is_new_alert
    assert fired.alert is not None
    assert (fired.alert.alert_id, fired.alert.fired_at) == (fired.decision.alert_id, now)
    assert fired.hourly == {hour_window(T0): 1}
    assert fired.hour_count == 1
    corroborated = decide_pair(book, fired.hourly, _candidate("a2", PACT_REWRITE, after_s=60), now)
    assert corroborated.alert is None
    assert corroborated.decision.outcome == "corroborate"
    assert corroborated.hour_count == 2
    refired = decide_pair(book, corroborated.hourly or {}, _candidate("a1", PACT), now)
    assert refired.alert is not None
    assert not refired.decision.is_new_alert
    assert refired.alert.alert_id == fired.alert.alert_id
    assert refired.hourly is None  # a redelivery does not count twice
    duplicate = decide_pair(book, {}, _candidate("a2", PACT_REWRITE, after_s=60), now)
    assert (duplicate.alert, duplicate.hourly) == (None, None)


def test_a_book_rebuilt_from_persisted_stories_decides_the_same() -> None:
    live = StoryBook()
    live.decide(_candidate("a1", PACT))
    persisted = [OpenStory.from_wire(story.to_json()) for story in live.stories]
    rebuilt = StoryBook(persisted)
    assert (
        rebuilt.decide(_candidate("a2", PACT_REWRITE, after_s=60)).decision
        == live.decide(_candidate("a2", PACT_REWRITE, after_s=60)).decision
    )


def test_alert_ids_depend_on_watch_and_story_only() -> None:
    assert alert_id_for("w1", "s-1") == alert_id_for("w1", "s-1")
    assert alert_id_for("w1", "s-1") != alert_id_for("w2", "s-1")
    a = StoryBook().decide(_candidate("a1", PACT)).decision
    b = StoryBook().decide(_candidate("copy-elsewhere", PACT)).decision
    assert a.alert_id == b.alert_id  # identical syndicated text: same story whichever copy came first


def test_alert_carries_evidence_and_latency() -> None:
    candidate = _candidate("a1", PACT)
    decision = StoryBook().decide(candidate).decision
    alert = build_alert(candidate, decision, fired_at=T0 + timedelta(seconds=2.5))
    assert alert.latency_s == 2.5
    assert alert.alert_id == decision.alert_id
    assert alert.article.id == "a1"
    assert any("Kim Jong Un" in sentence for sentence in alert.evidence)


def test_hourly_windows_count_by_fetch_time_and_expire() -> None:
    hourly: dict[str, int] = {}
    for after_s in (0, 60, 3600, 3 * 3600):
        hourly = record_hour(hourly, T0 + timedelta(seconds=after_s), keep_hours=3)
    assert hourly == {"2026-11-27T09:00Z": 1, "2026-11-27T11:00Z": 1}
    assert hour_window(T0) == "2026-11-27T08:00Z"


def test_watch_summary_lists_every_recent_hour() -> None:
    book = StoryBook()
    book.decide(_candidate("a1", PACT))
    summary = watch_summary({"2026-11-27T08:00Z": 3}, book, hours=2, now=T0 + timedelta(minutes=70))
    assert summary == {
        "hourly": {"2026-11-27T08:00Z": 3, "2026-11-27T09:00Z": 0},
        "total": 3,
        "open_stories": 1,
        "corroborations": 0,
    }

"""Watch requests: names resolved through the shipped registry, options validated, ids deterministic."""

from __future__ import annotations

import pytest

from streams.infra.watches import WatchError, build_watch, parse_duration, resolve_entity, watch_id_for


@pytest.mark.parametrize(
    ("query", "expected"),
    [("Vladimir Putin", "Q7747"), ("Q7747", "Q7747"), ("Kim Jong-un", "Q56226"), ("North Korea", "Q423")],
)
def test_names_and_ids_resolve_to_registry_ids(query: str, expected: str) -> None:
    assert resolve_entity(query)[0] == expected


def test_unknown_names_fail_with_suggestions() -> None:
    with pytest.raises(WatchError, match=r"unknown entity 'Vladimir Putn'; did you mean: Vladimir Putin \(Q7747\)"):
        resolve_entity("Vladimir Putn")


def test_ambiguous_names_fail_listing_the_ids() -> None:
    with pytest.raises(WatchError, match=r"ambiguous entity 'Kim'.*Kim Jong Un \(Q56226, person\)"):
        resolve_entity("Kim")


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("15m", 900), ("6h", 21600), ("1.5d", 129600)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "6 hours", "-1h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(WatchError, match="not a duration"):
        parse_duration(text)


def test_watch_ids_ignore_entity_and_topic_order_but_not_desk_or_scope() -> None:
    base = watch_id_for("korea", ["Q1", "Q2"], "article", ["a", "b"], False)
    assert watch_id_for("korea", ["Q2", "Q1"], "article", ["b", "a"], False) == base
    assert watch_id_for("china", ["Q1", "Q2"], "article", ["a", "b"], False) != base
    assert watch_id_for("korea", ["Q1", "Q2"], "sentence", ["a", "b"], False) != base


def test_build_watch_validates_like_the_api() -> None:
    watch = build_watch("korea", ["Kim Jong Un", "Vladimir Putin"], scope="sentence", topics=["sanctions"])
    assert watch.entities == ("Q56226", "Q7747")
    assert watch.topics == ("sanctions",)
    with pytest.raises(WatchError, match=r"unknown topic.*'sanction'.*known topics: .*sanctions"):
        build_watch("korea", ["Kim Jong Un", "Vladimir Putin"], topics=["sanction"])
    with pytest.raises(WatchError, match="two different entities"):
        build_watch("korea", ["Vladimir Putin", "Q7747"])
    with pytest.raises(WatchError, match=r"two entities \(or one, for its surges\), got 3"):
        build_watch("korea", ["Kim Jong Un", "Vladimir Putin", "Xi Jinping"])

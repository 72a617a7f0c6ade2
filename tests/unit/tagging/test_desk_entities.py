"""Desk entities: the rules a new one must pass (``plan_entity``, with the real word lists where it matters) and
how the tagger finds them (native scripts, inflected forms, context words, case), on real phrasings."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from streams.core.entities import MAX_NAMES, DeskEntityMatcher, EntityError, entity_id_for, plan_entity
from streams.core.models import Article, DeskEntity, Source
from streams.core.registry import ActorId
from streams.core.tagger import Tagger
from streams.infra.entities import build_entity, word_commonness
from streams.infra.inflection import name_forms
from streams.infra.registry_files import shipped_tagger

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def never_common(_name: str) -> tuple[float, str] | None:
    return None


def plan(name: str, entity_type: str = "vessel", aliases: tuple[str, ...] = (), **options: object) -> DeskEntity:
    return plan_entity(
        "night",
        name,
        entity_type,
        aliases,
        now=NOW,
        is_common=never_common,
        registry_ids=lambda _n: [],
        **options,  # type: ignore[arg-type]
    ).entity


# --------------------------------------------------------------------------- rules
@pytest.mark.parametrize(
    ("name", "aliases", "entity_type", "message"),
    [
        ("Eagle S", ("",), "vessel", "is empty"),
        ("Eagle S", ("x" * 121,), "vessel", "is over 120 characters"),
        ("Eagle S", ("-",), "vessel", "fewer than two letters"),
        ("Eagle S", (), "submarine", "unknown type 'submarine'"),
        ("Eagle S", tuple(f"alias {i}" for i in range(10_000)), "vessel", f"at most {MAX_NAMES}"),
    ],
)
def test_bad_names_and_types_are_refused_with_the_reason(
    name: str, aliases: tuple[str, ...], entity_type: str, message: str
) -> None:
    with pytest.raises(EntityError, match=re.escape(message)):
        plan(name, entity_type, aliases)


@pytest.mark.parametrize("name", ["Hope", "Dawn", "Mars", "Победа"])
def test_a_common_word_needs_context_words_and_then_only_counts_near_one(name: str) -> None:
    with pytest.raises(EntityError, match="common word"):
        build_entity("night", name, "vessel", now=NOW)
    planned = build_entity("night", name, "vessel", context=["tanker", "vessel", "судно"], now=NOW)
    assert planned.entity.needs_context == (name,)
    assert any("counts only with one of the context words" in w for w in planned.warnings)


@pytest.mark.parametrize("name", ["Sovcomflot", "Hwasong-19", "Zhenhua 10", "Совкомфлот"])
def test_rare_names_count_anywhere(name: str) -> None:
    planned = build_entity("night", name, "organization", now=NOW)
    assert planned.entity.needs_context == ()
    assert word_commonness(name) is None or word_commonness(name)[0] < 4.0  # type: ignore[index]


def test_a_short_name_needs_context_unless_it_is_an_acronym_or_case_sensitive() -> None:
    with pytest.raises(EntityError, match="3 letters or fewer"):
        plan("Abu Ali al-Tamimi", "person", ("Ali",))
    assert plan("Kataib Sayyid al-Shuhada", "organization", ("KSS",)).needs_context == ()
    assert plan("Ansar Allah Media Office", "organization", ("Amo",), case_sensitive=True).needs_context == ()


def test_a_name_the_registry_knows_is_accepted_with_its_registry_id() -> None:
    planned = build_entity("night", "Wagner Group", "organization", now=NOW)
    known = [w for w in planned.warnings if "already in the registry" in w]
    assert known, planned.warnings
    assert re.search(r"as (Q\d+|ww:\S+)", known[0])


def test_ids_are_stable_per_desk_and_never_look_like_registry_ids() -> None:
    first, again = plan("Eagle S"), plan("EAGLE S")
    assert first.entity_id == again.entity_id == entity_id_for("night", "vessel", "Eagle S")
    assert entity_id_for("day", "vessel", "Eagle S") != first.entity_id
    assert entity_id_for(None, "vessel", "Eagle S") != first.entity_id
    from pydantic import TypeAdapter, ValidationError

    with pytest.raises(ValidationError):
        TypeAdapter(ActorId).validate_python(first.entity_id)


def test_duplicate_names_after_folding_are_kept_once() -> None:
    entity = plan("Eagle S", aliases=("EAGLE S", "Eagle-S", "Игл С"))
    assert entity.names == ("Eagle S", "Игл С")


# --------------------------------------------------------------------------- matching
@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return shipped_tagger()


def article(text: str, title: str = "World news") -> Article:
    source = Source(feed_url="https://example.org/rss", name="Example", domain="example.org")
    return Article(id="a1", url="https://example.org/a1", title=title, content=text, fetched=NOW, source=source)


def desk_tags(tagger: Tagger, entities: list[DeskEntity], text: str) -> dict[str, list[str]]:
    tagged = tagger.tag(article(text), DeskEntityMatcher(entities, name_forms))
    found: dict[str, list[str]] = {}
    for actor in tagged.actors:
        if actor.id.startswith("desk:"):
            for mention in actor.mentions:
                assert getattr(tagged, mention.field)[mention.start : mention.end] == mention.text
            found[actor.id] = [m.text for m in actor.mentions]
    return found


HWASONG = plan("Hwasong-19", "weapon", ("화성-19", "Хвасон-19", "火星-19"))
SOVCOMFLOT = plan("Sovcomflot", "organization", ("Совкомфлот", "ПАО «Совкомфлот»"))
JAGUAR = plan_entity(
    "night", "Jaguar", "vessel", ("MT Jaguar",), context=("tanker", "vessel", "ship", "танкер", "судн"), now=NOW,
    is_common=lambda name: (4.3, "en") if name == "Jaguar" else None, registry_ids=lambda _n: [],
).entity  # fmt: skip
ISIS = plan("ISIS", "organization", case_sensitive=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("North Korea said it tested a new Hwasong-19 intercontinental ballistic missile.", ["Hwasong-19"]),
        ("북한은 신형 대륙간탄도미사일 화성-19형을 시험발사했다고 밝혔다.", ["화성-19"]),
        ("КНДР провела испытание межконтинентальной баллистической ракеты «Хвасон-19».", ["Хвасон-19"]),
        ("朝鲜宣布成功试射新型洲际弹道导弹火星-19。", ["火星-19"]),
    ],
)
def test_a_weapon_is_found_in_its_native_scripts(tagger: Tagger, text: str, expected: list[str]) -> None:
    assert desk_tags(tagger, [HWASONG], text) == {HWASONG.entity_id: expected}


@pytest.mark.parametrize(
    "text",
    [
        "Санкции против «Совкомфлота» расширены, сообщил Минфин США.",
        "Танкеры Совкомфлоту больше не страхуют западные компании.",
        "The US Treasury added Sovcomflot's tankers to its sanctions list.",
    ],
)
def test_a_company_is_found_in_inflected_and_possessive_forms(tagger: Tagger, text: str) -> None:
    assert SOVCOMFLOT.entity_id in desk_tags(tagger, [SOVCOMFLOT], text)


def test_nothing_is_found_inside_longer_words_or_numbers(tagger: Tagger) -> None:
    assert desk_tags(tagger, [HWASONG, SOVCOMFLOT], "The Hwasong-190 exhibit and Sovcomflotilla were fictional.") == {}


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("Estonia's navy tried to stop the sanctioned tanker Jaguar in the Gulf of Finland.", True),
        ("The Jaguar, a vessel of Russia's shadow fleet, sailed on under escort.", True),
        ("Эстония пыталась задержать танкер Jaguar теневого флота России.", True),
        ("Jaguar unveiled an electric saloon at the Paris motor show.", False),
        ("The Jaguar sailed on.\n\nIn other news, a tanker docked in Rotterdam.", False),
    ],
)
def test_a_weak_name_counts_only_with_a_context_word_in_its_sentence(tagger: Tagger, text: str, counts: bool) -> None:
    assert (JAGUAR.entity_id in desk_tags(tagger, [JAGUAR], text)) is counts


def test_a_strong_alias_of_a_weak_entity_counts_anywhere(tagger: Tagger) -> None:
    assert desk_tags(tagger, [JAGUAR], "MT Jaguar left Primorsk on Sunday.") == {JAGUAR.entity_id: ["MT Jaguar"]}
    assert desk_tags(tagger, [JAGUAR], "Jaguar sales rose in China.") == {}


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("ISIS claimed the attack in a statement on Telegram.", True),
        ("The temple of Isis at Philae drew record visitors.", False),
        ("Police named the victim as Isis Okafor, 34.", False),
    ],
)
def test_a_case_sensitive_acronym_matches_only_as_written(tagger: Tagger, text: str, counts: bool) -> None:
    assert (ISIS.entity_id in desk_tags(tagger, [ISIS], text)) is counts


def test_desk_entities_are_tagged_beside_the_registrys_actors_with_their_type(tagger: Tagger) -> None:
    text = "Kim Jong Un watched the launch of a Hwasong-19 missile, KCNA said."
    tagged = tagger.tag(article(text), DeskEntityMatcher([HWASONG], name_forms))
    by_id = {actor.id: actor for actor in tagged.actors}
    assert by_id[HWASONG.entity_id].type == "weapon"
    assert by_id[HWASONG.entity_id].name == "Hwasong-19"
    assert "Q56226" in by_id
    assert tagged.schema_version == 3
    plain = tagger.tag(article(text))
    assert [a.id for a in plain.actors] == [a.id for a in tagged.actors if not a.id.startswith("desk:")]


def test_a_rebuild_from_the_previous_automaton_matches_what_a_fresh_build_matches(tagger: Tagger) -> None:
    before = DeskEntityMatcher([HWASONG, SOVCOMFLOT], name_forms)
    renamed = SOVCOMFLOT.model_copy(update={"aliases": ("SCF Group",)})
    after = DeskEntityMatcher([renamed, JAGUAR], name_forms, previous=before)
    text = "SCF Group and Sovcomflot tankers met the Jaguar, a tanker, off Hwasong-19 territory. Совкомфлот молчит."
    tagged = tagger.tag(article(text), after)
    found = {a.id: [m.text for m in a.mentions] for a in tagged.actors if a.id.startswith("desk:")}
    assert found == {SOVCOMFLOT.entity_id: ["SCF Group", "Sovcomflot"], JAGUAR.entity_id: ["Jaguar"]}
    fresh = tagger.tag(article(text), DeskEntityMatcher([renamed, JAGUAR], name_forms))
    assert fresh.actors == tagged.actors

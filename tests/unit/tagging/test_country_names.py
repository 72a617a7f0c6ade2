"""Country names in other languages (CLDR, ``streams.infra.country_names``) and Arabic joined words."""

from __future__ import annotations

import pytest

from streams.core.tagger import Tagger
from streams.infra.country_names import cldr_names
from streams.infra.inflection import arabic_name_forms
from streams.infra.registry_files import load_registries, shipped_tagger
from tests.support.tagging import article_with


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return shipped_tagger()


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("北朝鮮の国営メディアは、イランの外相が訪問したと伝えた。", "Q794"),
        ("Die Regierung in Russland wies den Bericht zurück.", "Q159"),
        ("Hoa Kỳ và Hàn Quốc bắt đầu tập trận chung.", "Q30"),
        ("北韓今天發射了一枚彈道飛彈。", "Q423"),
        ("نفت إيران اليوم الاتهامات.", "Q794"),
        # "US" as written is the United States without a full name first; "us" is the pronoun.
        ("Climate change threatens half of US bases worldwide, a report found.", "Q30"),
        ("The tilt to the US to confront China worried the region.", "Q30"),
        ("米国と韓国は合同演習を行った。", "Q30"),
    ],
)
def test_country_names_of_other_languages_are_tagged(tagger: Tagger, text: str, country: str) -> None:
    assert country in {actor.id for actor in tagger.tag(article_with(text)).actors}


def test_names_that_are_also_english_words_or_too_short_are_left_out() -> None:
    colombia, vietnam_names, russia = cldr_names("CO"), cldr_names("VN"), cldr_names("RU")
    assert "Columbia" not in colombia
    assert "Kolumbien" in colombia
    assert "Nga" not in russia
    assert "Россия" in russia
    assert "Việt Nam" in vietnam_names


def test_a_cldr_name_never_takes_another_entitys_name() -> None:
    from streams.core.registry import parse_registries
    from streams.registry import DATA_DIR

    plain = parse_registries([(p.name, p.read_text(encoding="utf-8")) for p in sorted(DATA_DIR.glob("*.yaml"))])
    loaded = load_registries()
    added = 0
    for actor in loaded.actors:
        before = plain.actors.get(actor.id)
        assert before is not None
        for name in set(actor.aliases) - set(before.aliases):
            added += 1
            assert [a.id for a in loaded.actors.lookup(name)] == [actor.id], name
            assert [a.id for a in plain.actors.lookup(name)] in ([], [actor.id]), name
    assert added > 1000


@pytest.mark.parametrize(
    ("name", "expected"),
    [("إيران", {"وإيران", "بإيران", "لإيران", "وبإيران"}), ("الصين", {"والصين", "بالصين", "للصين", "وللصين"})],
)
def test_arabic_joined_words(name: str, expected: set[str]) -> None:
    assert expected <= set(arabic_name_forms(name))


@pytest.mark.parametrize(
    ("text", "country"),
    [("وصل الوفد إلى بغداد قادما من طهران وبروسيا.", "Q159"), ("وجهت الدعوة للصين لإجراء مفاوضات.", "Q148")],
)
def test_arabic_names_with_joined_words_are_tagged(tagger: Tagger, text: str, country: str) -> None:
    assert country in {actor.id for actor in tagger.tag(article_with(text)).actors}

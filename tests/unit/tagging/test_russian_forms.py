"""Russian case forms of registry names (``streams.infra.inflection``): real Russian copy declines names."""

from __future__ import annotations

import pytest

from streams.core.tagger import Tagger
from streams.infra.inflection import russian_name_forms
from streams.infra.registry_files import shipped_tagger
from tests.support.tagging import article_with


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return shipped_tagger()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Владимир Путин", {"Владимира Путина", "Владимиру Путину", "Владимиром Путиным", "Владимире Путине"}),
        # East Asian names: only the last part declines; an unknown short syllable declines like a man's name.
        ("Ким Чен Ын", {"Ким Чен Ына", "Ким Чен Ыну", "Ким Чен Ыном", "Ким Чен Ыне"}),
        # Adjective and noun agree; a woman's surname takes the feminine endings.
        ("Северная Корея", {"Северной Кореи", "Северную Корею", "Северной Корее"}),
        ("Мария Захарова", {"Марии Захаровой", "Марию Захарову"}),
        # Only the head of a phrase with a genitive complement declines.
        ("государственное телевидение", {"государственного телевидения", "государственным телевидением"}),
    ],
)
def test_oblique_cases_of_a_name(name: str, expected: set[str]) -> None:
    assert expected <= set(russian_name_forms(name))


@pytest.mark.parametrize("name", ["ТАСС", "Vladimir Putin", "习近平", "Лукашенко"])
def test_acronyms_other_scripts_and_indeclinable_names_have_no_other_forms(name: str) -> None:
    assert russian_name_forms(name) == ()


@pytest.mark.parametrize(
    ("text", "actor_ids"),
    [
        ("Президент России провел переговоры с Ким Чен Ыном в Пхеньяне.", {"Q56226", "Q159"}),
        ("Официальный представитель МИД Марии Захаровой не ответили.", {"ww:person:maria-zakharova"}),
        ("Делегация Северной Кореи прибыла к Владимиру Путину в Кремль.", {"Q423", "Q7747"}),
        ("Санкции против Ирана обсудили с Си Цзиньпином.", {"Q794", "ww:person:xi-jinping"}),
    ],
)
def test_declined_names_are_tagged_in_russian_copy(tagger: Tagger, text: str, actor_ids: set[str]) -> None:
    found = {actor.id for actor in tagger.tag(article_with(text)).actors}
    assert actor_ids <= found


def test_unnamed_state_television_in_the_genitive_is_a_source(tagger: Tagger) -> None:
    tagged = tagger.tag(
        article_with("Как сообщает агентство, по данным государственного телевидения Ирана, ракета упала.")
    )
    assert tagged.state_media.state_sourced
    assert "ir_state_media" in {citation.id for citation in tagged.state_media.cited}

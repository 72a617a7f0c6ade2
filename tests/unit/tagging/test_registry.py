"""Registry loading: shapes, cross-file rules, precise positions, look-ups; and the shipped files."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.core.registry import RegistryError
from streams.infra.registry_files import load_registries
from streams.registry import DATA_DIR

HEADER = 'schema: 1\nversion: "2026.11.27"\n'
ACTORS = (
    HEADER
    + """as_of: 2026-11-27
actors:
  - id: Q7747
    name: Vladimir Putin
    type: person
    country: RU
    aliases: [Vladimir Putin, "Putin, Vladimir V", Wladimir Putin]
  - id: Q159
    name: Russia
    type: country
    country: RU
    aliases: [Russia]
    state_media: ru_state_media
"""
)
OUTLETS = (
    HEADER
    + """outlets:
  - {id: tass, name: TASS, type: outlet, country: RU, category: state_controlled, state: true,
     aliases: [TASS], domains: [tass.com]}
  - {id: ru_state_media, name: Russian state media, type: outlet, country: RU, category: state_controlled, state: true}
"""
)


def write(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def problems_of(tmp_path: Path, **files: str) -> list[str]:
    with pytest.raises(RegistryError) as caught:
        load_registries(write(tmp_path, **files))
    return [str(problem) for problem in caught.value.problems]


def test_valid_files_load_with_counts_and_versions(tmp_path: Path) -> None:
    registries = load_registries(write(tmp_path, **{"actors-a": ACTORS, "outlets": OUTLETS}))
    assert registries.counts()["entities"] == 2
    assert registries.versions == {"actors-a.yaml": "2026.11.27", "outlets.yaml": "2026.11.27"}
    assert registries.outlets.state_media_of("RU").id == "ru_state_media"  # type: ignore[union-attr]
    assert registries.outlets.by_host("www.tass.com").id == "tass"  # type: ignore[union-attr]
    assert registries.outlets.by_host("notass.com") is None


def test_lookup_reads_index_forms_and_suggests_close_names(tmp_path: Path) -> None:
    actors = load_registries(write(tmp_path, **{"actors-a": ACTORS, "outlets": OUTLETS})).actors
    assert [a.id for a in actors.lookup("Putin, Vladimir V")] == ["Q7747"]
    assert [a.id for a in actors.lookup("putin,  VLADIMIR")] == ["Q7747"]
    assert [a.id for a in actors.lookup("Q159")] == ["Q159"]
    assert actors.lookup("Vladimir Poutine") == []
    assert actors.suggest("Vladimir Poutin")[0].id == "Q7747"


def test_unknown_key_is_reported_with_file_line_and_field(tmp_path: Path) -> None:
    broken = ACTORS.replace(
        "    country: RU\n    aliases: [Russia]", "    country: RU\n    nickname: Rus\n    aliases: [Russia]"
    )
    problems = problems_of(tmp_path, **{"actors-a": broken, "outlets": OUTLETS})
    assert problems == ["actors-a.yaml:14:5: actors[1] (Q159).nickname: unknown key"]


def test_bad_values_are_all_reported(tmp_path: Path) -> None:
    broken = ACTORS.replace("id: Q7747", "id: putin").replace(
        "country: RU\n    aliases: [Vladimir", "country: Russia\n    aliases: [Vladimir"
    )
    problems = problems_of(tmp_path, **{"actors-a": broken, "outlets": OUTLETS})
    assert any(p.startswith("actors-a.yaml:5:5: actors[0] (putin).id: 'putin' is not valid here") for p in problems)
    assert any(p.startswith("actors-a.yaml:8:5: actors[0] (putin).country: 'Russia' is not valid") for p in problems)


def test_rules_across_entries_and_files(tmp_path: Path) -> None:
    outlets = OUTLETS.replace("category: state_controlled, state: true,\n", "category: private_wire, state: true,\n")
    outlets += "  - {id: tass, name: Tass copy, type: outlet, country: RU, category: private, state: false}\n"
    outlets += "  - {id: tass_copy, name: Copy, type: outlet, country: RU, category: private, state: false,\n"
    outlets += "     domains: [tass.com]}\n"
    actors = ACTORS.replace("state_media: ru_state_media", "state_media: ru_media\n    titles: [President]")
    problems = problems_of(tmp_path, **{"actors-a": actors, "outlets": outlets})
    assert "outlets.yaml:7:6: outlets[2] (tass).id: duplicate id 'tass' (first in outlets.yaml, outlets[0])" in problems
    assert "outlets.yaml:4:79: outlets[0] (tass).state: category private_wire is not state media" in problems
    assert (
        "outlets.yaml:9:16: outlets[3] (tass_copy).domains[0]: domain 'tass.com' already belongs to 'tass'" in problems
    )
    assert "actors-a.yaml:15:5: actors[1] (Q159).state_media: unknown outlet id 'ru_media'" in problems
    assert "actors-a.yaml:16:5: actors[1] (Q159).titles: only people have titles" in problems


def test_yaml_syntax_errors_have_a_position(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, **{"actors-a": ACTORS + "  - id: [unclosed\n"})
    assert problems[0].startswith("actors-a.yaml:17:")
    assert "not valid YAML" in problems[0]


def test_a_file_must_say_what_it_holds(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, **{"misc": HEADER + "people: []\n"})
    assert problems == ["misc.yaml:1:1: expected a mapping with exactly one of 'actors:' or 'outlets:' or 'topics:'"]


def test_shipped_registries_meet_the_issue_minimums() -> None:
    registries = load_registries()
    counts = registries.counts()
    named = [o for o in registries.outlets if not o.is_generic]
    assert counts["entities"] >= 400
    assert counts["topics"] >= 20
    assert len(named) >= 80
    assert registries.outlets.get("yonhap").state is False  # type: ignore[union-attr]
    assert registries.outlets.get("kcna").state is True  # type: ignore[union-attr]
    for country in ("KP", "CN", "RU", "IR", "SY"):
        assert registries.outlets.state_media_of(country) is not None
    assert sorted(p.name for p in DATA_DIR.glob("*.yaml")) == sorted(registries.versions)


def test_wikidata_items_are_unique_and_a_qid_id_is_its_own(tmp_path: Path) -> None:
    actors = ACTORS.replace("    aliases: [Russia]\n", '    aliases: [Russia]\n    wikidata: "Q7747"\n')
    outlets = OUTLETS.replace("domains: [tass.com]}", 'domains: [tass.com], wikidata: "Q159"}')
    problems = problems_of(tmp_path, **{"actors-a": actors, "outlets": outlets})
    assert any("actors[1] (Q159).wikidata: the id 'Q159' is already its Wikidata item" in p for p in problems)
    assert any("outlets[0] (tass).wikidata: Wikidata item 'Q159' already belongs to 'Q159'" in p for p in problems)


def test_a_slug_entry_carries_its_verified_wikidata_item(tmp_path: Path) -> None:
    outlets = OUTLETS.replace("domains: [tass.com]}", 'domains: [tass.com], wikidata: "Q212140"}')
    actors = ACTORS.replace("id: Q7747", 'id: "ww:person:vladimir-putin"\n    wikidata: "Q7747"')
    registries = load_registries(write(tmp_path, **{"actors-a": actors, "outlets": outlets}))
    assert registries.actors.get("ww:person:vladimir-putin").wikidata_id == "Q7747"  # type: ignore[union-attr]
    assert registries.actors.get("Q159").wikidata_id == "Q159"  # type: ignore[union-attr]
    assert registries.outlets.get("tass").wikidata == "Q212140"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("host", "outlet_id"),
    [
        ("xinhua.telesurtv.net", "xinhua"),  # Xinhua's Spanish service on teleSUR's servers
        ("sputnik.telesurtv.net", "sputnik"),
        ("www.telesurtv.net", "telesur"),
        ("english.news.cn", "xinhua"),
    ],
)
def test_a_subdomain_named_after_another_outlet_is_that_outlets_service(host: str, outlet_id: str) -> None:
    outlet = load_registries().outlets.by_host(host)
    assert outlet is not None
    assert outlet.id == outlet_id

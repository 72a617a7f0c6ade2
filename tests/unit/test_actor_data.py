"""Format and coverage checks for the actor registry data files (streams/registry/data/actors-*.yaml).

These run on the data alone, with PyYAML and pycountry, so that a bad edit to the data is caught even when
the tagging engine's loader is not involved. docs/registry.md describes the rules checked here.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pycountry
import pytest
import yaml

DATA_DIR = Path(__file__).resolve().parents[2] / "streams" / "registry" / "data"
ACTOR_FILES = {
    "actors-countries.yaml": "country",
    "actors-organizations.yaml": "organization",
    "actors-people.yaml": "person",
}
TOP_LEVEL_KEYS = {"schema", "version", "as_of", "actors"}
REQUIRED_KEYS = {"id", "name", "type", "country", "aliases"}
OPTIONAL_FOR_ALL = {"not_names", "wikidata"}
KEYS_BY_TYPE = {
    "country": REQUIRED_KEYS | OPTIONAL_FOR_ALL | {"short", "demonyms", "metonyms", "state_media"},
    "organization": REQUIRED_KEYS | OPTIONAL_FOR_ALL | {"short", "members"},
    "person": REQUIRED_KEYS | OPTIONAL_FOR_ALL | {"short", "titles", "roles"},
}
ROLE_KEYS = {"office", "descriptors", "start", "end"}
ID_PATTERN = re.compile(r"^(Q[1-9][0-9]*|ww:(person|organization|country):[a-z0-9]+(-[a-z0-9]+)*)$")
VERSION_PATTERN = re.compile(r"^[0-9]{4}\.[0-9]{2}\.[0-9]{2}(\.[0-9]+)?$")
# Kosovo has no ISO 3166-1 code; XK is the user-assigned code used by the EU and most data providers.
USER_ASSIGNED_CODES = {"XK"}
# The 193 UN member states (ISO 3166-1 alpha-2).
UN_MEMBERS = set(
    """AF AL DZ AD AO AG AR AM AU AT AZ BS BH BD BB BY BE BZ BJ BT BO BA BW BR BN BG BF BI CV KH CM CA CF TD CL CN
    CO KM CG CD CR CI HR CU CY CZ DK DJ DM DO EC EG SV GQ ER EE SZ ET FJ FI FR GA GM GE DE GH GR GD GT GN GW GY HT
    HN HU IS IN ID IR IQ IE IL IT JM JP JO KZ KE KI KW KG LA LV LB LS LR LY LI LT LU MG MW MY MV ML MT MH MR MU MX
    FM MD MC MN ME MA MZ MM NA NR NP NL NZ NI NE NG KP MK NO OM PK PW PA PG PY PE PH PL PT QA KR RO RU RW KN LC VC
    WS SM ST SA SN RS SC SL SG SK SI SB SO ZA SS ES LK SD SR SE CH SY TJ TZ TH TL TG TO TT TN TR TM TV UG UA AE GB
    US UY UZ VU VE VN YE ZM ZW""".split()
)
# The UN observer states (Holy See, Palestine) and the other polities the desks cover.
REQUIRED_OTHER_COUNTRIES = {"VA", "PS", "TW", "XK", "EH"}
MINIMUM_ENTITIES = 400


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate mapping keys (plain PyYAML keeps the last one silently)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if key in mapping:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def normalise(text: str) -> str:
    """The matching key of a surface form: NFKD without marks, casefolded, every separator one space.

    As strict as the tagger's folding (streams/core/text.py): "OPEC+" and "OPEC", or "U.S." and "U S", are one form.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in stripped).split())


def load(name: str) -> dict[str, Any]:
    with (DATA_DIR / name).open(encoding="utf-8") as stream:
        document = yaml.load(stream, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    assert isinstance(document, dict), f"{name}: top level must be a mapping"
    return document


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    return {name: load(name) for name in ACTOR_FILES}


def all_actors(documents: dict[str, dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, document in documents.items():
        for actor in document["actors"]:
            yield name, actor


def full_forms(actor: dict[str, Any]) -> list[str]:
    """Forms matched without context: aliases, and a country's demonyms and metonyms."""
    return [*actor["aliases"], *actor.get("demonyms", []), *actor.get("metonyms", [])]


def is_country_code(code: str) -> bool:
    return code in USER_ASSIGNED_CODES or pycountry.countries.get(alpha_2=code) is not None


@pytest.mark.parametrize("name", sorted(ACTOR_FILES))
def test_file_header(name: str) -> None:
    document = load(name)
    assert set(document) == TOP_LEVEL_KEYS, f"{name}: top-level keys {sorted(document)}"
    assert document["schema"] == 1
    assert isinstance(document["version"], str), f"{name}: version must be a quoted string"
    assert VERSION_PATTERN.match(document["version"]), f"{name}: version {document['version']!r}"
    assert isinstance(document["as_of"], dt.date)
    assert isinstance(document["actors"], list)
    assert document["actors"], f"{name}: no actors"


def test_actor_keys_types_and_ids(documents: dict[str, dict[str, Any]]) -> None:
    problems = []
    for name, actor in all_actors(documents):
        label = f"{name}: {actor.get('id')!r}"
        expected_type = ACTOR_FILES[name]
        if missing := REQUIRED_KEYS - set(actor):
            problems.append(f"{label}: missing {sorted(missing)}")
        if actor.get("type") != expected_type:
            problems.append(f"{label}: type {actor.get('type')!r}, expected {expected_type!r}")
        if unknown := set(actor) - KEYS_BY_TYPE.get(expected_type, set()):
            problems.append(f"{label}: unknown keys {sorted(unknown)}")
        actor_id = actor.get("id")
        if not isinstance(actor_id, str) or not ID_PATTERN.match(actor_id):
            problems.append(f"{label}: id is neither a QID nor a ww: slug")
        elif actor_id.startswith("ww:") and actor_id.split(":")[1] != expected_type:
            problems.append(f"{label}: slug type does not match {expected_type!r}")
        if not isinstance(actor.get("name"), str) or not actor["name"].strip():
            problems.append(f"{label}: empty name")
        for key in ("aliases", "short", "titles", "demonyms", "metonyms", "members", "not_names"):
            values = actor.get(key, [])
            if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() == v and v for v in values):
                problems.append(f"{label}: {key} must be a list of trimmed, non-empty strings")
    assert not problems, "\n".join(problems)


def test_ids_are_unique_across_files(documents: dict[str, dict[str, Any]]) -> None:
    seen: dict[str, str] = {}
    duplicates = []
    for name, actor in all_actors(documents):
        if actor["id"] in seen:
            duplicates.append(f"{actor['id']} in {seen[actor['id']]} and {name}")
        seen[actor["id"]] = name
    assert not duplicates, "\n".join(duplicates)


def test_country_codes_are_iso_3166(documents: dict[str, dict[str, Any]]) -> None:
    problems = []
    for name, actor in all_actors(documents):
        code = actor["country"]
        if code is None:
            if actor["type"] != "organization":
                problems.append(f"{name}: {actor['id']} needs a country (null is for international organisations)")
        elif not isinstance(code, str) or not is_country_code(code):
            problems.append(f"{name}: {actor['id']} has country {code!r}, not an ISO 3166-1 alpha-2 code")
    assert not problems, "\n".join(problems)


def test_name_is_one_of_its_forms(documents: dict[str, dict[str, Any]]) -> None:
    problems = [
        f"{name}: {actor['id']} name {actor['name']!r} is neither an alias nor a short form"
        for name, actor in all_actors(documents)
        if normalise(actor["name"]) not in {normalise(form) for form in actor["aliases"] + actor.get("short", [])}
    ]
    assert not problems, "\n".join(problems)


def test_no_form_is_listed_twice_in_one_actor(documents: dict[str, dict[str, Any]]) -> None:
    problems = []
    for name, actor in all_actors(documents):
        forms = [normalise(form) for form in full_forms(actor) + actor.get("short", [])]
        if repeated := sorted({form for form in forms if forms.count(form) > 1}):
            problems.append(f"{name}: {actor['id']} repeats {repeated}")
    assert not problems, "\n".join(problems)


def test_no_alias_is_shared_by_two_actors(documents: dict[str, dict[str, Any]]) -> None:
    """A form matched without context must point to one actor; shared forms belong in `short`."""
    owners: defaultdict[str, set[str]] = defaultdict(set)
    short_forms: defaultdict[str, set[str]] = defaultdict(set)
    for _, actor in all_actors(documents):
        for form in full_forms(actor):
            owners[normalise(form)].add(actor["id"])
        for form in actor.get("short", []):
            short_forms[normalise(form)].add(actor["id"])
    shared = {form: ids for form, ids in owners.items() if len(ids) > 1}
    assert not shared, f"full forms shared by several actors: {shared}"
    unsafe_elsewhere = {form: (owners[form], ids) for form, ids in short_forms.items() if form in owners}
    assert not unsafe_elsewhere, f"short forms that are another actor's full form: {unsafe_elsewhere}"


def test_country_entries(documents: dict[str, dict[str, Any]]) -> None:
    countries = documents["actors-countries.yaml"]["actors"]
    codes = [actor["country"] for actor in countries]
    assert len(codes) == len(set(codes)), "a country code is used by two country actors"
    problems = []
    for actor in countries:
        state_media = actor.get("state_media")
        if state_media is not None and state_media != f"{actor['country'].lower()}_state_media":
            problems.append(f"{actor['id']}: state_media {state_media!r} is not <cc>_state_media")
    assert not problems, "\n".join(problems)


def test_every_un_member_and_required_polity_is_present(documents: dict[str, dict[str, Any]]) -> None:
    assert len(UN_MEMBERS) == 193
    codes = {actor["country"] for actor in documents["actors-countries.yaml"]["actors"]}
    missing = (UN_MEMBERS | REQUIRED_OTHER_COUNTRIES) - codes
    assert not missing, f"missing countries: {sorted(missing)}"


def test_members_are_country_actors(documents: dict[str, dict[str, Any]]) -> None:
    country_ids = {actor["id"] for actor in documents["actors-countries.yaml"]["actors"]}
    problems = [
        f"{actor['id']}: member {member!r} is not a country actor id"
        for actor in documents["actors-organizations.yaml"]["actors"]
        for member in actor.get("members", [])
        if member not in country_ids
    ]
    assert not problems, "\n".join(problems)


def test_roles_are_dated_consistently(documents: dict[str, dict[str, Any]]) -> None:
    people = documents["actors-people.yaml"]
    as_of = people["as_of"]
    problems = []
    for actor in people["actors"]:
        for role in actor.get("roles", []):
            label = f"{actor['id']} / {role.get('office')!r}"
            if set(role) != ROLE_KEYS:
                problems.append(f"{label}: role keys {sorted(role)}, expected {sorted(ROLE_KEYS)}")
                continue
            start, end = role["start"], role["end"]
            if not isinstance(start, dt.date) or start > as_of:
                problems.append(f"{label}: start {start!r} is not a date on or before {as_of}")
            elif end is not None and (not isinstance(end, dt.date) or not start <= end <= as_of):
                problems.append(f"{label}: end {end!r} must be a date between start and {as_of}")
            if not isinstance(role["office"], str) or not role["office"]:
                problems.append(f"{label}: empty office")
            if not isinstance(role["descriptors"], list) or not all(isinstance(d, str) for d in role["descriptors"]):
                problems.append(f"{label}: descriptors must be a list of strings")
    assert not problems, "\n".join(problems)


def test_registry_size(documents: dict[str, dict[str, Any]]) -> None:
    total = sum(len(document["actors"]) for document in documents.values())
    assert total >= MINIMUM_ENTITIES, f"{total} entities, expected at least {MINIMUM_ENTITIES}"

"""Versioned registries of actors, outlets and topics: loaded from YAML, validated with precise positions.

A registry directory holds YAML files; each file's list key says what it holds (``actors:``, ``outlets:`` or
``topics:``) and every file starts with ``schema: 1`` and ``version: "YYYY.MM.DD[.N]"``. The shipped files live
in ``streams/registry/data/`` (``actors-*.yaml``, ``outlets.yaml``, ``topics.yaml``); README.md, section
"Tagging", says how to add entries. Shapes are checked by pydantic models that forbid unknown keys; rules that
span entries (unique ids, references between files) are checked here. Every problem is reported as
``file:line:column: path: message`` and all of them are raised together in one ``RegistryError``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from rapidfuzz import fuzz, process

from streams.core.errors import ConfigError
from streams.core.models import Outlet
from streams.core.text import fold, lookup_key

SCHEMA = 1
ActorKind = Literal["person", "organization", "country"]
OutletCategory = Literal[
    "state_controlled",  # owned, funded and editorially controlled by the state or ruling party
    "state_affiliated",  # formally separate, run by state organs (IRGC, party committee, ministry)
    "captured_public",  # public broadcaster whose governance has been captured by the government
    "captured_private",  # privately owned, state-aligned through ownership or funding
    "state_funded_international",  # government-funded international broadcaster with a statutory firewall
    "public_service",  # independent public-service media
    "public_interest_agency",  # national agency with a state share but statutory editorial independence
    "private_wire",  # commercial or cooperative wire agency
    "private",  # privately owned newspaper, broadcaster or website
    "private_mirror",  # private site republishing state-media text (the content is state media)
    "pro_state_aggregator",  # network republishing state-media content without ownership disclosure
]
STATE_CATEGORIES = frozenset({"state_controlled", "state_affiliated"})
"""Categories that are state media by definition (``state: true`` required)."""
INDEPENDENT_CATEGORIES = frozenset({"public_service", "public_interest_agency", "private_wire", "private"})
"""Categories that are never state media (``state: false`` required); the others are a documented choice."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
ActorId = Annotated[
    str, StringConstraints(pattern=r"^(Q[1-9][0-9]*|ww:(person|organization|country):[a-z0-9]+(-[a-z0-9]+)*)$")
]
OutletId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")]
WikidataId = Annotated[str, StringConstraints(pattern=r"^Q[1-9][0-9]*$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Version = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}\.[0-9]{2}\.[0-9]{2}(\.[0-9]+)?$")]
Domain = Annotated[str, StringConstraints(pattern=r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")]
TopicId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")]
Weight = Annotated[float, Field(gt=0, le=100)]


# --------------------------------------------------------------------------- domain values
@dataclass(frozen=True, slots=True)
class Office:
    """An office held between two dates, with the descriptors that name its holder ("the Russian president")."""

    office: str
    descriptors: tuple[str, ...]
    start: date | None
    end: date | None

    def is_held_on(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class Actor:
    id: str
    name: str
    type: ActorKind
    country: str | None
    aliases: tuple[str, ...] = ()
    short: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()
    roles: tuple[Office, ...] = ()
    demonyms: tuple[str, ...] = ()
    metonyms: tuple[str, ...] = ()
    state_media: str | None = None
    members: tuple[str, ...] = ()
    not_names: tuple[str, ...] = ()
    """Longer names containing this actor's names that mean something else ("New Mexico" for Mexico)."""
    wikidata: str | None = None

    @property
    def wikidata_id(self) -> str | None:
        """The verified Wikidata item: the id itself when it is a QID, else the ``wikidata`` field."""
        return self.id if self.id.startswith("Q") else self.wikidata


@dataclass(frozen=True, slots=True)
class OutletEntry:
    id: str
    name: str
    country: str | None
    category: OutletCategory
    state: bool
    """Treat as state media: a publisher or content citation of it makes an article ``state_sourced``."""
    aliases: tuple[str, ...] = ()
    short: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    cues: tuple[str, ...] = ()
    """Words one of which must be near a ``short`` form, replacing the generic outlet cues (e.g. "Russian")."""
    notes: str | None = None
    wikidata: str | None = None

    @property
    def is_generic(self) -> bool:
        """The "<cc>_state_media" entry that stands for unnamed references ("Chinese state media")."""
        return self.id.endswith("_state_media")

    def to_outlet(self) -> Outlet:
        return Outlet(id=self.id, name=self.name, country=self.country, category=self.category)


@dataclass(frozen=True, slots=True)
class TopicRule:
    """A topic is present when the weights of its distinct phrases found reach ``threshold``."""

    id: str
    label: str
    threshold: float
    phrases: tuple[tuple[str, float], ...]
    require_any: tuple[str, ...] = ()
    """At least one of these phrases must be found as well (empty: no requirement)."""
    exclude: tuple[str, ...] = ()
    """Any of these phrases vetoes the topic ("sanctioned by the referee")."""


# --------------------------------------------------------------------------- errors
@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class RegistryError(ConfigError):
    """One or more registry files are invalid; ``problems`` lists each with file, position and field."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"invalid registry: {self.problems[0]}{more}")


# --------------------------------------------------------------------------- file shapes
class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Header(_Shape):
    schema_: Literal[1] = Field(alias="schema")
    version: Version


class _OfficeShape(_Shape):
    office: Text
    descriptors: list[Text] = []
    start: date | None = None
    end: date | None = None


class _ActorShape(_Shape):
    id: ActorId
    name: Text
    type: ActorKind
    country: CountryCode | None
    aliases: list[Text] = []
    short: list[Text] = []
    titles: list[Text] = []
    roles: list[_OfficeShape] = []
    demonyms: list[Text] = []
    metonyms: list[Text] = []
    state_media: OutletId | None = None
    members: list[ActorId] = []
    not_names: list[Text] = []
    wikidata: WikidataId | None = None
    """The verified Wikidata item of an entry whose id is a ``ww:`` slug (an id that is a QID is its own)."""


class _ActorsFile(_Header):
    as_of: date
    actors: list[_ActorShape]


class _OutletShape(_Shape):
    id: OutletId
    name: Text
    type: Literal["outlet"]
    country: CountryCode | None
    category: OutletCategory
    state: bool
    aliases: list[Text] = []
    short: list[Text] = []
    domains: list[Domain] = []
    cues: list[Text] = []
    notes: Text | None = None
    wikidata: WikidataId | None = None
    """The verified Wikidata item of the outlet."""


class _OutletsFile(_Header):
    outlets: list[_OutletShape]


class _TopicShape(_Shape):
    id: TopicId
    label: Text
    threshold: Weight = 2.0
    phrases: dict[Text, Weight]
    require_any: list[Text] = []
    exclude: list[Text] = []


class _TopicsFile(_Header):
    topics: list[_TopicShape]


_FILE_SHAPES: dict[str, type[_Header]] = {"actors": _ActorsFile, "outlets": _OutletsFile, "topics": _TopicsFile}


# --------------------------------------------------------------------------- indexes
class ActorIndex:
    """Actors by id and by name; names are matched exactly after ``lookup_key`` (case, accents, separators)."""

    def __init__(self, actors: Iterable[Actor]) -> None:
        self._by_id: dict[str, Actor] = {}
        by_key: dict[str, list[Actor]] = defaultdict(list)
        for actor in actors:
            self._by_id[actor.id] = actor
            for name in (actor.id, actor.name, *actor.aliases, *actor.short):
                key = lookup_key(name)
                if actor not in by_key[key]:
                    by_key[key].append(actor)
        self._by_key = {key: tuple(found) for key, found in by_key.items()}
        self._keys = tuple(self._by_key)

    def __iter__(self) -> Iterator[Actor]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, actor_id: str) -> Actor | None:
        return self._by_id.get(actor_id)

    def lookup(self, text: str) -> list[Actor]:
        """Actors whose id, name or alias is ``text``; index forms ("Putin, Vladimir V") are reordered."""
        for candidate in (text, *_index_form_readings(text)):
            found = self._by_key.get(lookup_key(candidate))
            if found:
                return list(found)
        return []

    def suggest(self, text: str, limit: int = 5) -> list[Actor]:
        """Actors with names close to ``text`` (for "unknown name" errors), best first."""
        suggestions: list[Actor] = []
        matches = process.extract(lookup_key(text), self._keys, scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=60)
        for key, _score, _index in matches:
            for actor in self._by_key[key]:
                if actor not in suggestions:
                    suggestions.append(actor)
        return suggestions[:limit]


def _index_form_readings(text: str) -> list[str]:
    """ "Surname, Given [M]" → "Given [M] Surname" and "Given Surname" (NYT and library catalogue order)."""
    surname, comma, given = text.partition(",")
    if not comma or "," in given or not given.strip():
        return []
    readings = [f"{given.strip()} {surname.strip()}"]
    initials_dropped = [word for word in given.split() if len(word.rstrip(".")) > 1]
    if initials_dropped and len(initials_dropped) < len(given.split()):
        readings.append(" ".join([*initials_dropped, surname.strip()]))
    return readings


class OutletIndex:
    """Outlets by id, by publishing domain, and the generic state-media entry of each country."""

    def __init__(self, outlets: Iterable[OutletEntry], state_media_of: Mapping[str, str]) -> None:
        self._by_id = {outlet.id: outlet for outlet in outlets}
        self._by_domain = {domain: outlet for outlet in self._by_id.values() for domain in outlet.domains}
        self._by_one_word_name = {
            name.lower(): outlet
            for outlet in self._by_id.values()
            for name in (outlet.name, *outlet.aliases, *outlet.short)
            if len(name) >= 4 and name.isascii() and name.isalnum()
        }
        self._state_media_of = dict(state_media_of)

    def __iter__(self) -> Iterator[OutletEntry]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, outlet_id: str) -> OutletEntry | None:
        return self._by_id.get(outlet_id)

    def by_host(self, host: str) -> OutletEntry | None:
        """The outlet publishing at ``host`` or a parent domain of it (``english.news.cn`` → Xinhua); a subdomain
        named after another outlet is that outlet's service hosted there (``xinhua.telesurtv.net`` → Xinhua)."""
        labels = host.lower().rstrip(".").split(".")
        for cut in range(len(labels) - 1):
            outlet = self._by_domain.get(".".join(labels[cut:]))
            if outlet is not None:
                hosted = self._by_one_word_name.get(labels[0]) if cut > 0 else None
                return hosted if hosted is not None and not hosted.is_generic else outlet
        return None

    def state_media_of(self, country: str) -> OutletEntry | None:
        """The entry standing for "<country>'s state media" (the country's ``state_media`` or ``<cc>_state_media``)."""
        outlet_id = self._state_media_of.get(country)
        return self._by_id.get(outlet_id) if outlet_id else None


@dataclass(frozen=True)
class Registries:
    actors: ActorIndex
    outlets: OutletIndex
    topics: tuple[TopicRule, ...]
    versions: Mapping[str, str] = field(default_factory=dict)
    """Version of every loaded file, by file name."""
    warnings: tuple[str, ...] = ()
    """Legal but doubtful entries (an alias shared by several entities): printed by ``wirewatch registry check``."""

    def counts(self) -> dict[str, int]:
        by_type: dict[str, int] = defaultdict(int)
        for actor in self.actors:
            by_type[actor.type] += 1
        aliases = sum(len({*a.aliases, *a.short}) for a in self.actors)
        aliases += sum(len({*o.aliases, *o.short}) for o in self.outlets)
        return {
            "entities": len(self.actors),
            "people": by_type["person"],
            "organizations": by_type["organization"],
            "countries": by_type["country"],
            "aliases": aliases,
            "outlets": len(self.outlets),
            "topics": len(self.topics),
        }


# --------------------------------------------------------------------------- parsing
def parse_registries(sources: Iterable[tuple[str, str]]) -> Registries:
    """Validate and assemble registry files given as (file name, text); reading them is the caller's
    (``streams.infra.registry_files``), so the core never touches a file."""
    loaded = [_parse_file(name, text) for name, text in sources]
    if not loaded:
        raise ConfigError("no registry files (*.yaml) to load")
    problems = [problem for result in loaded for problem in result.problems]
    if problems:
        raise RegistryError(problems)
    return _assemble(loaded)


@dataclass
class _LoadedFile:
    name: str
    kind: str = ""
    shape: _Header | None = None
    root: yaml.Node | None = None
    problems: list[Problem] = field(default_factory=list)

    def problem(self, where: Sequence[str | int], message: str) -> Problem:
        line, column = _position(self.root, where)
        return Problem(self.name, line, column, _dotted(where, self.root), message)


def _parse_file(name: str, text: str) -> _LoadedFile:
    result = _LoadedFile(name)
    loader = yaml.CSafeLoader(text) if yaml.__with_libyaml__ else yaml.SafeLoader(text)
    try:
        result.root = loader.get_single_node()
        data = loader.construct_document(result.root) if result.root is not None else None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        result.problems.append(Problem(name, line, column, "", f"not valid YAML: {err.problem or err}"))
        return result
    finally:
        loader.dispose()
    kinds = [kind for kind in _FILE_SHAPES if isinstance(data, dict) and kind in data]
    if len(kinds) != 1:
        expected = " or ".join(f"'{k}:'" for k in _FILE_SHAPES)
        result.problems.append(Problem(name, 1, 1, "", f"expected a mapping with exactly one of {expected}"))
        return result
    result.kind = kinds[0]
    try:
        result.shape = _FILE_SHAPES[result.kind].model_validate(data)
    except ValidationError as err:
        for error in err.errors():
            where = [part for part in error["loc"] if isinstance(part, str | int)]
            result.problems.append(result.problem(where, _message(error)))
    return result


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key missing"
    if error["type"] == "string_pattern_mismatch":
        return f"{error['input']!r} is not valid here (expected {error['ctx']['pattern']})"
    return str(error["msg"])


def _child(node: yaml.Node | None, part: str | int) -> tuple[yaml.Node | None, yaml.Node | None]:
    """The value node under ``part`` (and, for a mapping, its key node)."""
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if key.value == part:
                return value, key
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part], None
    return None, None


def _position(root: yaml.Node | None, where: Sequence[str | int]) -> tuple[int, int]:
    """Line and column (1-based) of the deepest node on ``where`` that exists (a missing key: its mapping)."""
    node, marked = root, root
    for part in where:
        value, key = _child(node, part)
        if value is None:
            break
        node, marked = value, key or value
    if marked is None:
        return 1, 1
    return marked.start_mark.line + 1, marked.start_mark.column + 1


def _dotted(where: Sequence[str | int], root: yaml.Node | None) -> str:
    """``actors[3] (Q7747).aliases[2]``: the path, with the id of the entry for people reading it."""
    text = ""
    node = root
    for part in where:
        node, _ = _child(node, part)
        if isinstance(part, int):
            text += f"[{part}]"
            entry_id, _ = _child(node, "id")
            if isinstance(entry_id, yaml.ScalarNode):
                text += f" ({entry_id.value})"
        else:
            text += f".{part}" if text else part
    return text


def _assemble(loaded: list[_LoadedFile]) -> Registries:
    actors: list[tuple[_LoadedFile, int, Actor]] = []
    outlets: list[tuple[_LoadedFile, int, OutletEntry]] = []
    topics: list[tuple[_LoadedFile, int, TopicRule]] = []
    for result in loaded:
        if isinstance(result.shape, _ActorsFile):
            actors.extend((result, i, _actor(shape)) for i, shape in enumerate(result.shape.actors))
        elif isinstance(result.shape, _OutletsFile):
            outlets.extend((result, i, _outlet(shape)) for i, shape in enumerate(result.shape.outlets))
        elif isinstance(result.shape, _TopicsFile):
            topics.extend((result, i, _topic(shape)) for i, shape in enumerate(result.shape.topics))
    problems = _check(actors, outlets, topics)
    if problems:
        raise RegistryError(problems)
    state_media_of = {o.country: o.id for _, _, o in outlets if o.is_generic and o.country}
    state_media_of.update({a.country: a.state_media for _, _, a in actors if a.state_media and a.country})
    return Registries(
        actors=ActorIndex(a for _, _, a in actors),
        outlets=OutletIndex((o for _, _, o in outlets), state_media_of),
        topics=tuple(t for _, _, t in topics),
        versions={r.name: r.shape.version for r in loaded if r.shape is not None},
        warnings=tuple(_shared_alias_warnings(actors, outlets)),
    )


def _actor(shape: _ActorShape) -> Actor:
    return Actor(
        id=shape.id,
        name=shape.name,
        type=shape.type,
        country=shape.country,
        aliases=tuple(shape.aliases),
        short=tuple(shape.short),
        titles=tuple(shape.titles),
        roles=tuple(Office(r.office, tuple(r.descriptors), r.start, r.end) for r in shape.roles),
        demonyms=tuple(shape.demonyms),
        metonyms=tuple(shape.metonyms),
        state_media=shape.state_media,
        members=tuple(shape.members),
        not_names=tuple(shape.not_names),
        wikidata=shape.wikidata,
    )


def _outlet(shape: _OutletShape) -> OutletEntry:
    return OutletEntry(
        id=shape.id,
        name=shape.name,
        country=shape.country,
        category=shape.category,
        state=shape.state,
        aliases=tuple(shape.aliases),
        short=tuple(shape.short),
        domains=tuple(shape.domains),
        cues=tuple(shape.cues),
        notes=shape.notes,
        wikidata=shape.wikidata,
    )


def _topic(shape: _TopicShape) -> TopicRule:
    return TopicRule(
        id=shape.id,
        label=shape.label,
        threshold=shape.threshold,
        phrases=tuple(shape.phrases.items()),
        require_any=tuple(shape.require_any),
        exclude=tuple(shape.exclude),
    )


_COUNTRY_ONLY = ("demonyms", "metonyms", "state_media")


def _check(
    actors: list[tuple[_LoadedFile, int, Actor]],
    outlets: list[tuple[_LoadedFile, int, OutletEntry]],
    topics: list[tuple[_LoadedFile, int, TopicRule]],
) -> list[Problem]:
    """Rules spanning fields, entries and files (the shapes are already valid)."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    entries: list[tuple[_LoadedFile, str, int, str]] = [(f, "actors", i, a.id) for f, i, a in actors]
    entries += [(f, "outlets", i, o.id) for f, i, o in outlets]
    entries += [(f, "topics", i, t.id) for f, i, t in topics]
    for file, key, index, entry_id in entries:
        here = f"{file.name}, {key}[{index}]"
        if entry_id in seen:
            problems.append(file.problem([key, index, "id"], f"duplicate id {entry_id!r} (first in {seen[entry_id]})"))
        seen.setdefault(entry_id, here)
    problems.extend(_check_wikidata(actors, outlets))
    actor_ids = {a.id for _, _, a in actors}
    outlet_ids = {o.id for _, _, o in outlets}
    for file, index, actor in actors:
        problems.extend(_check_actor(file, index, actor, actor_ids, outlet_ids))
    domains: dict[str, str] = {}
    for file, index, outlet in outlets:
        problems.extend(_check_outlet(file, index, outlet))
        for position, domain in enumerate(outlet.domains):
            if domains.setdefault(domain, outlet.id) != outlet.id:
                where: list[str | int] = ["outlets", index, "domains", position]
                problems.append(file.problem(where, f"domain {domain!r} already belongs to {domains[domain]!r}"))
    for file, index, topic in topics:
        for list_key, phrases in (
            ("phrases", [p for p, _ in topic.phrases]),
            ("require_any", topic.require_any),
            ("exclude", topic.exclude),
        ):
            for phrase in phrases:
                if not fold(phrase.rstrip("*")).strip():
                    problems.append(
                        file.problem(["topics", index, list_key], f"phrase {phrase!r} has no letters or digits")
                    )
    return problems


def _check_wikidata(
    actors: list[tuple[_LoadedFile, int, Actor]], outlets: list[tuple[_LoadedFile, int, OutletEntry]]
) -> list[Problem]:
    """One entry per Wikidata item, and an actor whose id is a QID carries no second one."""
    problems = [
        file.problem(["actors", index, "wikidata"], f"the id {actor.id!r} is already its Wikidata item")
        for file, index, actor in actors
        if actor.wikidata is not None and actor.id.startswith("Q")
    ]
    owner: dict[str, str] = {}
    items: list[tuple[_LoadedFile, str, int, str, str | None]] = [
        (f, "actors", i, a.id, a.wikidata_id) for f, i, a in actors
    ]
    items += [(f, "outlets", i, o.id, o.wikidata) for f, i, o in outlets]
    for file, key, index, entry_id, item in items:
        if item is None:
            continue
        if owner.setdefault(item, entry_id) != entry_id:
            message = f"Wikidata item {item!r} already belongs to {owner[item]!r}"
            problems.append(file.problem([key, index, "wikidata" if key == "outlets" else "id"], message))
    return problems


def _check_actor(
    file: _LoadedFile, index: int, actor: Actor, actor_ids: set[str], outlet_ids: set[str]
) -> list[Problem]:
    problems: list[Problem] = []
    base: list[str | int] = ["actors", index]
    if actor.type != "country":
        for key in _COUNTRY_ONLY:
            if getattr(actor, key):
                problems.append(file.problem([*base, key], f"only countries have {key}"))
    elif actor.country is None:
        problems.append(file.problem([*base, "country"], "a country needs its ISO 3166-1 alpha-2 code"))
    if actor.type != "person":
        for key in ("roles", "titles"):
            if getattr(actor, key):
                problems.append(file.problem([*base, key], f"only people have {key}"))
    if actor.members and actor.type != "organization":
        problems.append(file.problem([*base, "members"], "only organisations have members"))
    slug = re.fullmatch(r"ww:(\w+):.*", actor.id)
    if slug and slug.group(1) != actor.type:
        problems.append(file.problem([*base, "id"], f"slug type {slug.group(1)!r} differs from type {actor.type!r}"))
    if actor.state_media and actor.state_media not in outlet_ids:
        problems.append(file.problem([*base, "state_media"], f"unknown outlet id {actor.state_media!r}"))
    for position, member in enumerate(actor.members):
        if member not in actor_ids:
            problems.append(file.problem([*base, "members", position], f"unknown actor id {member!r}"))
    for position, office in enumerate(actor.roles):
        if office.start and office.end and office.end < office.start:
            problems.append(file.problem([*base, "roles", position, "end"], "ends before it starts"))
    for key in ("aliases", "short", "titles", "demonyms", "metonyms", "not_names"):
        for position, name in enumerate(getattr(actor, key)):
            if not fold(name).strip():
                problems.append(file.problem([*base, key, position], f"{name!r} has no letters or digits"))
    return problems


def _check_outlet(file: _LoadedFile, index: int, outlet: OutletEntry) -> list[Problem]:
    problems: list[Problem] = []
    base: list[str | int] = ["outlets", index]
    if outlet.category in STATE_CATEGORIES and not outlet.state:
        problems.append(
            file.problem([*base, "state"], f"category {outlet.category} is state media: state must be true")
        )
    if outlet.category in INDEPENDENT_CATEGORIES and outlet.state:
        problems.append(file.problem([*base, "state"], f"category {outlet.category} is not state media"))
    if outlet.is_generic and (outlet.country is None or outlet.id != f"{outlet.country.lower()}_state_media"):
        problems.append(file.problem([*base, "id"], "a generic entry is named '<cc>_state_media' after its country"))
    for key in ("aliases", "short", "cues"):
        for position, name in enumerate(getattr(outlet, key)):
            if not fold(name).strip():
                problems.append(file.problem([*base, key, position], f"{name!r} has no letters or digits"))
    return problems


def _shared_alias_warnings(
    actors: list[tuple[_LoadedFile, int, Actor]], outlets: list[tuple[_LoadedFile, int, OutletEntry]]
) -> Iterator[str]:
    owners: dict[str, set[str]] = defaultdict(set)
    for _, _, actor in actors:
        for name in actor.aliases:
            owners[lookup_key(name)].add(actor.id)
    for _, _, outlet in outlets:
        for name in outlet.aliases:
            owners[lookup_key(name)].add(outlet.id)
    for key, ids in sorted(owners.items()):
        if len(ids) > 1:
            shared_by = ", ".join(sorted(ids))
            yield f"alias {key!r} is shared by {shared_by}: matched only where one of them is named otherwise"

"""Desk-defined entities: the rules a new one must pass, and the automaton that finds them in articles.

A desk names what the shipped registry lacks (a shipping company, a vessel, a weapons system, a new minister), in
any script. The rules, one place for the CLI and the API (``plan_entity``):

- Names (the name and its aliases) are 1-120 characters with at least two letters or digits; at most
  ``MAX_NAMES`` per entity, context words at most ``MAX_CONTEXT``; duplicates after folding are dropped.
- A name is **weak** when it is short (three letters or fewer, unless the entity is case-sensitive or the name
  is an acronym in capitals) or one word that is common in some language (``is_common`` says how common: a Zipf
  frequency of 4, ten per million words, means a match in roughly every 150th article by chance). Names of
  several words are not rated: word lists rate a phrase by its rarest word, and a capitalised phrase ("Golden
  Dawn", "Ever Given") is matched only where it is written with its capital. A weak name
  needs context words: without them the entity is refused; with them, the weak names count only where one of
  the context words starts a word in the same sentence (``needs_context``), the others count anywhere.
- A name the registry already knows is accepted with a warning naming the registry id (the desk may watch that
  id instead).

Matching (``DeskEntityMatcher``) runs over the article's folded text in a pass of its own, so a desk's change
rebuilds this small automaton only, never the shipped one. Names match as whole words in any case (as written
when ``case_sensitive``, and acronyms always), in their inflected forms where the language declines names.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from streams.core.errors import WirewatchError
from streams.core.matcher import Document, Matcher, NameForms, Pattern, plain_name_patterns
from streams.core.models import DeskEntity, EntityType, WireError
from streams.core.tagger import Span, TagData, longest_first, tag_data
from streams.core.text import fold, is_all_caps

MAX_NAMES = 100
"""Names (the name and its aliases) per entity."""
MAX_CONTEXT = 50
MAX_NAME_CHARS = 120
SHORT_NAME_LETTERS = 3
COMMON_ZIPF = 4.0
"""A name at least this frequent (Zipf scale) in some language is a common word or name."""
CONTEXT_WINDOW = 200
"""Characters either side of a weak name, within its paragraph, searched for its sentence."""
ENTITY_TYPES: tuple[EntityType, ...] = ("person", "organization", "country", "vessel", "weapon", "place", "other")

Commonness = Callable[[str], tuple[float, str] | None]
"""How common a name is as a word: ``(zipf, language)`` of the language where it is most frequent, or None."""
RegistryIds = Callable[[str], list[str]]
"""Registry ids that already have this name."""


class EntityError(WirewatchError):
    """A desk entity request cannot be honoured (the API answers 422 with this line)."""


@dataclass(frozen=True)
class EntityPlan:
    """A checked entity and what the desk should know about it (duplicates, weak names)."""

    entity: DeskEntity
    warnings: tuple[str, ...] = field(default=())


def entity_id_for(desk: str | None, entity_type: str, name: str) -> str:
    """The same desk naming the same thing again gets the same id: adding it again updates it."""
    basis = "\x00".join([desk or "*", entity_type, fold(name).strip()])
    return "desk:" + hashlib.blake2b(basis.encode(), digest_size=6).hexdigest()


def _letters(name: str) -> int:
    return sum(1 for c in name if c.isalnum())


def plan_entity(
    desk: str | None,
    name: str,
    entity_type: str,
    aliases: Iterable[str],
    *,
    context: Iterable[str] = (),
    wikidata_id: str | None = None,
    case_sensitive: bool = False,
    now: datetime,
    is_common: Commonness,
    registry_ids: RegistryIds,
) -> EntityPlan:
    """Check a desk's entity against the rules above; raise ``EntityError`` with every problem in one line."""
    if entity_type not in ENTITY_TYPES:
        raise EntityError(f"unknown type {entity_type!r}; use one of: {', '.join(ENTITY_TYPES)}")
    names = [n.strip() for n in (name, *aliases)]
    if len(names) > MAX_NAMES:
        raise EntityError(f"{len(names)} names; an entity has at most {MAX_NAMES} (the name and its aliases)")
    problems = [f"name {n!r} is empty" for n in names if not n]
    problems += [f"name {n[:40]!r}… is over {MAX_NAME_CHARS} characters" for n in names if len(n) > MAX_NAME_CHARS]
    problems += [f"name {n!r} has fewer than two letters or digits" for n in names if n and _letters(n) < 2]
    words = [w.strip() for w in context]
    if len(words) > MAX_CONTEXT:
        problems.append(f"{len(words)} context words; at most {MAX_CONTEXT}")
    problems += [f"context word {w!r} is empty or has no letter" for w in words if not fold(w).strip()]
    if problems:
        raise EntityError("; ".join(problems))
    unique: dict[str, str] = {}
    for written in names:
        unique.setdefault(fold(written).strip(), written)
    kept = list(unique.values())
    weak: list[str] = []
    notes: list[str] = []
    for written in kept:
        reason = _weakness(written, case_sensitive, is_common)
        if reason:
            weak.append(written)
            notes.append(f"{written!r} {reason}")
    if weak and not words:
        raise EntityError(
            "; ".join(notes) + ": add context words (e.g. 'vessel', 'tanker') that must appear near such a name"
        )
    warnings = [f"{note}: it counts only with one of the context words in its sentence" for note in notes]
    for written in kept:
        known = registry_ids(written)
        if known:
            warnings.append(f"{written!r} is already in the registry as {', '.join(known)}: you can watch that id")
    try:
        entity = DeskEntity(
            entity_id=entity_id_for(desk, entity_type, kept[0]),
            desk=desk,
            name=kept[0],
            type=entity_type,
            aliases=tuple(kept[1:]),
            wikidata_id=wikidata_id or None,
            context=tuple(dict.fromkeys(words)),
            case_sensitive=case_sensitive,
            needs_context=tuple(weak),
            updated_at=now,
        )
    except WireError as err:
        raise EntityError(str(err)) from err
    except ValueError as err:  # pydantic's ValidationError is a ValueError
        raise EntityError(str(err).splitlines()[-1].strip()) from err
    return EntityPlan(entity, tuple(warnings))


def _weakness(name: str, case_sensitive: bool, is_common: Commonness) -> str | None:
    """Why a name is weak (short, or a common word), or None."""
    if _letters(name) <= SHORT_NAME_LETTERS and not case_sensitive and not is_all_caps(name):
        return f"has {SHORT_NAME_LETTERS} letters or fewer"
    if len(fold(name).split()) > 1:
        return None  # word lists rate a phrase by its rarest word, not as a name: "Wagner Group" is no phrase of German
    commonness = is_common(name)
    if commonness is not None and commonness[0] >= COMMON_ZIPF:
        zipf, language = commonness
        return f"is a common word or name (Zipf {zipf:.1f} in {language})"
    return None


# --------------------------------------------------------------------------- matching
class DeskEntityMatcher:
    """Every desk's entities in one automaton; immutable, safe to share between threads, rebuilt on a change.

    ``previous``: the matcher this one replaces; the keys of every entity that did not change are taken from it
    (deriving keys — folding, case forms — is most of a build; the automaton itself is quick to make).
    """

    def __init__(
        self,
        entities: Iterable[DeskEntity],
        name_forms: NameForms | None = None,
        previous: DeskEntityMatcher | None = None,
    ) -> None:
        self.entities: Mapping[str, DeskEntity] = {e.entity_id: e for e in entities}
        known = previous._keys if previous is not None else {}
        self._keys: dict[str, tuple[DeskEntity, list[tuple[str, Pattern]]]] = {}
        for entity in self.entities.values():
            cached = known.get(entity.entity_id)
            if cached is None or cached[0] != entity:
                keys = list(plain_name_patterns(entity.entity_id, entity.names, entity.case_sensitive, name_forms))
                cached = (entity, keys)
            self._keys[entity.entity_id] = cached
        self._matcher = Matcher.of_patterns(pair for _, keys in self._keys.values() for pair in keys)
        self._weak = {
            e.entity_id: frozenset(fold(n).strip() for n in e.needs_context)
            for e in self.entities.values()
            if e.needs_context
        }
        self._context = {
            e.entity_id: re.compile("|".join(rf"(?<!\w){re.escape(fold(w).strip())}" for w in e.context))
            for e in self.entities.values()
            if e.context
        }

    def __len__(self) -> int:
        return len(self.entities)

    def tags(self, document: Document) -> list[TagData]:
        """The desk entities the document names, as the tagger's tag data (first mention, ``ActorTag`` fields)."""
        if not self.entities:
            return []
        spans: dict[str, list[Span]] = defaultdict(list)
        for group in longest_first(self._matcher.scan(document)):
            for candidate in group.candidates:
                target = candidate.pattern.target
                if self._counts(document, target, candidate.pattern.phrase, group.span):
                    spans[target].append(group.span)
        found = []
        for entity_id, entity_spans in spans.items():
            entity = self.entities[entity_id]
            found.append(tag_data(document, entity_spans, id=entity_id, name=entity.name, type=entity.type))
        return found

    def _counts(self, document: Document, entity_id: str, phrase: str, span: Span) -> bool:
        """A weak name counts only with a context word in its sentence (``CONTEXT_WINDOW`` either side at most)."""
        weak = self._weak.get(entity_id)
        if not weak or fold(phrase).strip() not in weak:
            return True
        field, start, end = span
        low, high = document.sentence_span(field, start, end, CONTEXT_WINDOW, CONTEXT_WINDOW)
        text = document.texts[field]
        around = fold(text[low:start] + " " + text[end:high])
        return self._context[entity_id].search(around) is not None

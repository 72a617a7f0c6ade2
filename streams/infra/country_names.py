"""Country names in the languages desks read, from the Unicode CLDR (Babel's data; decision 0803).

The registry writes each country's English names and a few native ones by hand; CLDR has every country's
common short name in every language ("إيران", "イラン", "Russland", "Hoa Kỳ", "北韓"). They are added as aliases
when the registry loads, except a name another entity already uses, a name the country lists among its
``not_names``, short Latin or Cyrillic names (fewer than four letters: "Nga", "Lào" are also words), and Latin
names that are also English words, given names or other places ("Columbia", "Granada", "Cipro", "Maurice").
"""

from __future__ import annotations

import dataclasses
import functools

from streams.core.registry import Actor, ActorIndex, Registries
from streams.core.text import lookup_key

LANGUAGES = (
    "ar", "fa", "ur", "he", "hi", "ja", "zh", "zh_Hant", "ko", "ru", "uk", "be", "bg", "sr", "sr_Latn", "fr", "de",
    "es", "pt", "it", "nl", "pl", "ro", "tr", "vi", "id", "et", "cs", "hu", "el",
)  # fmt: skip
_SHORTEST_ALPHABETIC = 4
_ALSO_ENGLISH = frozenset(
    # The CLDR names of LANGUAGES found in Debian's American English word list (package wamerican, 2026-12).
    "Argentine Bahama Columbia Congo Kongo Cipro Dominique Salvador Gambia Granada Guiana Maldive Maurice Mauricio "
    "Micronesia Moldavia Holland Belau Rumania Somali Surinam Swiss Tunis".split()
)


@functools.cache
def _territory_names(language: str) -> dict[str, str]:
    from babel import Locale

    return dict(Locale.parse(language).territories)


def cldr_names(country_code: str) -> tuple[str, ...]:
    """The country's CLDR name in each of ``LANGUAGES``, first spelling first, without repeats."""
    names: dict[str, None] = {}
    for language in LANGUAGES:
        name = _territory_names(language).get(country_code)
        if name and _long_enough(name) and name not in _ALSO_ENGLISH:
            names.setdefault(name, None)
    return tuple(names)


def _long_enough(name: str) -> bool:
    letters = [c for c in name if c.isalpha()]
    alphabetic = all(c.isascii() or "\u00c0" <= c <= "\u04ff" for c in letters)
    return not alphabetic or len(letters) >= _SHORTEST_ALPHABETIC


def with_country_names(registries: Registries) -> Registries:
    """The registries with every country's CLDR names added to its aliases (see the module docstring)."""
    owner: dict[str, str] = {}
    for actor in registries.actors:
        for name in (actor.name, *actor.aliases, *actor.short, *actor.demonyms, *actor.metonyms, *actor.not_names):
            owner.setdefault(lookup_key(name), actor.id)
    for outlet in registries.outlets:
        for name in (outlet.name, *outlet.aliases, *outlet.short):
            owner.setdefault(lookup_key(name), outlet.id)
    actors: list[Actor] = []
    for actor in registries.actors:
        if actor.type == "country" and actor.country:
            own = {lookup_key(name) for name in (actor.name, *actor.aliases)}
            new = tuple(
                name
                for name in cldr_names(actor.country)
                if owner.setdefault(key := lookup_key(name), actor.id) == actor.id and key not in own
            )
            if new:
                actor = dataclasses.replace(actor, aliases=(*actor.aliases, *new))
        actors.append(actor)
    return dataclasses.replace(registries, actors=ActorIndex(actors))

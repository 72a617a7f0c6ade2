"""Other written forms of names: Russian case forms from pymorphy3's dictionary (decision 0801), and Arabic
names with the one-letter words written joined to them.

Russian declines names: the registry lists "Владимир Путин" and "Россия", the copy says "Владимира Путина",
"с Ким Чен Ыном", "в России". The matcher matches whole keys, so every Cyrillic name is also compiled in its
oblique cases (genitive, dative, accusative, instrumental, prepositional), in two shapes Russian copy uses:

* every word declined in the same case ("Сергея Лаврова", "Северной Кореи"), words that are not nominative
  (the genitive complement of "Министерство иностранных дел России") left as written;
* only the last word declined, for East Asian names whose first parts stay as written ("Ким Чен Ына").

A word the dictionary does not know (a short transliteration such as "Ын") is declined as a masculine noun
ending in a consonant, which is what Russian does with foreign men's names; acronyms ("ТАСС", "СМИ") and words
that are already indeclinable are left alone. Forms that are not real Russian cost nothing: they are keys that
no text contains.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_CASES = ("gent", "datv", "accs", "ablt", "loct")
_CYRILLIC_WORD = re.compile(r"[А-Яа-яЁё]+")
_INFLECTED_POS = frozenset({"NOUN", "ADJF"})
_CONSONANT_ENDINGS = {"gent": "а", "datv": "у", "accs": "а", "ablt": "ом", "loct": "е"}
_VOWELS = frozenset("аеёиоуыэюяй")


@functools.cache
def _analyzer() -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="ru")


@functools.cache
def word_forms(word: str) -> dict[str, frozenset[str]]:
    """The forms of one Cyrillic word by case (lower case; empty when the word does not decline)."""
    lower = word.lower()
    if len(word) < 2 or word.isupper():
        return {}
    parses = [p for p in _analyzer().parse(lower) if "nomn" in p.tag and p.tag.POS in _INFLECTED_POS]
    if any(p.tag.grammemes & {"Fixd"} for p in parses[:1]):
        return {}
    forms: dict[str, set[str]] = {case: set() for case in _CASES}
    for parse in parses:
        for case in _CASES:
            inflected = parse.inflect({case})
            if inflected is not None and inflected.word != lower:
                forms[case].add(inflected.word)
    if not parses and lower[-1] not in _VOWELS and lower[-1] not in "ьъ":
        for case, ending in _CONSONANT_ENDINGS.items():
            forms[case].add(lower + ending)
    return {case: frozenset(found) for case, found in forms.items() if found}


def russian_name_forms(name: str) -> tuple[str, ...]:
    """The oblique-case forms of a name written in Cyrillic (none for other names), capitals kept."""
    words = name.split(" ")
    if not any(_CYRILLIC_WORD.fullmatch(w) for w in words):
        return ()
    found: set[str] = set()
    for case in _CASES:
        every = [_declined(word, case) for word in words]
        last = [{word} for word in words[:-1]] + [every[-1]]
        for shape in (every, last):
            found.update(_combinations(shape))
    found.discard(name)
    return tuple(sorted(found))


def _declined(word: str, case: str) -> set[str]:
    if not _CYRILLIC_WORD.fullmatch(word):
        return {word}
    forms = word_forms(word).get(case)
    if not forms:
        return {word}
    return {_with_capital_of(word, form) for form in forms}


def _with_capital_of(original: str, form: str) -> str:
    return form[:1].upper() + form[1:] if original[:1].isupper() else form


def _combinations(shape: list[set[str]]) -> set[str]:
    phrases = {""}
    for choices in shape:
        phrases = {f"{phrase} {choice}".strip() for phrase in phrases for choice in sorted(choices)}
    return phrases


_ARABIC_LETTERS = re.compile(r"[\u0621-\u064A]")
_ARABIC_PROCLITICS = ("و", "ب", "ل", "ف")
"""Arabic writes "and", "in/by", "for/to" and "so" joined to the next word: "وإيران", "بروسيا", "لسوريا"."""


def arabic_name_forms(name: str) -> tuple[str, ...]:
    """A name in Arabic script with each joined one-letter word before it; لِ before the article ال drops its alif
    ("للصين", "للولايات المتحدة")."""
    if not _ARABIC_LETTERS.match(name):
        return ()
    forms = [clitic + name for clitic in _ARABIC_PROCLITICS if clitic != "ل"]
    forms.append("لل" + name[2:] if name.startswith("ال") else "ل" + name)
    forms.extend(["و" + form for form in forms if form[0] in "بل"])  # "and for ...": "وللصين", "وبروسيا"
    return tuple(forms)


def name_forms(name: str) -> tuple[str, ...]:
    """Every other written form of a name the matcher compiles (``streams.core.matcher.NameForms``)."""
    return russian_name_forms(name) or arabic_name_forms(name)

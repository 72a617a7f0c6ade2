"""One pass of an Aho-Corasick automaton over the folded text of every field of an article.

Every name the tagger knows (actor aliases, short forms, demonyms, metonyms, office descriptors, outlet names,
unnamed state-media phrases, topic phrases) is folded (``streams.core.text``) and becomes a key. Keys carry a
space on each side where their script separates words, and the article's folded fields are joined with spaces
around them, so the automaton itself only reports whole-word matches ("RIA" never matches inside "Syria",
"Xi" never inside "taxi") — no per-hit boundary test, and no flood of sub-word hits from two-letter keys.
A topic phrase ending in ``*`` ("sanction*") has no right-hand space: it matches any word it starts.

Context-free checks run here (case of case-sensitive forms, possessive apostrophes, the date of an office);
what needs the rest of the article (antecedents, outlet cues, roles) is decided by the tagger.

Offsets: ``credits`` is addressed as the credits joined with "\\n" (``field_text``), the other fields as they are.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import NamedTuple

import ahocorasick

from streams.core.models import Article, Mention, TextField
from streams.core.registry import Office, Registries
from streams.core.text import (
    FoldedText,
    fold,
    fold_keeping_case,
    has_hangul,
    has_lowercase,
    is_all_caps,
    needs_left_boundary,
    needs_right_boundary,
)

FIELDS: tuple[TextField, ...] = ("title", "summary", "content", "credits")
_APOSTROPHES = "'’ʼ‘`´"
_INITIAL_PUNCTUATION = re.compile(r"[.,](?= )")


class Kind(Enum):
    ALIAS = "alias"  # an actor's full name or unambiguous alias
    SHORT = "short"  # an actor's unsafe short form ("Kim", "Xi"): needs a title or an antecedent
    DEMONYM = "demonym"  # "Russian": weak evidence of a country
    METONYM = "metonym"  # "the Kremlin": the country's government, never a person
    OFFICE = "office"  # "the Russian president": whoever held the office on the article's date
    OUTLET = "outlet"  # an outlet's name
    OUTLET_SHORT = "outlet_short"  # "RT", "SANA": needs an outlet cue or the full name in the article
    MEDIA = "media"  # an unnamed state-media phrase ("state media", "state TV")
    REFERENCE = "reference"  # a noun that may refer back to a named outlet ("the agency said")
    NOT_NAME = "not_name"  # a longer name that contains an actor's name but means something else ("New Mexico")
    TOPIC = "topic"  # a weighted topic phrase
    TOPIC_REQUIRED = "topic_required"
    TOPIC_EXCLUDED = "topic_excluded"


ACTOR_KINDS = frozenset({Kind.ALIAS, Kind.SHORT, Kind.DEMONYM, Kind.METONYM, Kind.OFFICE})
PROPER_NOUN_KINDS = frozenset({Kind.ALIAS, Kind.DEMONYM, Kind.METONYM, Kind.OUTLET})
"""Names written with a capital in the registry must be written with one in the text: "china" and "turkey" are
tableware and poultry, "China" and "Turkey" are countries (unless the field has no capitals at all)."""
TOPIC_KINDS = frozenset({Kind.TOPIC, Kind.TOPIC_REQUIRED, Kind.TOPIC_EXCLUDED})


@dataclass(frozen=True, slots=True)
class Pattern:
    """What a key means: its kind, the registry id it points to, and how it must be written (if it matters)."""

    kind: Kind
    target: str
    phrase: str
    """The registry string this key was made from (for topics: the phrase as written, the evidence label)."""
    cased: frozenset[str] | None = None
    """Accepted spellings (``fold_keeping_case``) for case-sensitive forms; None: any case."""
    weight: float = 0.0
    office: Office | None = None
    title: str | None = None
    """The title this key starts with ("President Xi"): the case check then looks at the name after it only."""
    is_topic: bool = False
    """A topic phrase (scored apart), not a name."""
    is_prefix: bool = False
    """Matches any word it starts (a topic phrase written with a trailing ``*``)."""
    capital_word: int | None = None
    """Index of the first word of ``phrase`` that starts with a capital (proper-noun kinds), checked in the text."""
    is_plain: bool = False
    """Needs no context-free check (no case, office date, title or word end to look at)."""
    is_checked: bool = False
    """Has a context-free check (case, capital, office date) for ``Matcher._passes``; a prefix alone has none."""


def _pattern(
    kind: Kind,
    target: str,
    phrase: str,
    *,
    cased: frozenset[str] | None = None,
    weight: float = 0.0,
    office: Office | None = None,
    title: str | None = None,
) -> Pattern:
    is_topic = kind in TOPIC_KINDS
    is_prefix = is_topic and phrase.endswith("*")
    capital_word = _first_capitalised_word(phrase) if kind in PROPER_NOUN_KINDS and cased is None else None
    is_checked = cased is not None or capital_word is not None or office is not None
    is_plain = not is_checked and kind is not Kind.OFFICE and not is_prefix
    return Pattern(
        kind, target, phrase, cased, weight, office, title, is_topic, is_prefix, capital_word, is_plain, is_checked
    )


def _first_capitalised_word(phrase: str) -> int | None:
    """Position of the first word starting with a Latin capital ("the Kremlin" → 1); None for other scripts."""
    for position, word in enumerate(phrase.split()):
        if word[:1].isupper() and word[:1].isascii():
            return position
    return None


class Candidate(NamedTuple):
    """A pattern found at ``[start, end)`` of an original field (a tuple: made by the thousand per second)."""

    field: int
    start: int
    end: int
    pattern: Pattern


class Document:
    """The article's fields, folded once, with lazily computed sentence and paragraph spans."""

    def __init__(self, article: Article) -> None:
        self.article = article
        self.texts = tuple(field_text(article, name) for name in FIELDS)
        self.folded = tuple(FoldedText.of(text) for text in self.texts)
        self.day: date = (article.published or article.fetched).date()
        self._headline_case: dict[int, bool] = {}
        self._has_lowercase: dict[int, bool] = {}
        self._has_uppercase: dict[int, bool] = {}

    def mention(self, field: int, start: int, end: int) -> Mention:
        """Evidence at ``[start, end)`` of a field."""
        return Mention(field=FIELDS[field], start=start, end=end, text=self.texts[field][start:end])

    def paragraph_span(self, field: int, offset: int) -> tuple[int, int]:
        """The line (paragraph, as ``streams.core.sentences`` defines it) around ``offset``."""
        text = self.texts[field]
        end = text.find("\n", offset)
        return text.rfind("\n", 0, offset) + 1, len(text) if end < 0 else end

    def sentence_span(self, field: int, start: int, end: int, before: int, after: int) -> tuple[int, int]:
        """The sentence(s) around ``[start, end)`` (``streams.core.sentences`` rules), clipped to ``before``
        characters before ``start`` and ``after`` characters after ``end`` (only that window is segmented)."""
        from streams.core.sentences import segment

        paragraph_start, paragraph_end = self.paragraph_span(field, start)
        low, high = max(paragraph_start, start - before), min(paragraph_end, end + after)
        segments = segment(self.texts[field][low:high])
        first = segments.sentences[segments.sentence_of(start - low)]
        last = segments.sentences[segments.sentence_of(max(end - 1, start) - low)]
        return low + first[0], low + last[1]

    def has_lowercase(self, field: int) -> bool:
        """False for a field in capitals only, where case-sensitive forms cannot be told from words."""
        if field not in self._has_lowercase:
            self._has_lowercase[field] = has_lowercase(self.texts[field])
        return self._has_lowercase[field]

    def has_uppercase(self, field: int) -> bool:
        """False for a field in small letters only, where proper nouns cannot be told by their capitals."""
        if field not in self._has_uppercase:
            self._has_uppercase[field] = any(c.isupper() for c in self.texts[field])
        return self._has_uppercase[field]

    def is_headline_case(self, field: int) -> bool:
        """Most words capitalised ("Trump To Meet Kim In Hanoi"): capitals say nothing about names here."""
        if field not in self._headline_case:
            words = [w for w in re.findall(r"[^\W\d_]{4,}", self.texts[field])]
            capitalised = sum(1 for w in words if w[0].isupper())
            self._headline_case[field] = len(words) >= 3 and capitalised >= 0.6 * len(words)
        return self._headline_case[field]


def field_text(article: Article, name: TextField) -> str:
    """The text a ``Mention`` in field ``name`` addresses; credits are joined with a line break."""
    if name == "credits":
        return "\n".join(article.credits)
    text: str = getattr(article, name)
    return text


class _Key(NamedTuple):
    """What the automaton returns for a key (a tuple: unpacked once per match)."""

    back: int
    """From the end of the match in the padded text to the start of the name in the folded field."""
    right_pad: int
    plain: bool
    """Every pattern is plain: candidates are made without looking at the text."""
    patterns: tuple[Pattern, ...]


NameForms = Callable[[str], Iterable[str]]
"""Other written forms of a name or phrase (its case forms in a language that declines names), or none."""


def no_other_forms(name: str) -> tuple[str, ...]:
    """The ``NameForms`` of a language that writes every name one way."""
    return ()


class Matcher:
    """The compiled automaton; immutable after construction and safe to share between threads."""

    def __init__(
        self,
        registries: Registries,
        vocabulary: Mapping[Kind, Iterable[str]] | None = None,
        name_forms: NameForms | None = None,
    ) -> None:
        """``vocabulary``: extra phrases by kind, matched like names (the tagger passes the state-media words);
        ``name_forms``: the other forms of every name and phrase but topics', each one more key for it."""
        self._compile(_patterns(registries, vocabulary or {}, name_forms or no_other_forms))

    @classmethod
    def of_patterns(cls, patterns: Iterable[tuple[str, Pattern]]) -> Matcher:
        """An automaton of the given keys (desk entities' ``plain_name_patterns``, ``streams.core.entities``)."""
        matcher = cls.__new__(cls)
        matcher._compile(patterns)
        return matcher

    def _compile(self, patterns: Iterable[tuple[str, Pattern]]) -> None:
        groups: dict[tuple[str, bool], list[Pattern]] = defaultdict(list)
        for key, pattern in patterns:
            group = groups[key, pattern.is_prefix]
            if pattern not in group:
                group.append(pattern)
        # Two automata, one pass each text: pyahocorasick looks up a node's children one by one, and keys in
        # other scripts give the node after a space hundreds of children. Text that folds to ASCII (English and
        # every Latin-script language once accents are stripped) can only match ASCII keys, so it runs over an
        # automaton of those alone, five times faster; any other text runs over the automaton of every key.
        self._every_key = ahocorasick.Automaton()
        self._ascii_keys = ahocorasick.Automaton()
        for (key, is_prefix), found in groups.items():
            left = 1 if needs_left_boundary(key[0]) else 0
            # Korean glues particles to a name's end, also to a Latin tail ("조선중앙TV는").
            right = 1 if needs_right_boundary(key[-1]) and not is_prefix and not has_hangul(key) else 0
            padded = " " * left + key + " " * right
            value = _Key(len(padded) - left, right, all(p.is_plain for p in found), tuple(found))
            self._every_key.add_word(padded, value)
            if padded.isascii():
                self._ascii_keys.add_word(padded, value)
        self.size = len(groups)
        for automaton in (self._every_key, self._ascii_keys):
            if len(automaton):
                automaton.make_automaton()

    def scan(self, document: Document) -> list[Candidate]:
        """Every pattern found in the document that passes the context-free checks, in reading order."""
        found: list[Candidate] = []
        if not self.size:
            return found
        append = found.append
        for field, folded in enumerate(document.folded):
            if not folded.folded:
                continue
            text = document.texts[field]
            identical = folded.origins is None
            automaton = self._ascii_keys if folded.folded.isascii() else self._every_key
            if not len(automaton):
                continue
            for end_index, (back, right_pad, plain, patterns) in automaton.iter(f" {folded.folded} "):
                # Offsets in the folded field: the padded text has one extra space in front.
                start = end_index - back
                stop = end_index - right_pad
                original_start, original_stop = (start, stop) if identical else folded.original_span(start, stop)
                if plain:
                    for pattern in patterns:
                        append(Candidate(field, original_start, original_stop, pattern))
                    continue
                for pattern in patterns:
                    if not pattern.is_checked or self._passes(document, field, original_start, original_stop, pattern):
                        end = _word_end(text, original_stop) if pattern.is_prefix else original_stop
                        append(Candidate(field, original_start, end, pattern))
        return found

    @staticmethod
    def _passes(document: Document, field: int, start: int, end: int, pattern: Pattern) -> bool:
        """The context-free checks: the case of case-sensitive forms and proper nouns, the date of an office."""
        text = document.texts[field]
        # After a title only the name is case-checked ("president Xi" is fine, "President XI" is not).
        name_start = max(start, end - len(pattern.phrase)) if pattern.title else start
        if pattern.cased is not None:
            written = text[name_start:end]
            if written not in pattern.cased and fold_keeping_case(written).strip() not in pattern.cased:
                return False
            if not document.has_lowercase(field) or _apostrophe_joins_word(text, end):
                return False
        if pattern.capital_word is not None:
            if pattern.capital_word == 0:
                initial = text[name_start]
            else:
                words = text[name_start:end].split()
                initial = words[pattern.capital_word][:1] if pattern.capital_word < len(words) else "A"
            if initial.islower() and document.has_uppercase(field):
                return False
        return pattern.office is None or pattern.office.is_held_on(document.day)


_ALPHANUMERIC_RUN = re.compile(r"[^\W_]*")
"""Letters and digits (``str.isalnum``): ``\\w`` without the underscore."""


def _word_end(text: str, end: int) -> int:
    """Where the word that continues at ``end`` ends (a prefix pattern covers the whole word)."""
    run = _ALPHANUMERIC_RUN.match(text, end)
    assert run is not None  # the pattern matches the empty string
    return run.end()


def _apostrophe_joins_word(text: str, end: int) -> bool:
    """ "Xi'an", "Sana'a": an apostrophe glued to more letters (other than a possessive s) continues the word."""
    if end >= len(text) or text[end] not in _APOSTROPHES:
        return False
    tail = re.match(r"[^\W\d_]+", text[end + 1 :])
    return tail is not None and tail.group().lower() != "s"


def alias_variants(alias: str) -> Iterator[str]:
    """The folded keys of an alias: as written, and without the dots and commas of initials and index forms."""
    yield fold(alias).strip()
    bare = _INITIAL_PUNCTUATION.sub("", alias)
    if bare != alias:
        yield fold(bare).strip()


def _has_case(text: str) -> bool:
    return any(c.isupper() or c.islower() for c in text)


def _cased(forms: tuple[str, ...] | list[str]) -> frozenset[str]:
    """Accepted spellings of case-sensitive forms; acronyms of four or more letters also in title case (Nato)."""
    accepted: set[str] = set()
    for form in forms:
        accepted.add(fold_keeping_case(form).strip())
        if is_all_caps(form) and len(form) >= 4 and form.isalpha():
            accepted.add(fold_keeping_case(form.capitalize()).strip())
    return frozenset(accepted)


def _written_forms(name: str, name_forms: NameForms) -> Iterator[str]:
    """The name itself, then its other forms."""
    yield name
    yield from name_forms(name)


def _name_patterns(
    kinds: tuple[Kind, Kind],
    target: str,
    aliases: tuple[str, ...],
    short: tuple[str, ...],
    name_forms: NameForms,
    titles: tuple[str, ...] = (),
) -> Iterator[tuple[str, Pattern]]:
    """Aliases match in any case, except acronyms (all capitals), which match as written like short forms.

    Each name is also a key after each of the actor's titles ("president putin"): a title is a separable prefix
    that becomes part of the mention, and that makes a short form safe ("President Xi").
    """
    kind, short_kind = kinds
    prefixes: list[str | None] = [None, *titles]
    for names, name_kind, always_cased in ((aliases, kind, False), (short, short_kind, True)):
        for name in names:
            for form in _written_forms(name, name_forms):
                # Case says nothing in scripts without it ("مهر", "조선"): such a short form is matched as written.
                cased = _cased([form]) if (always_cased or is_all_caps(form)) and _has_case(form) else None
                for key in alias_variants(form):
                    for title in prefixes:
                        prefixed = key if title is None else f"{fold(title).strip()} {key}"
                        yield prefixed, _pattern(name_kind, target, name, cased=cased, title=title)


def plain_name_patterns(
    target: str, names: tuple[str, ...], case_sensitive: bool, name_forms: NameForms | None
) -> Iterator[tuple[str, Pattern]]:
    """Names that match in any case, or exactly as written when ``case_sensitive`` ("ISIS", never "Isis");
    acronyms as the registry's do."""
    for name in names:
        for form in _written_forms(name, name_forms or no_other_forms):
            cased: frozenset[str] | None = None
            if case_sensitive and _has_case(form):
                cased = frozenset({fold_keeping_case(form).strip()})
            elif is_all_caps(form) and _has_case(form):
                cased = _cased([form])
            for key in alias_variants(form):
                yield key, _pattern(Kind.ALIAS, target, name, cased=cased)


def _aliases(name: str, aliases: tuple[str, ...], short: tuple[str, ...]) -> tuple[str, ...]:
    """The canonical name matches like an alias, unless it is listed as a short form ("The Paper", "RT")."""
    unsafe = {fold(form).strip() for form in short}
    return aliases if fold(name).strip() in unsafe else (name, *aliases)


def _patterns(
    registries: Registries, vocabulary: Mapping[Kind, Iterable[str]], name_forms: NameForms
) -> Iterator[tuple[str, Pattern]]:
    for actor in registries.actors:
        yield from _name_patterns(
            (Kind.ALIAS, Kind.SHORT),
            actor.id,
            _aliases(actor.name, actor.aliases, actor.short),
            actor.short,
            name_forms,
            actor.titles,
        )
        for phrase in actor.not_names:
            for form in _written_forms(phrase, name_forms):
                for key in alias_variants(form):
                    yield key, _pattern(Kind.NOT_NAME, actor.id, phrase)
        for word, kind in [(d, Kind.DEMONYM) for d in actor.demonyms] + [(m, Kind.METONYM) for m in actor.metonyms]:
            for form in _written_forms(word, name_forms):
                cased = _cased([form]) if is_all_caps(form) else None
                for key in alias_variants(form):
                    yield key, _pattern(kind, actor.id, word, cased=cased)
        for office in actor.roles:
            for descriptor in office.descriptors:
                for form in _written_forms(descriptor, name_forms):
                    for key in alias_variants(form):
                        yield key, _pattern(Kind.OFFICE, actor.id, descriptor, office=office)
    for outlet in registries.outlets:
        if not outlet.is_generic:
            names = _aliases(outlet.name, outlet.aliases, outlet.short)
            yield from _name_patterns((Kind.OUTLET, Kind.OUTLET_SHORT), outlet.id, names, outlet.short, name_forms)
    for kind, phrases in vocabulary.items():
        for phrase in phrases:
            for form in _written_forms(phrase, name_forms):
                yield fold(form).strip(), _pattern(kind, kind.value, phrase)
    for topic in registries.topics:
        weighted = [(p, w, Kind.TOPIC) for p, w in topic.phrases]
        weighted += [(p, 0.0, Kind.TOPIC_REQUIRED) for p in topic.require_any]
        weighted += [(p, 0.0, Kind.TOPIC_EXCLUDED) for p in topic.exclude]
        for phrase, weight, kind in weighted:
            yield fold(phrase.rstrip("*")).strip(), _pattern(kind, topic.id, phrase, weight=weight)

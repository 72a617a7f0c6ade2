"""Text folding for matching, with a map back to the original characters.

Every alias, phrase and article field goes through the same ``fold``: case-folded, NFKD with combining marks
stripped (so "Poutine" matches "Poutiné", "Ri Son-gwon" matches "Rí Són-gwŏn"), and every character that is not
a letter or digit becomes one space (so hyphens, apostrophes and spaces are unified: "Kim Jong-un" and
"Kim Jong Un" fold alike). Runs of separators are *not* collapsed: "Vladimir V. Putin" folds to
``vladimir v  putin``; the matcher adds the punctuation-free variant of every alias instead.

Folding is one character to one character for nearly every real text, and then ``FoldedText`` needs no offset
map at all: byte-level replacement of common typographic punctuation and a byte table for ASCII (case
included), all in C; other characters are folded run by run from a precomputed table. Only when a run holds
characters that fold to zero or several characters ("ß" → "ss", "ﬁ", a stray combining accent) is an offset
map built, from ranges for the unchanged stretches and per character only inside those runs — German copy has
a "ß" in nearly every article, and folding it character by character made it the tagger's most expensive step.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Scripts written without spaces between words: an alias in them has no word boundary to check.
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
"""English weekday names, lower case: dates in a sentence, never names (the tagger's and the cue patterns')."""
MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december",
)  # fmt: skip

_UNSPACED_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3000, 0x30FF),  # CJK punctuation, Hiragana, Katakana
    (0x3100, 0x31FF),  # Bopomofo, Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)
# Korean separates words with spaces but glues particles to their end ("조선중앙통신은"): no boundary on the right.
_HANGUL_RANGES = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF))


def _fold_char(char: str) -> str:
    """The folded form of one character (may be empty or longer than one character)."""
    # Compatibility forms first ("𝐀" → "A"), then case, then decompose what case-folding produced ("İ" → "i̇").
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", char).casefold())
    stripped = unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))
    return "".join(c if c.isalnum() else " " for c in stripped)


def _build_tables() -> tuple[dict[int, str], re.Pattern[str], bytes]:
    """Precompute the fold of every BMP character; return the table, the changing-character class, ASCII bytes."""
    table: dict[int, str] = {}
    changing: list[str] = []
    for code in range(0x80, 0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        folded = _fold_char(char)
        if folded != char:
            table[code] = folded
            changing.append(char)
    # ASCII is folded by the byte table; anything outside the BMP is folded character by character (rare: emoji,
    # historic scripts, mathematical letters).
    pattern = re.compile("[" + "".join(re.escape(c) for c in changing) + "\U00010000-\U0010ffff]+")
    ascii_bytes = bytes(ord(c.lower()) if c.isalnum() else 0x20 for c in (chr(b) for b in range(128))) + bytes(
        range(128, 256)
    )
    return table, pattern, ascii_bytes


_FOLD_TABLE, _CHANGING_RUN, _ASCII_FOLD = _build_tables()
# Punctuation common in English copy, replaced as bytes (one character each) so such text stays on the ASCII path.
_COMMON_PUNCTUATION = tuple(c.encode() for c in "’‘“”—–…«»·•\u00a0‐‑„‚′″")


@lru_cache(maxsize=65536)
def _fold_run(run: str) -> tuple[str, tuple[str, ...] | None]:
    """A run's fold, and its characters' folds one by one when some of them changed length (else None).

    Cached: the runs of a language repeat ("ü", "ß", "é"), so most are folded once per process."""
    parts = tuple(_FOLD_TABLE[ord(c)] if ord(c) <= 0xFFFF else _fold_char(c) for c in run)
    return "".join(parts), None if all(len(part) == 1 for part in parts) else parts


def _origins(runs: list[tuple[int, tuple[str, ...]]], length: int) -> tuple[int, ...]:
    """For each folded character, the index of the original character it came from, given the runs that changed
    length (every other character folded to exactly one)."""
    origins: list[int] = []
    position = 0
    for start, replacements in runs:
        origins.extend(range(position, start))
        for offset, replacement in enumerate(replacements):
            origins.extend([start + offset] * len(replacement))
        position = start + len(replacements)
    origins.extend(range(position, length))
    return tuple(origins)


@dataclass(frozen=True, slots=True)
class FoldedText:
    """A text and its folded form; ``original_span`` maps folded offsets back to the original."""

    original: str
    folded: str
    origins: tuple[int, ...] | None = None
    """For each folded character, the index of the original character it came from (None: identical offsets)."""

    @classmethod
    def of(cls, text: str) -> FoldedText:
        data = text.encode("utf-8", "surrogatepass")
        if not data.isascii():
            for punctuation in _COMMON_PUNCTUATION:
                if punctuation in data:
                    data = data.replace(punctuation, b" ")
        # ASCII bytes are folded by the table (case included); other bytes pass, so offsets still match ``text``.
        folded = data.translate(_ASCII_FOLD).decode("utf-8", "surrogatepass")
        if folded.isascii():
            return cls(text, folded)
        pieces: list[str] = []
        resized: list[tuple[int, tuple[str, ...]]] = []
        position = 0
        for run in _CHANGING_RUN.finditer(folded):
            start = run.start()
            replacement, parts = _fold_run(run.group())
            pieces.append(folded[position:start])
            pieces.append(replacement)
            if parts is not None:
                resized.append((start, parts))
            position = run.end()
        pieces.append(folded[position:])
        return cls(text, "".join(pieces), _origins(resized, len(text)) if resized else None)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original ``[start, end)`` that folded ``[start, end)`` (non-empty) came from."""
        if self.origins is None:
            return start, end
        return self.origins[start], self.origins[end - 1] + 1


def fold(text: str) -> str:
    """The matching form of ``text`` (see the module docstring)."""
    return FoldedText.of(text).folded


def fold_keeping_case(text: str) -> str:
    """Like ``fold`` but case-preserving: the comparison form of case-sensitive aliases ("SANA" ≠ "Sana")."""
    return "".join(_keep_case(c) for c in text)


@lru_cache(maxsize=4096)
def _keep_case(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    stripped = unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))
    return "".join(c if c.isalnum() else " " for c in stripped)


def lookup_key(text: str) -> str:
    """A forgiving key for exact look-ups by name: folded, runs of separators collapsed ("Putin,  Vladimir")."""
    return " ".join(fold(text).split())


def _in_ranges(char: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in ranges)


def needs_left_boundary(char: str) -> bool:
    """Whether a word starting with ``char`` must be preceded by a non-letter to count as a whole word."""
    return not _in_ranges(char, _UNSPACED_RANGES)


def needs_right_boundary(char: str) -> bool:
    """Whether a word ending with ``char`` must be followed by a non-letter (not so for CJK, Thai, Korean)."""
    return not (_in_ranges(char, _UNSPACED_RANGES) or _in_ranges(char, _HANGUL_RANGES))


_HANGUL = re.compile("[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in _HANGUL_RANGES) + "]")


def has_hangul(text: str) -> bool:
    """One regular-expression search: the automata ask it of every key (tens of thousands with desk entities)."""
    return _HANGUL.search(text) is not None


def is_all_caps(text: str) -> bool:
    """Written in capitals (acronyms such as "UN", "KCNA"): every letter is a capital, so a name with letters
    that have no case ("조선중앙TV", "RT عربي") is no acronym."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def has_lowercase(text: str) -> bool:
    return any(c.islower() for c in text)

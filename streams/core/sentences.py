"""Sentence and paragraph spans of plain text, for watch scopes and alert evidence.

A deliberately small rule set tuned for news English (and tolerant of other Latin-script languages and of
CJK full stops): a sentence ends at ``.``, ``!``, ``?`` or ``。！？`` followed by space and an upper-case letter,
a quote or a digit — except after common abbreviations, initials and honorifics. Paragraphs are separated by
a blank line or a line break. Spans are ``(start, end)`` offsets into the original string, so mention
offsets from the tagger can be placed without re-normalising anything.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

Span = tuple[int, int]

_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof gen lt col maj capt cmdr adm sgt rep sen gov pres rev st jr sr no vs etc inc ltd co corp
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun u.s u.k u.n e.u a.m p.m dept
    est approx fig""".split()
)
_SENTENCE_START = r"[\"'“‘(\[]?[A-Z0-9À-ÖØ-Þ\u0400-\u042F\u0370-\u03FF\u3040-\u9FFF\uAC00-\uD7AF]"
_BOUNDARY = re.compile(rf"(?P<end>[.!?]+[\"'”’)\]]*)\s+(?={_SENTENCE_START})|(?P<cjk>[。！？]+)")
_PARAGRAPH = re.compile(r"\s*\n\s*")


@dataclass(frozen=True)
class Segments:
    """Sentence and paragraph spans of one text."""

    sentences: tuple[Span, ...]
    paragraphs: tuple[Span, ...]

    def sentence_of(self, offset: int) -> int:
        return _index_of(self.sentences, offset)

    def paragraph_of(self, offset: int) -> int:
        return _index_of(self.paragraphs, offset)


def _index_of(spans: tuple[Span, ...], offset: int) -> int:
    starts = [start for start, _ in spans]
    return max(bisect_right(starts, offset) - 1, 0)


def segment(text: str) -> Segments:
    paragraphs = _paragraph_spans(text)
    sentences: list[Span] = []
    for start, end in paragraphs:
        sentences.extend(_sentence_spans(text, start, end))
    return Segments(tuple(sentences) or ((0, len(text)),), tuple(paragraphs) or ((0, len(text)),))


def _paragraph_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    position = 0
    for match in _PARAGRAPH.finditer(text):
        if match.start() > position:
            spans.append((position, match.start()))
        position = match.end()
    if position < len(text):
        spans.append((position, len(text)))
    return spans


def _sentence_spans(text: str, start: int, end: int) -> list[Span]:
    spans: list[Span] = []
    sentence_start = start
    for match in _BOUNDARY.finditer(text, start, end):
        cut = match.end("end") if match.group("end") else match.end("cjk")
        if cut <= sentence_start or _ends_with_abbreviation(text, sentence_start, match.start()):
            continue
        spans.append((sentence_start, cut))
        sentence_start = _skip_space(text, cut, end)
    if sentence_start < end:
        spans.append((sentence_start, end))
    return spans


def _ends_with_abbreviation(text: str, start: int, dot: int) -> bool:
    if dot >= len(text) or text[dot] != ".":
        return False
    word = text[start:dot].rsplit(None, 1)[-1] if text[start:dot].strip() else ""
    word = word.lstrip("(\"'“‘").lower()
    return (len(word) == 1 and word.isalpha()) or word in _ABBREVIATIONS


def _skip_space(text: str, position: int, end: int) -> int:
    while position < end and text[position].isspace():
        position += 1
    return position

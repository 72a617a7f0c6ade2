"""Story clustering: near-duplicate articles (syndicated copies, the same event from several outlets).

Each article gets a ``StorySignature``: two bottom-k sketches (k smallest 64-bit hashes) over its title and
lead — one of word bigrams (catches syndicated copies and light edits), one of content words without
stop-words (catches rewrites of the same event). Two articles belong to the same story when either
estimated Jaccard similarity reaches its threshold. Sketches are small, order-free and deterministic, so
they travel in messages and tables and give the same answer on every worker.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

from streams.core.models import Article

SKETCH_SIZE = 48
LEAD_WORDS = 60
_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset(
    """a an the and or but of in on at to for from by with as is are was were be been being it its this that these
    those he she they we you i his her their our your not no yes has have had do does did will would can could
    may might shall should than then there here also after before over under about into out up down new says said
    say told tells according report reports reported amid while when where who whom which what why how more most
    other some any all each one two three first last year years day days week weeks month months on monday tuesday
    wednesday thursday friday saturday sunday""".split()
)


@dataclass(frozen=True)
class StorySignature:
    shingles: tuple[int, ...]
    words: tuple[int, ...]


@dataclass(frozen=True)
class SimilarityThresholds:
    shingles: float = 0.5
    words: float = 0.4


def lead_text(article: Article) -> str:
    """Title plus the first words of the summary (or content): what syndicated copies share."""
    body = article.summary or article.content
    return f"{article.title}\n{' '.join(body.split()[:LEAD_WORDS])}"


def _tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).casefold()
    return _WORD.findall("".join(c for c in folded if not unicodedata.combining(c)))


def _hash(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big")


def _bottom_k(items: Iterable[str]) -> tuple[int, ...]:
    return tuple(sorted({_hash(item) for item in items})[:SKETCH_SIZE])


def signature(text: str) -> StorySignature:
    tokens = _tokens(text)
    bigrams = (f"{a} {b}" for a, b in pairwise(tokens))
    content = (t for t in tokens if t not in _STOPWORDS and not t.isdigit())
    return StorySignature(_bottom_k(bigrams), _bottom_k(content))


def article_signature(article: Article) -> StorySignature:
    return signature(lead_text(article))


def sketch_jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    """Jaccard similarity of two sketches (exact while texts are shorter than the sketch, as leads usually are)."""
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared) if shared else 0.0


@dataclass(frozen=True)
class SketchSets:
    """A signature as sets, computed once per story so comparing against many stories stays cheap."""

    shingles: frozenset[int]
    words: frozenset[int]

    @classmethod
    def of(cls, sig: StorySignature) -> SketchSets:
        return cls(frozenset(sig.shingles), frozenset(sig.words))

    def is_same_story(self, other: SketchSets, thresholds: SimilarityThresholds) -> bool:
        return (
            sketch_jaccard(self.shingles, other.shingles) >= thresholds.shingles
            or sketch_jaccard(self.words, other.words) >= thresholds.words
        )


def is_same_story(a: StorySignature, b: StorySignature, thresholds: SimilarityThresholds) -> bool:
    return SketchSets.of(a).is_same_story(SketchSets.of(b), thresholds)


def story_key(sig: StorySignature) -> str:
    """A content-derived id: exact syndicated copies get the same story id whichever copy comes first."""
    digest = hashlib.blake2b(repr((sig.shingles, sig.words)).encode(), digest_size=10).hexdigest()
    return f"s-{digest}"

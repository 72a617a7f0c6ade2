"""A deterministic synthetic news corpus for benchmarks and reliability tests.

Articles are ~3 KB of news-like English. A known share are stories that name a watched pair in one sentence;
stories can be syndicated (identical title and lead under several outlets, as wire copy is), so the story
clustering and the one-alert-per-story rule are exercised. Same seed, same corpus — on every machine.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import blake2b

from streams.core.models import Article, Source

PAIR_PEOPLE = (("Kim Jong Un", "Vladimir Putin"), ("Vladimir Putin", "Xi Jinping"), ("Xi Jinping", "Kim Jong Un"))
OTHER_PEOPLE = ("Antonio Guterres", "Emmanuel Macron", "Olaf Scholz", "Narendra Modi", "Recep Tayyip Erdogan")
PLACES = ("Pyongyang", "Moscow", "Beijing", "Geneva", "Vienna", "Astana", "Seoul", "Tokyo", "Brussels", "Hanoi")
OUTLETS = tuple(f"Outlet {name}" for name in ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"))
_SYLLABLES = ("ka", "ro", "ven", "tas", "mi", "dor", "lu", "zen", "pa", "gor", "shi", "an", "bel", "ku", "tri", "ox")
_COMMON_WORDS = (
    "the of and to in a that is was for on with as by it at from his her their said would have has been were "
    "which after but not be are this also they had more than its about over into who new two first last other "
    "some when there will while people year since during under then them those could through between"
).split()
_VOCABULARY = (
    "officials talks agreement ministry statement security council trade energy pipeline sanctions delegation "
    "summit cooperation military exercise border negotiations economy investment reactor missile launch treaty "
    "parliament election coalition budget inflation currency exports grain shipment port harbour railway bridge "
    "drone satellite cyber network hackers court ruling protest rally police minister spokesman envoy embassy "
    "visit proposal framework timetable observers inspectors report analysts market oil gas prices"
).split()


@dataclass(frozen=True)
class CorpusSpec:
    count: int = 20_000
    pair_share: float = 0.1
    """Share of *stories* that name a watched pair in one sentence."""
    syndication: int = 3
    """Copies of each syndicated pair story (same title and lead, different outlets)."""
    syndicated_share: float = 0.3
    body_words: int = 520
    seed: int = 20261127
    spacing_s: float = 1.0
    """Fetch-time gap between consecutive articles (story windows and cooldowns use fetch time)."""


def synthetic_corpus(spec: CorpusSpec, start: datetime) -> Iterator[Article]:
    rng = random.Random(spec.seed)  # noqa: S311 - reproducible test data, not secrets
    produced = 0
    story = 0
    while produced < spec.count:
        story += 1
        pair = rng.choice(PAIR_PEOPLE) if rng.random() < spec.pair_share else None
        copies = spec.syndication if pair is not None and rng.random() < spec.syndicated_share else 1
        title, lead = _story_text(rng, story, pair)
        body = _filler(rng, spec.body_words)
        for copy in range(min(copies, spec.count - produced)):
            outlet = OUTLETS[(story + copy) % len(OUTLETS)]
            url = f"https://{outlet.split()[1].lower()}.example/news/{story}-{copy}"
            yield Article(
                id=blake2b(url.encode(), digest_size=16).hexdigest(),
                url=url,
                title=title,
                summary=lead,
                content=f"{lead}\n\n{body}",
                published=start + timedelta(seconds=produced * spec.spacing_s - 60),
                fetched=start + timedelta(seconds=produced * spec.spacing_s),
                language="en",
                source=Source(
                    feed_url=f"https://{outlet.split()[1].lower()}.example/rss",
                    name=outlet,
                    domain=f"{outlet.split()[1].lower()}.example",
                ),
            )
            produced += 1


def _story_text(rng: random.Random, story: int, pair: tuple[str, str] | None) -> tuple[str, str]:
    """Title and lead; invented story-specific words keep distinct stories far apart for the clustering."""
    place = rng.choice(PLACES)
    coined = " ".join(_coined_word(rng) for _ in range(10))
    topic = " ".join(rng.choice(_VOCABULARY) for _ in range(2))
    if pair is None:
        person = rng.choice(OTHER_PEOPLE)
        return f"{person} on {coined} in {place}", f"{person} said in {place} on Monday that {topic} {coined} mattered."
    first, second = pair
    return f"{first} and {second} on {coined}", f"{first} met {second} in {place} to discuss {topic} and {coined}."


def _coined_word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def _filler(rng: random.Random, count: int) -> str:
    """Body text with news words among the small words that make up most of real prose (about one in four)."""
    sentences, sentence = [], []
    for _ in range(count):
        sentence.append(rng.choice(_VOCABULARY) if rng.random() < 0.25 else rng.choice(_COMMON_WORDS))
        if len(sentence) >= rng.randint(12, 22):
            sentences.append(" ".join(sentence).capitalize() + ".")
            sentence = []
    return " ".join(sentences)

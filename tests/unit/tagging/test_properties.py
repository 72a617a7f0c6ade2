"""Properties of ``Tagger.tag`` over generated articles: deterministic, independent of the order of the
registry's entries and aliases, every offset slices to its evidence text, and the output is a valid wire message."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.core.matcher import field_text
from streams.core.models import Article, Source, TaggedArticle
from streams.core.registry import ActorIndex, OutletIndex, Registries
from streams.core.tagger import Tagger

FRAGMENTS = [
    "Kim Jong Un", "Kim", "Kim Yo Jong", "Kim Kardashian", "Xi Jinping", "President Xi", "Xi'an", "Putin",
    "Wladimir Putin", "Путин", "the Kremlin", "Pyongyang", "Russian", "North Korean leader", "the Russian president",
    "KCNA", "said", "reported", "according to", "China's Xinhua", "told TASS", "RT", "SANA", "Sana'a", "Syria",
    "material", "state media", "Chinese state media warned", "the agency said", "(KCNA) --", "Photograph: A/TASS",
    "via REUTERS", "Source: Xinhua", "sanctions", "missile test", "조선중앙통신이 보도했다", "据新华社报道", "—", "’s",
    ",", ".", "\n", " ", "ß", "Ｋｉｍ", "é",
]  # fmt: skip
texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=25).map(" ".join)


def article(title: str, summary: str, content: str, credits: list[str]) -> Article:
    return Article(
        id="p",
        url="https://news.example/p",
        title=title,
        summary=summary,
        content=content,
        fetched=datetime(2026, 11, 27, tzinfo=UTC),
        language="en",
        source=Source(feed_url="https://news.example/rss", name="Example", domain="news.example"),
        credits=tuple(credits),
    )


articles = st.builds(article, texts, texts, texts, st.lists(texts, max_size=3))


def shuffled(registries: Registries, seed: int) -> Registries:
    """The same registries with every list of names, and the entries themselves, in another order."""
    rng = random.Random(seed)

    def mixed(items: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(rng.sample(items, len(items)))

    actors = [
        replace(a, aliases=mixed(a.aliases), short=mixed(a.short), titles=mixed(a.titles)) for a in registries.actors
    ]
    outlets = [replace(o, aliases=mixed(o.aliases), short=mixed(o.short)) for o in registries.outlets]
    rng.shuffle(actors)
    rng.shuffle(outlets)
    state_media = {o.country: o.id for o in outlets if o.is_generic and o.country}
    return replace(
        registries,
        actors=ActorIndex(actors),
        outlets=OutletIndex(outlets, state_media),
        topics=tuple(rng.sample(registries.topics, len(registries.topics))),
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(articles)
def test_offsets_slice_to_the_evidence_and_output_round_trips(test_tagger: Tagger, item: Article) -> None:
    tagged = test_tagger.tag(item)
    spans = [m for a in tagged.actors for m in a.mentions] + [e for c in tagged.state_media.cited for e in c.evidence]
    for mention in spans:
        assert field_text(tagged, mention.field)[mention.start : mention.end] == mention.text
        assert mention.text.strip()
    assert TaggedArticle.from_wire(tagged.to_json()) == tagged
    assert test_tagger.tag(item) == tagged


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(articles, st.integers(min_value=0, max_value=10_000))
def test_output_does_not_depend_on_registry_order(test_tagger: Tagger, item: Article, seed: int) -> None:
    reordered = Tagger(shuffled(test_tagger.registries, seed), test_tagger.language_detector, test_tagger.name_forms)
    assert reordered.tag(item) == test_tagger.tag(item)

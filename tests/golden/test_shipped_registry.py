"""The shipped registries on ordinary English: common words that happen to be (folded) names tag nobody.

Written for this test: everyday sentences full of words that are also country names in other languages,
surnames or places inside longer names. A failure names the actor and the words that matched.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from streams.core.models import Article, Source
from streams.core.tagger import Tagger
from streams.infra.registry_files import shipped_tagger as build_shipped_tagger

EVERYDAY = [
    "The island of Upolu hosted the talks, and small island states asked for climate finance.",
    "A guinea pig escaped from the school in New Mexico; the turkey dinner went ahead anyway.",
    "Volunteers in Northern Ireland planted a hedge of china roses beside the new chapel.",
    "The jordan almonds and the chad of the punched ballots were swept up after the count.",
    "She wore a georgia peach dress and read about the Niger Delta and Latin American music.",
    "Let us know what you think, and join us at the fair: all of us will be there.",
]


@pytest.fixture(scope="module")
def shipped_tagger() -> Tagger:
    return build_shipped_tagger()


@pytest.mark.parametrize("sentence", EVERYDAY)
def test_everyday_words_tag_no_country_or_person(shipped_tagger: Tagger, sentence: str) -> None:
    article = Article(
        id="everyday",
        url="https://example.org/everyday",
        title="",
        content=sentence,
        fetched=datetime(2026, 11, 27, tzinfo=UTC),
        language="en",
        source=Source(feed_url="https://example.org/rss", name="Example", domain="example.org"),
    )
    found = {a.name: [m.text for m in a.mentions] for a in shipped_tagger.tag(article).actors}
    assert found == {}

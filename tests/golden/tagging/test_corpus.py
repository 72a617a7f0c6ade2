"""The tagger on real feeds in ../shared/corpus (skipped when absent): the cases NOTES.md lists must be found."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams.core.models import TaggedArticle
from streams.core.tagger import Tagger
from streams.infra.registry_files import shipped_tagger as build_shipped_tagger
from streams.tools.bench.accuracy import default_corpus_dir, feed_articles, kcna_articles

CORPUS = default_corpus_dir()
pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not (CORPUS / "feeds").is_dir(), reason=f"no corpus at {CORPUS}"),
]


@pytest.fixture(scope="module")
def shipped_tagger() -> Tagger:
    return build_shipped_tagger()


@pytest.fixture(scope="module")
def feeds(shipped_tagger: Tagger) -> list[TaggedArticle]:
    return [shipped_tagger.tag(article) for _, article in feed_articles(CORPUS / "feeds")]


def citations(items: list[TaggedArticle]) -> Iterator[tuple[str, str, str]]:
    for item in items:
        for citation in item.state_media.cited:
            yield citation.id, citation.role, item.title


def test_every_kcna_dispatch_is_published_and_datelined_by_kcna(shipped_tagger: Tagger) -> None:
    tagged = [shipped_tagger.tag(a) for _, a in kcna_articles(CORPUS / "kcna_dispatches_sample.jsonl")]
    assert len(tagged) == 80
    for item in tagged:
        assert item.state_media.publisher is not None
        assert item.state_media.publisher.id == "kcna"
        assert ("kcna", "dateline") in {(c.id, c.role) for c in item.state_media.cited}
        assert item.state_media.state_sourced


def test_no_ria_novosti_in_words_like_syria_or_material(feeds: list[TaggedArticle]) -> None:
    assert len(feeds) == 345
    assert not [title for outlet, _, title in citations(feeds) if outlet == "ria_novosti"]
    assert not [item.title for item in feeds for actor in item.actors if actor.id == "ria_novosti"]


def test_the_unnamed_state_media_of_three_countries_are_found(feeds: list[TaggedArticle]) -> None:
    found = {(outlet, role) for outlet, role, _ in citations(feeds)}
    assert {
        ("kp_state_media", "descriptor"),
        ("cn_state_media", "descriptor"),
        ("ir_state_media", "descriptor"),
    } <= found


def test_state_media_photo_credits_are_not_sourcing(feeds: list[TaggedArticle]) -> None:
    credited = [i for i in feeds if {("kcna", "photo_credit"), ("tass", "photo_credit")} & _roles(i)]
    assert len(credited) >= 2
    assert all(not item.state_media.state_sourced for item in credited)


def _roles(item: TaggedArticle) -> set[tuple[str, str]]:
    return {(c.id, c.role) for c in item.state_media.cited}

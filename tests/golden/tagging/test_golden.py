"""Golden tagging cases (``cases.yaml``): articles written for these tests and the tags they must get."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.core.matcher import field_text
from streams.core.models import Article, Source, TaggedArticle
from streams.core.tagger import Tagger

CASES = yaml.safe_load((Path(__file__).parent / "cases.yaml").read_text(encoding="utf-8"))["cases"]


def article_of(spec: dict[str, Any]) -> Article:
    published = spec.get("published")
    return Article(
        id="golden",
        url=spec.get("url", "https://news.example/world/1"),
        title=spec.get("title", ""),
        summary=spec.get("summary", ""),
        content=spec.get("content", ""),
        published=published,
        fetched=datetime(2026, 11, 27, 8, 0, tzinfo=UTC),
        language=spec.get("language", "en" if "language" not in spec.get("expect", {}) else None),
        source=Source(
            feed_url="https://news.example/rss",
            name="Example News",
            domain=spec.get("domain", "news.example"),
            outlet=spec.get("outlet"),
        ),
        credits=tuple(spec.get("credits", ())),
    )


@pytest.fixture(scope="module")
def tagged(test_tagger: Tagger) -> dict[str, TaggedArticle]:
    results = {}
    for case in CASES:
        spec = dict(case["article"])
        if "language" in case["expect"]:
            spec.setdefault("expect", case["expect"])
        results[case["name"]] = test_tagger.tag(article_of(spec))
    return results


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden_case(case: dict[str, Any], tagged: dict[str, TaggedArticle]) -> None:
    result = tagged[case["name"]]
    expect = case["expect"]
    actors = {a.id: a for a in result.actors}
    for actor_id in expect.get("actors", []):
        assert actor_id in actors, f"{actor_id} not tagged; got {sorted(actors)}"
    for actor_id in expect.get("absent", []):
        assert actor_id not in actors, f"{actor_id} tagged from {[m.text for m in actors[actor_id].mentions]}"
    for actor_id, texts in expect.get("mentions", {}).items():
        assert [m.text for m in actors[actor_id].mentions] == texts
    cited = {(c.id, c.role) for c in result.state_media.cited if c.role != "publisher"}
    if "cited" in expect:
        assert cited == {tuple(pair) for pair in expect["cited"]}
    for outlet_id, evidence in expect.get("evidence", {}).items():
        found = {(e.field, e.text) for c in result.state_media.cited if c.id == outlet_id for e in c.evidence}
        for item in evidence:
            assert (item["field"], item["text"]) in found, f"{item} not in {found}"
    if "publisher" in expect:
        publisher = result.state_media.publisher
        assert (publisher.id if publisher else None) == expect["publisher"]
    if "state_sourced" in expect:
        assert result.state_media.state_sourced is expect["state_sourced"]
    topics = {t.id for t in result.topics}
    assert set(expect.get("topics", [])) <= topics, f"topics {sorted(topics)}"
    assert not set(expect.get("no_topics", [])) & topics
    if "language" in expect:
        assert result.language == expect["language"]


def test_every_evidence_span_slices_to_its_text(tagged: dict[str, TaggedArticle]) -> None:
    for result in tagged.values():
        spans = [m for a in result.actors for m in a.mentions]
        spans += [e for c in result.state_media.cited for e in c.evidence]
        for mention in spans:
            assert field_text(result, mention.field)[mention.start : mention.end] == mention.text


def test_topics_carry_their_evidence(tagged: dict[str, TaggedArticle]) -> None:
    topics = {t.id: t for t in tagged["topics_with_evidence"].topics}
    assert topics["sanctions"].evidence == ("sanctions", "asset freeze")
    assert topics["sanctions"].score == pytest.approx(2 * 1.5 + 2.5)
    assert "missile test" in topics["missile_tests"].evidence

"""Wire contracts: round trips, poison detection, and the committed JSON Schemas stay current."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest

from streams.core.models import Article, Source, Watch, WireError
from streams.tools.schemas import SCHEMA_DIR, contract_schemas, stale_schemas


def _article() -> Article:
    return Article(
        id="a1",
        url="https://example.org/a",
        title="Title",
        fetched=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        source=Source(feed_url="https://example.org/rss", name="Example", domain="example.org"),
        credits=("KCNA via Reuters",),
    )


def test_article_round_trips_through_json() -> None:
    article = _article()
    wire = article.to_json()
    assert Article.from_wire(wire) == article
    assert json.loads(wire)["fetched"] == "2026-01-02T03:04:05Z"
    assert json.loads(wire)["schema_version"] == 2


def test_a_version_1_article_is_still_read_as_feed_text() -> None:
    """Records written before full text stay on articles.raw through an upgrade and must still be tagged."""
    data = _article().to_wire() | {"schema_version": 1}
    del data["content_source"], data["byline"]
    article = Article.from_wire(data)
    assert (article.schema_version, article.content_source, article.byline) == (1, "feed", None)


def test_contracts_that_did_not_change_stay_at_version_1() -> None:
    with pytest.raises(WireError, match=r"unsupported schema_version 2 \(this build reads 1\)"):
        Watch.from_wire({"schema_version": 2, "watch_id": "w", "desk": "d", "entities": ["Q1", "Q2"]})


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"not json", "Invalid JSON"),
        (b"{}", "Field required"),
        (b'{"id": "x", "url": "u", "fetched": "2026-01-01T00:00:00", "source": {}}', "fetched"),
        (b"[1, 2]", "should be an object"),
    ],
)
def test_poison_payloads_raise_one_line_wire_errors(payload: bytes, fragment: str) -> None:
    with pytest.raises(WireError, match=fragment) as info:
        Article.from_wire(payload)
    assert "\n" not in str(info.value)


def test_future_schema_version_is_refused() -> None:
    data = _article().to_wire() | {"schema_version": 99}
    with pytest.raises(WireError, match="unsupported schema_version 99"):
        Article.from_wire(data)


def test_unknown_fields_are_ignored() -> None:
    data = _article().to_wire() | {"something_new": 1}
    assert Article.from_wire(data) == _article()


def test_watch_needs_two_different_entities() -> None:
    with pytest.raises(WireError, match="two different entities"):
        Watch.from_wire({"watch_id": "w", "desk": "d", "entities": ["Q1", "Q1"]})


def test_wire_output_validates_against_the_committed_schema() -> None:
    schema = json.loads((SCHEMA_DIR / "article.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(_article().to_wire())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate({"id": "x"})


def test_committed_schemas_match_the_models() -> None:
    assert stale_schemas() == []
    assert set(contract_schemas()) == {p.stem for p in SCHEMA_DIR.glob("*.json")}


def test_decoding_returns_the_value_or_the_reason_as_a_value() -> None:
    from streams.core.models import Article, WireError, decode

    broken = decode(Article, b'{"id": 5')
    assert isinstance(broken, WireError)
    assert str(broken).startswith("not a valid Article")
    assert isinstance(decode(Article, None), WireError)

"""Tagging fixtures: a tagger over the test actor registry and the shipped outlets and topics.

The test actors (``tests/golden/tagging/registry/actors-test.yaml``) are written for the tests and stay stable
whatever happens to the shipped actor files; outlets and topics are the shipped ones (the tagging engine's own).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from streams.core.models import Article, Source
from streams.core.registry import Registries
from streams.core.tagger import Tagger
from streams.infra.registry_files import load_registries, shipped_tagger
from streams.registry import DATA_DIR

TEST_ACTORS = Path(__file__).parents[1] / "golden" / "tagging" / "registry" / "actors-test.yaml"


@pytest.fixture(scope="session")
def test_registries() -> Registries:
    return load_registries(paths=[TEST_ACTORS, DATA_DIR / "outlets.yaml", DATA_DIR / "topics.yaml"])


@pytest.fixture(scope="session")
def test_tagger(test_registries: Registries) -> Tagger:
    return shipped_tagger(test_registries)


def article_with(content: str) -> Article:
    """An article whose only text is ``content``, fetched on a fixed day."""
    return Article(
        id="x",
        url="https://example.invalid/x",
        content=content,
        fetched=datetime(2026, 12, 1, tzinfo=UTC),
        source=Source(feed_url="https://example.invalid/feed", name="test", domain="example.invalid"),
    )

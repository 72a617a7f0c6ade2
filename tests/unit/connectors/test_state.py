"""The SQLite state: feed states round-trip, seen articles de-duplicate across feeds, GUIDs and restarts."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.core.normalize import FeedEntry
from connectors.core.schedule import FeedState, Validators
from connectors.core.urls import article_id_for_url
from connectors.state import StateStore, default_state_path
from streams.core.models import Article, Source
from streams.infra.settings import load_settings

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _entry(url: str, feed: str = "https://a.example/rss", guid: str | None = None) -> FeedEntry:
    article = Article(
        id=article_id_for_url(url), url=url, fetched=NOW, source=Source(feed_url=feed, name="A", domain="a.example")
    )
    return FeedEntry(article=article, guid=guid)


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "state.sqlite3")


def test_feed_states_round_trip_through_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    state = FeedState(
        url="https://a.example/rss",
        validators=Validators('"e1"', "Sun, 01 Mar 2026 10:00:00 GMT", "abc"),
        next_poll=NOW + timedelta(minutes=7),
        entry_rate=0.002,
        consecutive_failures=2,
        paused_reason="5 consecutive failures, last timeout",
        pauses=1,
        last_polled=NOW,
        last_success=NOW - timedelta(hours=1),
        last_error="timeout: slow",
    )
    first = StateStore(path)
    first.commit([state], [], NOW)
    first.close()
    again = StateStore(path)
    loaded = again.feed_states(["https://a.example/rss", "https://new.example/rss"])
    assert loaded["https://a.example/rss"] == state
    assert loaded["https://new.example/rss"] == FeedState(url="https://new.example/rss")
    assert again.path == path


def test_seen_articles_are_skipped_across_polls_feeds_and_restarts(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = StateStore(path)
    fresh, duplicates = store.unseen([_entry("https://a.example/1"), _entry("https://a.example/2")])
    assert (len(fresh), duplicates) == (2, 0)
    store.commit([], fresh, NOW)
    store.close()

    restarted = StateStore(path)
    other_feed = _entry("https://a.example/1", feed="https://b.example/rss")
    fresh, duplicates = restarted.unseen([other_feed, _entry("https://a.example/3")])
    assert [e.article.url for e in fresh] == ["https://a.example/3"]
    assert duplicates == 1


def test_a_known_guid_in_the_same_feed_is_a_duplicate_even_when_the_link_changed(store: StateStore) -> None:
    store.commit([], [_entry("https://a.example/story-v1", guid="g-1")], NOW)
    moved = _entry("https://a.example/story-v2", guid="g-1")
    same_guid_elsewhere = _entry("https://a.example/story-v3", feed="https://b.example/rss", guid="g-1")
    fresh, duplicates = store.unseen([moved, same_guid_elsewhere])
    assert fresh == [same_guid_elsewhere]
    assert duplicates == 1


def test_duplicates_inside_one_batch_are_produced_once(store: StateStore) -> None:
    fresh, duplicates = store.unseen(
        [_entry("https://a.example/1"), _entry("https://a.example/1", feed="https://b.example/rss")]
    )
    assert len(fresh) == 1
    assert duplicates == 1


def test_nothing_is_marked_seen_until_commit(store: StateStore) -> None:
    entries = [_entry("https://a.example/1")]
    store.unseen(entries)
    assert store.seen_count() == 0
    store.commit([], entries, NOW)
    store.commit([], entries, NOW)  # a re-commit after a crash window is harmless
    assert store.seen_count() == 1


def test_a_failed_commit_leaves_nothing_behind(store: StateStore) -> None:
    url = "https://ok.example/rss"

    def produced_then_crash() -> Iterator[FeedEntry]:
        yield _entry("https://a.example/1")
        raise RuntimeError("crash in the middle of the commit")

    with pytest.raises(RuntimeError):
        store.commit([FeedState(url=url, last_polled=NOW)], produced_then_crash(), NOW)
    assert store.feed_states([url])[url] == FeedState(url=url)
    assert store.seen_count() == 0


def test_the_default_state_path_is_per_prefix(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path, topic_prefix="desk1")
    assert default_state_path(settings) == tmp_path / "connector" / "desk1.sqlite3"


def test_queued_articles_are_seen_and_kept_whole_across_a_restart_until_finished(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    direct, queued = _entry("https://a.example/1"), _entry("https://a.example/2", guid="g2")
    store = StateStore(path)
    store.commit([], [direct], NOW, queued=[queued])
    store.close()

    store = StateStore(path)
    assert [(q.article, q.queued_at) for q in store.queued_pages()] == [(queued.article, NOW)]
    assert store.unseen([direct, queued]) == ([], 2)  # a queued article is not queued again
    canonical = queued.article.model_copy(update={"id": article_id_for_url("https://a.example/two")})
    store.finish_pages([queued.article.id], [canonical], NOW)
    assert store.queued_pages() == []
    assert store.is_seen(canonical.id)  # the page's canonical id de-duplicates the next feed that links it
    store.close()


def test_a_version_1_state_file_gains_the_page_queue(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE seen (article_id TEXT PRIMARY KEY, canonical_url TEXT NOT NULL, feed_url TEXT NOT NULL,"
            " guid TEXT, first_seen TEXT NOT NULL); PRAGMA user_version=1;"
        )
        db.execute("INSERT INTO seen VALUES ('old', 'https://a.example/old', 'https://a.example/rss', NULL, 'x')")
    db.close()
    store = StateStore(path)
    assert store.is_seen("old")
    assert store.queued_pages() == []
    store.close()


def test_the_page_queue_gives_its_ids_cheaply_and_the_articles_of_chosen_ids(store: StateStore) -> None:
    """The page stage reads the ids on every pass and parses only the articles it has not seen yet."""
    entries = [_entry(f"https://a.example/{n}") for n in range(3)]
    store.commit([], [], NOW, queued=entries[:2])
    assert store.queued_page_ids() == {e.article.id for e in entries[:2]}
    store.finish_pages([entries[0].article.id], [entries[0].article], NOW)
    store.commit([], [], NOW, queued=entries[2:])
    chosen = store.queued_pages(only={entries[2].article.id})
    assert [q.article for q in chosen] == [entries[2].article]
    assert store.queued_count() == 2

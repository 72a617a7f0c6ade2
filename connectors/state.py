"""The connector's memory in one SQLite file (WAL): per-feed state, every article already produced, the
articles waiting for their pages, and the feeds' WebSub subscriptions (with their secrets).

The seen table is what makes de-duplication hold across re-polls, across feeds (same canonical URL ⇒
same id) and across restarts. It is written only *after* the producer flushed, in the same transaction
as the feed states, so a crash never marks an unsent article as seen. An article whose page is to be
fetched is marked seen in that same transaction and written, whole, to ``page_queue``: from then on the
queue row is the article's only copy, removed only after the producer flushed the article (with its page's
text or without it), so a crash while a page is fetched loses nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from connectors.core.normalize import FeedEntry
from connectors.core.schedule import FeedState, Validators
from connectors.core.websub import Status, Subscription
from streams.core.models import Article
from streams.infra.settings import Settings

_SCHEMA_VERSION = 3
_READABLE_VERSIONS = (0, 1, 2, _SCHEMA_VERSION)  # 0: a new file; 1 had no page_queue, 2 no websub (created below)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feed_state (
    url TEXT PRIMARY KEY,
    etag TEXT, last_modified TEXT, content_hash TEXT,
    next_poll TEXT, entry_rate REAL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    paused_reason TEXT, pauses INTEGER NOT NULL DEFAULT 0,
    last_polled TEXT, last_success TEXT, last_error TEXT
);
CREATE TABLE IF NOT EXISTS seen (
    article_id TEXT PRIMARY KEY,
    canonical_url TEXT NOT NULL,
    feed_url TEXT NOT NULL,
    guid TEXT,
    first_seen TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS seen_by_feed_guid ON seen (feed_url, guid);
CREATE TABLE IF NOT EXISTS page_queue (
    article_id TEXT PRIMARY KEY,
    article TEXT NOT NULL,
    queued_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS websub (
    feed_url TEXT PRIMARY KEY,
    hub TEXT NOT NULL, topic TEXT NOT NULL,
    callback_id TEXT NOT NULL UNIQUE, secret TEXT NOT NULL,
    status TEXT NOT NULL, requested_at TEXT NOT NULL,
    verified_at TEXT, lease_s INTEGER,
    failures INTEGER NOT NULL DEFAULT 0, retry_at TEXT, last_error TEXT
);
"""
# The column order of websub rows, shared by _row_from_subscription and _subscription_from_row.
_SELECT_SUBSCRIPTIONS = """
SELECT feed_url, hub, topic, callback_id, secret, status, requested_at, verified_at, lease_s, failures, retry_at,
       last_error
FROM websub ORDER BY feed_url
"""
_UPSERT_SUBSCRIPTION = """
INSERT OR REPLACE INTO websub (
    feed_url, hub, topic, callback_id, secret, status, requested_at, verified_at, lease_s, failures, retry_at,
    last_error
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
# The column order of feed_state rows, shared by _row_from_state and _state_from_row.
_SELECT_STATES = """
SELECT url, etag, last_modified, content_hash, next_poll, entry_rate, consecutive_failures,
       paused_reason, pauses, last_polled, last_success, last_error
FROM feed_state
"""
_UPSERT_STATE = """
INSERT OR REPLACE INTO feed_state (
    url, etag, last_modified, content_hash, next_poll, entry_rate, consecutive_failures,
    paused_reason, pauses, last_polled, last_success, last_error
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

_INSERT_SEEN = (
    "INSERT OR IGNORE INTO seen (article_id, canonical_url, feed_url, guid, first_seen) VALUES (?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class QueuedPage:
    article: Article
    """The article as the feed gave it (its text is the fallback when the page cannot be had)."""
    queued_at: datetime


def default_state_path(settings: Settings) -> Path:
    return settings.home / "connector" / f"{settings.topic_prefix}.sqlite3"


class StateStore:
    """Feed states and seen articles; one writer (the connector process) at a time."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version not in _READABLE_VERSIONS:
            raise sqlite3.DatabaseError(f"{path} has state schema {version}; this build reads {_SCHEMA_VERSION}")
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")

    def close(self) -> None:
        self._db.close()

    def feed_states(self, urls: Iterable[str]) -> dict[str, FeedState]:
        """The stored state of each URL; a URL never polled gets a fresh state (due now)."""
        wanted = list(urls)
        stored = {}
        with closing(self._db.execute(_SELECT_STATES)) as rows:
            for row in rows:
                stored[row[0]] = _state_from_row(row)
        return {url: stored.get(url, FeedState(url=url)) for url in wanted}

    def unseen(self, entries: Sequence[FeedEntry]) -> tuple[list[FeedEntry], int]:
        """The entries not produced before (by id, or by GUID within their feed), and how many were seen."""
        fresh: list[FeedEntry] = []
        batch_ids: set[str] = set()
        batch_guids: set[tuple[str, str]] = set()
        for entry in entries:
            article = entry.article
            guid_key = (article.source.feed_url, entry.guid) if entry.guid else None
            if article.id in batch_ids or (guid_key is not None and guid_key in batch_guids) or self._seen(entry):
                continue
            batch_ids.add(article.id)
            if guid_key is not None:
                batch_guids.add(guid_key)
            fresh.append(entry)
        return fresh, len(entries) - len(fresh)

    def _seen(self, entry: FeedEntry) -> bool:
        by_id = self._db.execute("SELECT 1 FROM seen WHERE article_id = ?", (entry.article.id,)).fetchone()
        if by_id is not None or entry.guid is None:
            return by_id is not None
        by_guid = self._db.execute(
            "SELECT 1 FROM seen WHERE feed_url = ? AND guid = ?", (entry.article.source.feed_url, entry.guid)
        ).fetchone()
        return by_guid is not None

    def commit(
        self,
        states: Iterable[FeedState],
        produced: Iterable[FeedEntry],
        now: datetime,
        queued: Sequence[FeedEntry] = (),
    ) -> None:
        """Store feed states, mark ``produced`` and ``queued`` as seen and queue ``queued`` for their pages,
        atomically. Call only after the producer flushed ``produced``."""
        with self._transaction():
            self._db.executemany(
                _UPSERT_STATE,
                [_row_from_state(state) for state in states],
            )
            self._mark_seen([(e.article, e.guid) for e in (*produced, *queued)], now)
            self._db.executemany(
                "INSERT OR REPLACE INTO page_queue (article_id, article, queued_at) VALUES (?, ?, ?)",
                [(e.article.id, e.article.to_json().decode(), _iso(now)) for e in queued],
            )

    def queued_pages(self, only: Iterable[str] | None = None) -> list[QueuedPage]:
        """The articles waiting for their pages (``only`` those ids, when given), oldest first."""
        query = "SELECT article, queued_at FROM page_queue"
        parameters: tuple[str, ...] = ()
        if only is not None:  # one JSON parameter, however many ids (SQLite caps bound variables)
            query += " WHERE article_id IN (SELECT value FROM json_each(?))"
            parameters = (json.dumps(sorted(only)),)
        with closing(self._db.execute(query + " ORDER BY queued_at, article_id", parameters)) as rows:
            return [QueuedPage(Article.from_wire(article), datetime.fromisoformat(at)) for article, at in rows]

    def queued_page_ids(self) -> set[str]:
        """The ids on the page queue: cheap to read on every pass (no article is parsed)."""
        with closing(self._db.execute("SELECT article_id FROM page_queue")) as rows:
            return {article_id for (article_id,) in rows}

    def queued_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM page_queue").fetchone()[0])

    def finish_pages(self, queue_ids: Iterable[str], produced: Iterable[Article], now: datetime) -> None:
        """Take ``queue_ids`` off the page queue and mark ``produced`` (some under their pages' canonical ids)
        as seen, atomically. Call only after the producer flushed ``produced``."""
        with self._transaction():
            self._mark_seen([(article, None) for article in produced], now)
            self._db.executemany("DELETE FROM page_queue WHERE article_id = ?", [(i,) for i in queue_ids])

    def is_seen(self, article_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM seen WHERE article_id = ?", (article_id,)).fetchone() is not None

    def _mark_seen(self, articles: Sequence[tuple[Article, str | None]], now: datetime) -> None:
        self._db.executemany(_INSERT_SEEN, [(a.id, a.url, a.source.feed_url, guid, _iso(now)) for a, guid in articles])

    def recent_produced(self, feed_url: str, limit: int) -> list[tuple[str, str, str | None]]:
        """(article id, URL, GUID) of the feed's entries produced most recently, newest first (an entry still
        waiting for its page is not produced yet)."""
        query = """
            SELECT article_id, canonical_url, guid FROM seen
            WHERE feed_url = ? AND article_id NOT IN (SELECT article_id FROM page_queue)
            ORDER BY first_seen DESC, article_id LIMIT ?
        """
        with closing(self._db.execute(query, (feed_url, limit))) as rows:
            return [(str(a), str(u), None if g is None else str(g)) for a, u, g in rows]

    def adopt(self, state: FeedState, produced: Iterable[tuple[str, str, str | None]], now: datetime) -> None:
        """Take over a feed's state from its previous owner: its state, and its produced entries as seen."""
        with self._transaction():
            self._db.execute(_UPSERT_STATE, _row_from_state(state))
            self._db.executemany(
                _INSERT_SEEN, [(article_id, url, state.url, guid, _iso(now)) for article_id, url, guid in produced]
            )

    def subscriptions(self) -> list[Subscription]:
        with closing(self._db.execute(_SELECT_SUBSCRIPTIONS)) as rows:
            return [_subscription_from_row(row) for row in rows]

    def save_subscription(self, sub: Subscription) -> None:
        self._db.execute(_UPSERT_SUBSCRIPTION, _row_from_subscription(sub))

    def forget_subscription(self, feed_url: str) -> None:
        self._db.execute("DELETE FROM websub WHERE feed_url = ?", (feed_url,))

    def poll_soon(self, url: str, at: datetime) -> None:
        """Bring the feed's next poll forward to ``at`` (its hub stopped pushing: back to its normal schedule)."""
        self._db.execute(
            "UPDATE feed_state SET next_poll = ? WHERE url = ? AND (next_poll IS NULL OR next_poll > ?)",
            (_iso(at), url, _iso(at)),
        )

    def seen_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM seen").fetchone()[0])

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _row_from_state(state: FeedState) -> tuple[object, ...]:
    v = state.validators
    return (
        state.url, v.etag, v.last_modified, v.content_hash, _iso(state.next_poll), state.entry_rate,
        state.consecutive_failures, state.paused_reason, state.pauses, _iso(state.last_polled),
        _iso(state.last_success), state.last_error,
    )  # fmt: skip


def _state_from_row(row: Sequence[object]) -> FeedState:
    (url, etag, last_modified, content_hash, next_poll, rate, failures, paused, pauses, polled, success, error) = row
    return FeedState(
        url=str(url),
        validators=Validators(_opt(etag), _opt(last_modified), _opt(content_hash)),
        next_poll=_parse_iso(next_poll),
        entry_rate=float(rate) if isinstance(rate, int | float) else None,
        consecutive_failures=int(str(failures)),
        paused_reason=_opt(paused),
        pauses=int(str(pauses)),
        last_polled=_parse_iso(polled),
        last_success=_parse_iso(success),
        last_error=_opt(error),
    )


def _row_from_subscription(sub: Subscription) -> tuple[object, ...]:
    return (
        sub.feed_url, sub.hub, sub.topic, sub.callback_id, sub.secret, sub.status, _iso(sub.requested_at),
        _iso(sub.verified_at), sub.lease_s, sub.failures, _iso(sub.retry_at), sub.last_error,
    )  # fmt: skip


def _subscription_from_row(row: Sequence[object]) -> Subscription:
    (feed_url, hub, topic, callback_id, secret, status, requested, verified, lease, failures, retry, error) = row
    return Subscription(
        feed_url=str(feed_url), hub=str(hub), topic=str(topic), callback_id=str(callback_id), secret=str(secret),
        status=cast(Status, status), requested_at=datetime.fromisoformat(str(requested)),
        verified_at=_parse_iso(verified), lease_s=int(str(lease)) if lease is not None else None,
        failures=int(str(failures)), retry_at=_parse_iso(retry), last_error=_opt(error),
    )  # fmt: skip


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _parse_iso(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))

"""The API's alert store: every alert of every desk, in a local SQLite file, for queries and the live stream.

Each API-serving worker follows the *whole* alerts topic (no consumer group) into its own store. An alert's
``alert_id`` is UNIQUE and the partition offsets are written in the same transaction as the rows, so a
redelivered or re-read alert never gets a second row: the row id is the cursor, increasing monotonically,
and every alert has exactly one. Cursors are therefore per API endpoint: each store has a random
*generation*, and an event id is ``<generation>-<cursor>``, so a cursor from another endpoint (or from a store
that was deleted) is recognised instead of silently skipping or repeating alerts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.core.models import Alert, WireError
from streams.infra.compacted import follow_forever
from streams.infra.kafka_topics import ALERT_RETENTION_S

log = logging.getLogger(__name__)

STORE_RETENTION_S = ALERT_RETENTION_S
"""As long as the alerts topic keeps alerts: older rows are pruned."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL UNIQUE,
    desk TEXT NOT NULL,
    watch_id TEXT NOT NULL,
    fired_at REAL NOT NULL,
    received_at REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_by_desk ON alerts (desk, cursor);
CREATE INDEX IF NOT EXISTS alerts_by_watch ON alerts (desk, watch_id, cursor);
CREATE INDEX IF NOT EXISTS alerts_by_received ON alerts (received_at);
CREATE TABLE IF NOT EXISTS offsets (partition INTEGER PRIMARY KEY, next_offset INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class StoredAlert:
    cursor: int
    received_at: float
    body: str

    def item(self, generation: str) -> dict[str, Any]:
        """The API's ``AlertItem``: the alert as on the wire, with its event id."""
        return {"cursor": event_id(generation, self.cursor), "alert": json.loads(self.body)}


def event_id(generation: str, cursor: int) -> str:
    return f"{generation}-{cursor}"


def parse_event_id(generation: str, text: str) -> int | None:
    """The cursor in an event id of *this* store; ``None`` for another store's or a malformed one."""
    prefix, _, number = text.strip().rpartition("-")
    if prefix != generation or not number.isdigit() or len(number) > 18:
        return None
    return int(number)


class AlertStore:
    """SQLite in WAL mode; calls are short (indexed, bounded by ``limit``) and run on the event loop."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('generation', ?)", (secrets.token_hex(4),))
        self.generation: str = self._db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0]
        self._changed = asyncio.Event()

    def close(self) -> None:
        self._db.close()

    # ------------------------------------------------------------------ writing
    def ingest(self, records: list[tuple[int, int, bytes | None]], now: float) -> tuple[int, int]:
        """Store ``(partition, offset, value)`` records with their offsets in one transaction.

        Returns (new alerts, invalid records); alerts already stored are ignored.
        """
        added = invalid = 0
        with self._transaction():
            for partition, offset, value in records:
                self._db.execute(
                    "INSERT INTO offsets VALUES (?, ?)"
                    " ON CONFLICT (partition) DO UPDATE SET next_offset=excluded.next_offset",
                    (partition, offset + 1),
                )
                try:
                    alert = Alert.from_wire(value or b"")
                except WireError as err:
                    log.warning("alert store: skipped partition %d offset %d: %s", partition, offset, err)
                    invalid += 1
                    continue
                added += self._db.execute(
                    "INSERT OR IGNORE INTO alerts (alert_id, desk, watch_id, fired_at, received_at, body)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        alert.alert_id,
                        alert.desk,
                        alert.watch_id,
                        alert.fired_at.timestamp(),
                        now,
                        alert.to_json().decode(),
                    ),
                ).rowcount
        if added:
            self.wake_all()
        return added, invalid

    def wake_all(self) -> None:
        """Wake every ``wait_for_new`` (new alerts, or shutting down)."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def prune(self, now: float, keep_s: float = STORE_RETENTION_S) -> int:
        """Delete rows received more than ``keep_s`` ago; remember the last cursor deleted."""
        with self._transaction():
            last = self._db.execute("SELECT MAX(cursor) FROM alerts WHERE received_at < ?", (now - keep_s,)).fetchone()[
                0
            ]
            if last is None:
                return 0
            deleted = self._db.execute("DELETE FROM alerts WHERE cursor <= ?", (last,)).rowcount
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('pruned_through', ?)", (str(last),))
        return deleted

    def _transaction(self) -> sqlite3.Connection:
        self._db.execute("BEGIN")
        return self._db

    # ------------------------------------------------------------------ reading
    def offsets(self) -> dict[int, int]:
        return dict(self._db.execute("SELECT partition, next_offset FROM offsets").fetchall())

    def head(self) -> int:
        """The newest cursor ever given (0 for an empty store)."""
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name='alerts'").fetchone()
        return int(row[0]) if row else 0

    def after(self, desk: str, cursor: int, limit: int) -> list[StoredAlert]:
        rows = self._db.execute(
            "SELECT cursor, received_at, body FROM alerts WHERE desk=? AND cursor>? ORDER BY cursor LIMIT ?",
            (desk, cursor, limit),
        ).fetchall()
        return [StoredAlert(*row) for row in rows]

    def query(
        self,
        desk: str,
        *,
        since: datetime | None,
        until: datetime | None,
        watch_id: str | None,
        before: int | None,
        limit: int,
        kind: str | None = None,
    ) -> list[StoredAlert]:
        """Newest first: ``since <= fired_at < until``, optionally one watch or one kind, below cursor ``before``
        (the stored body is the current contract, so it always names its kind)."""
        where, args = ["desk=?"], [desk]
        for clause, value in (
            ("fired_at>=?", since.timestamp() if since else None),
            ("fired_at<?", until.timestamp() if until else None),
            ("watch_id=?", watch_id),
            ("json_extract(body, '$.kind')=?", kind),
            ("cursor<?", before),
        ):
            if value is not None:
                where.append(clause)
                args.append(value)  # type: ignore[arg-type]
        rows = self._db.execute(
            f"SELECT cursor, received_at, body FROM alerts WHERE {' AND '.join(where)} ORDER BY cursor DESC LIMIT ?",  # noqa: S608 - fixed clauses
            (*args, limit),
        ).fetchall()
        return [StoredAlert(*row) for row in rows]

    def get(self, desk: str, alert_id: str) -> StoredAlert | None:
        row = self._db.execute(
            "SELECT cursor, received_at, body FROM alerts WHERE desk=? AND alert_id=?", (desk, alert_id)
        ).fetchone()
        return StoredAlert(*row) if row else None

    def resume_problem(self, desk: str, cursor: int, now: float, retention_s: float) -> str | None:
        """Why the stream cannot resume gap-free after ``cursor`` (``None`` when it can)."""
        if cursor > self.head():
            return "unknown_cursor"
        pruned = self._db.execute("SELECT value FROM meta WHERE key='pruned_through'").fetchone()
        if pruned is not None and cursor < int(pruned[0]):
            return "beyond_retention"
        oldest_missed = self._db.execute(
            "SELECT MIN(received_at) FROM alerts WHERE desk=? AND cursor>?", (desk, cursor)
        ).fetchone()[0]
        if oldest_missed is not None and oldest_missed < now - retention_s:
            return "beyond_retention"
        return None

    async def wait_for_new(self, timeout_s: float) -> None:
        """Return when alerts were added (or after ``timeout_s``)."""
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), timeout_s)
        except TimeoutError:
            return


class AlertFollower:
    """Copies the alerts topic into an ``AlertStore``, resuming at the offsets stored with the rows."""

    def __init__(
        self, bootstrap: str, topic: str, store: AlertStore, on_ingest: Callable[[int, int], None] = lambda *_: None
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.store = store
        self.caught_up = asyncio.Event()
        self._on_ingest = on_ingest

    async def run(self) -> None:
        """Follow the alerts topic forever from where the store left off; after a broker error, reconnect."""

        async def follow(consumer: AIOKafkaConsumer) -> None:
            assigned = await self._assign(consumer)
            end = await consumer.end_offsets(assigned)
            pruned_at = 0.0
            while True:
                batches = await consumer.getmany(timeout_ms=1000, max_records=500)
                records = [(m.partition, m.offset, m.value) for messages in batches.values() for m in messages]
                if records:
                    self._on_ingest(*self.store.ingest(records, time.time()))
                if not self.caught_up.is_set() and all([await consumer.position(tp) >= end[tp] for tp in assigned]):
                    log.info("alert store caught up with %s (generation %s)", self.topic, self.store.generation)
                    self.caught_up.set()
                if time.monotonic() - pruned_at > 3600:
                    self.store.prune(time.time())
                    pruned_at = time.monotonic()

        await follow_forever(self.bootstrap, f"alert store ({self.topic})", follow)

    async def _assign(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        """Every partition of the topic, each at the offset after the last one stored.

        Without a group, ``subscribe`` assigns every partition once metadata arrives (no fetch needed); the
        positions are set before the first ``getmany``, so nothing is read twice or skipped.
        """
        consumer.subscribe([self.topic])
        while not consumer.assignment():  # noqa: ASYNC110 - aiokafka signals no event for it
            await asyncio.sleep(0.1)
        assigned = sorted(consumer.assignment())
        stored = self.store.offsets()
        for tp in assigned:
            if tp.partition in stored:
                consumer.seek(tp, stored[tp.partition])
            else:
                await consumer.seek_to_beginning(tp)
        return assigned

"""A feed's state as a record that moves with the feed (``<prefix>.feed.state``, compacted, key = the canonical
feed URL, on the feed's host partition): validators, schedule, failure counters and the entries recently produced.
Whichever connector owns the feed next adopts it before its first poll, so a rebalance or a crash neither
forgets the schedule nor re-sends what was produced (decision 0905)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import AwareDatetime

from connectors.core.schedule import FeedState, Validators
from streams.core.models import VersionedModel, WireModel

RECENT_ENTRIES = 300
"""Produced entries remembered per feed: more than a feed lists at once (entries per fetch are capped at 200)."""


class SeenEntry(WireModel):
    article_id: str
    url: str
    guid: str | None = None


class FeedStateRecord(VersionedModel):
    TOPIC: ClassVar[str] = "feed.state"

    url: str
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    next_poll: AwareDatetime | None = None
    entry_rate: float | None = None
    consecutive_failures: int = 0
    paused_reason: str | None = None
    pauses: int = 0
    last_polled: AwareDatetime | None = None
    last_success: AwareDatetime | None = None
    last_error: str | None = None
    recent: tuple[SeenEntry, ...] = ()
    """Entries produced from this feed, newest first (queued for their pages and not produced yet: not here)."""
    updated_at: AwareDatetime

    @classmethod
    def of(cls, state: FeedState, recent: tuple[SeenEntry, ...], now: datetime) -> FeedStateRecord:
        v = state.validators
        return cls(
            url=state.url, etag=v.etag, last_modified=v.last_modified, content_hash=v.content_hash,
            next_poll=state.next_poll, entry_rate=state.entry_rate, consecutive_failures=state.consecutive_failures,
            paused_reason=state.paused_reason, pauses=state.pauses, last_polled=state.last_polled,
            last_success=state.last_success, last_error=state.last_error, recent=recent[:RECENT_ENTRIES],
            updated_at=now,
        )  # fmt: skip

    def state(self) -> FeedState:
        return FeedState(
            url=self.url, validators=Validators(self.etag, self.last_modified, self.content_hash),
            next_poll=self.next_poll, entry_rate=self.entry_rate, consecutive_failures=self.consecutive_failures,
            paused_reason=self.paused_reason, pauses=self.pauses, last_polled=self.last_polled,
            last_success=self.last_success, last_error=self.last_error,
        )  # fmt: skip


def is_newer(record: FeedStateRecord, local: FeedState) -> bool:
    """Whether a moved state is more recent than what this connector remembers of the feed (it polled last)."""
    if record.last_polled is None:
        return False
    return local.last_polled is None or record.last_polled > local.last_polled

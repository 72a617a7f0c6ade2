"""Feeds as data: the compacted feeds topic (key = the feed's canonical URL, on a partition chosen by its host),
written by ``wirewatch feed add|rm|pause|resume|sync`` and the admin API, followed live by ``wirewatch connect``
when it runs without ``--feeds``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from connectors.core.errors import FeedListError
from connectors.core.feedlist import FeedRecord, FeedSpec, partition_by_host
from streams.infra.compacted import CompactedView, OnInvalid, publish_many
from streams.infra.settings import Settings
from streams.infra.url_guard import UrlGuard, UrlRefused


def publish_feeds(settings: Settings, records: Iterable[tuple[str, FeedRecord | None]]) -> None:
    """Write feed records (``None``: remove) under their keys, each on its host's partition."""
    publish_many(settings, settings.topics.feeds, records, partition_by_host)


def feed_view(
    settings: Settings,
    on_invalid: OnInvalid | None = None,
    on_change: Callable[[Mapping[str, FeedRecord]], None] = lambda _records: None,
) -> CompactedView[FeedRecord]:
    return CompactedView(
        settings.kafka_bootstrap, settings.topics.feeds, FeedRecord, lambda r: r.key, on_invalid, on_change
    )


def current_feeds(settings: Settings, timeout_s: float = 30.0) -> dict[str, FeedRecord]:
    return feed_view(settings).read(timeout_s)


def check_reachable(url: str, allow_private_networks: bool) -> None:
    """The connector's URL guard on a new feed (``UrlGuard.check_resolved``), as a feed-list error."""
    try:
        UrlGuard(allow_private_networks=allow_private_networks).check_resolved(url)
    except UrlRefused as err:
        raise FeedListError(f"url: {err}") from err


@dataclass(frozen=True)
class SyncPlan:
    """What ``feed sync`` writes: new feeds, changed ones, and (with ``--prune``) the ones the list lacks."""

    added: tuple[FeedRecord, ...]
    updated: tuple[FeedRecord, ...]
    removed: tuple[str, ...]

    def writes(self) -> list[tuple[str, FeedRecord | None]]:
        return [(r.key, r) for r in (*self.added, *self.updated)] + [(key, None) for key in self.removed]


def plan_sync(current: Mapping[str, FeedRecord], specs: Iterable[FeedSpec], prune: bool, now: datetime) -> SyncPlan:
    """A feed list against the topic: a listed feed's settings win, its paused state is kept."""
    added, updated = [], []
    listed = set()
    for spec in specs:
        record = FeedRecord.of(spec, now)
        listed.add(record.key)
        known = current.get(record.key)
        if known is None:
            added.append(record)
            continue
        record = record.model_copy(update={"paused": known.paused, "paused_reason": known.paused_reason})
        if not record.same_feed(known):
            updated.append(record)
    removed = sorted(set(current) - listed) if prune else []
    return SyncPlan(tuple(added), tuple(updated), tuple(removed))

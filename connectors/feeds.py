"""Feeds as data: the compacted feeds topic (key = the feed's canonical URL, on a partition chosen by its host),
written by ``wirewatch feed add|rm|pause|resume|sync`` and the admin API, followed live by ``wirewatch connect``
when it runs without ``--feeds``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from kafka import KafkaProducer

from connectors.core.errors import FeedListError
from connectors.core.feedlist import FeedRecord, FeedSpec, feed_key, host_partition, partition_by_host
from connectors.core.feedstate import RECENT_ENTRIES, FeedStateRecord, SeenEntry
from connectors.core.schedule import FeedState
from connectors.state import StateStore
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


def current_feed_states(settings: Settings, timeout_s: float = 30.0) -> dict[str, FeedStateRecord]:
    """Every feed's state as its last owner wrote it (``feed list --health``)."""
    view = CompactedView(
        settings.kafka_bootstrap, settings.topics.feed_state, FeedStateRecord, lambda r: feed_key(r.url)
    )
    return view.read(timeout_s)


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


class StatePublisher:
    """Writes each committed cycle's feed states, with their recently produced entries, to the state topic
    (after the articles were flushed and the local state committed: a crash in between only makes the next
    owner re-send what the workers drop as seen)."""

    def __init__(self, settings: Settings, store: StateStore) -> None:
        self._topic = settings.topics.feed_state
        self._store = store
        self._producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=20)
        self._partitions = len(self._producer.partitions_for(self._topic))

    async def __call__(self, states: Sequence[FeedState]) -> None:
        now = datetime.now(UTC)
        for state in states:
            recent = tuple(
                SeenEntry(article_id=a, url=u, guid=g)
                for a, u, g in self._store.recent_produced(state.url, RECENT_ENTRIES)
            )
            record = FeedStateRecord.of(state, recent, now)
            key = feed_key(state.url)
            self._producer.send(
                self._topic, key=key.encode(), value=record.to_json(), partition=host_partition(key, self._partitions)
            )
        await asyncio.to_thread(self._producer.flush, 30)

    def close(self) -> None:
        self._producer.close()

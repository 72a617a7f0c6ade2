"""Feeds as data: one feed checked by the feed list's rules, its record, its partition by host, and a sync plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.core.errors import FeedListError
from connectors.core.feedlist import (
    FeedRecord,
    feed_key,
    feed_spec,
    host_partition,
    parse_feed_list,
    spread_by_host,
)
from connectors.feeds import plan_sync

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "ftp://example.org/feed"}, "url: expected an http\\(s\\) URL"),
        ({"url": "https://example.org/rss", "outlet": "Press TV"}, "outlet: expected a registry id"),
        ({"url": "https://example.org/rss", "language": "english please"}, "language: expected a BCP-47"),
        ({"url": "https://example.org/rss", "interval": "soon"}, "interval: expected seconds or a duration"),
        ({"url": "https://example.org/rss", "fulltext": "sometimes"}, "fulltext: expected one of"),
        ({"url": "https://example.org/rss", "priority": "urgent"}, "priority: expected one of normal, high"),
        ({"url": "https://example.org/rss", "name": "x" * 121}, "name: longer than 120"),
    ],
)
def test_a_feed_from_the_command_line_follows_the_feed_lists_rules(options: dict[str, str], message: str) -> None:
    with pytest.raises(FeedListError, match=message):
        feed_spec(**options)  # type: ignore[arg-type]


def test_a_feed_record_round_trips_the_spec_and_defaults_its_name() -> None:
    spec = feed_spec("https://Example.org/world/rss.xml?utm_source=x", interval="15m", outlet="xinhua", tags=("cn",))
    assert spec.name == "example.org/world/rss.xml"
    record = FeedRecord.of(spec, NOW)
    assert FeedRecord.from_wire(record.to_json()).spec() == spec
    assert record.key == feed_key("https://example.org/world/rss.xml") == feed_key(spec.url)
    assert record.spec().interval == timedelta(minutes=15)
    assert record.feed_id == FeedRecord.of(feed_spec("https://example.org/world/rss.xml"), NOW).feed_id
    urgent = FeedRecord.of(feed_spec("https://example.org/flash.xml", priority="high"), NOW)
    assert FeedRecord.from_wire(urgent.to_json()).spec().priority == "high"
    assert FeedRecord.from_wire(record.to_json()).priority == "normal"


def test_every_feed_of_a_host_lands_on_one_partition_and_hosts_spread() -> None:
    same = {host_partition(f"https://news.example/{path}.xml", 12) for path in ("a", "b", "c/d", "e?x=1")}
    assert len(same) == 1
    spread = {host_partition(f"https://site{n}.example/rss", 12) for n in range(200)}
    assert len(spread) == 12
    assert host_partition("https://NEWS.example/a.xml", 12) in same


def test_a_sync_adds_updates_keeps_paused_state_and_prunes_only_when_asked() -> None:
    listed = parse_feed_list(
        "feeds:\n  - url: https://a.example/rss\n    name: A\n  - url: https://b.example/rss\n    name: B renamed\n",
        "world.yaml",
    )
    old_b = FeedRecord.of(feed_spec("https://b.example/rss", "B"), NOW).model_copy(
        update={"paused": True, "paused_reason": "legal"}
    )
    gone = FeedRecord.of(feed_spec("https://c.example/rss", "C"), NOW)
    current = {old_b.key: old_b, gone.key: gone}
    plan = plan_sync(current, listed, prune=False, now=NOW)
    assert [r.name for r in plan.added] == ["A"]
    assert [(r.name, r.paused, r.paused_reason) for r in plan.updated] == [("B renamed", True, "legal")]
    assert plan.removed == ()
    assert plan_sync(current, listed, prune=True, now=NOW).removed == (gone.key,)
    unchanged = {r.key: r for r in (*plan.added, *plan.updated)}
    assert plan_sync(unchanged, listed, prune=True, now=NOW + timedelta(hours=1)).writes() == []


def test_due_feeds_are_taken_one_host_at_a_time_so_a_batch_spans_many_hosts() -> None:
    feeds = [feed_spec(f"https://h{host}.example/{n}.xml") for host in range(3) for n in range(4)]
    spread = spread_by_host(feeds)
    assert sorted(spread, key=lambda s: s.url) == sorted(feeds, key=lambda s: s.url)
    assert [s.url.split("/")[2] for s in spread[:3]] == ["h0.example", "h1.example", "h2.example"]
    assert [s.url for s in spread if "h1." in s.url] == [s.url for s in feeds if "h1." in s.url]  # order per host kept
    assert spread_by_host([]) == []

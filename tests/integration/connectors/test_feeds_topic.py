"""Feeds as data on the real broker and a real feed server: a connector without ``--feeds`` follows the feeds
topic; ``feed add`` makes a new feed polled within one cycle, without a restart; ``pause`` and ``rm`` stop it;
``feed sync`` seeds the topic from a feed list; bad feeds get a one-line error."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connectors.core.urls import article_id_for_url, canonical_url
from streams.infra.kafka_topics import ensure_topics
from streams.infra.settings import Settings
from tests.integration.connectors.test_connect import _connect_env, _wait_for
from tests.support.feed_server import FeedServer
from tests.support.kafka import consume
from tests.support.processes import REPO, Child, child_env

pytestmark = pytest.mark.integration


def feed_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli.main", "feed", *args], env=child_env(**_connect_env(settings)),
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def ids(links: list[str]) -> set[str]:
    return {article_id_for_url(canonical_url(link) or link) for link in links}


def polls(server: FeedServer, path: str) -> int:
    return len(server.requests_for(path))


def test_a_connector_follows_the_feeds_topic_without_a_restart(
    test_settings: Settings, feed_server: FeedServer, children: list[Child], tmp_path: Path
) -> None:
    ensure_topics(test_settings)
    seeded = feed_server.publish("/feeds/world", 2)
    listing = tmp_path / "feeds.yaml"
    listing.write_text(f"feeds:\n  - url: {feed_server.url('/feeds/world')}\n    name: World\n    interval: 1s\n")
    synced = feed_cli(test_settings, "sync", str(listing))
    assert synced.returncode == 0, synced.stderr
    assert "1 added, 0 updated, 0 removed" in synced.stdout

    child = Child.wirewatch(
        ["connect", "--allow-private-networks", "--min-interval", "1"], tmp_path / "connect.log",
        **_connect_env(test_settings),
    )  # fmt: skip
    children.append(child)
    _wait_for(child, "feed list changed: 1 active feeds")
    consume(test_settings.kafka_bootstrap, test_settings.topics.articles_raw, expected=len(seeded))

    fresh = feed_server.publish("/feeds/ministry", 3)
    ministry = feed_server.url("/feeds/ministry")
    added = feed_cli(
        test_settings, "add", ministry, "--name", "Ministry", "--interval", "1s", "--allow-private-networks"
    )
    assert added.returncode == 0, added.stderr
    feed_id = added.stdout.strip()
    assert feed_id.startswith("f-")
    started = time.monotonic()
    records = consume(test_settings.kafka_bootstrap, test_settings.topics.articles_raw, expected=len(seeded) + 3)
    assert ids(fresh) <= {r.key.decode() for r in records if r.key}
    assert time.monotonic() - started < 30  # polled within a cycle of the change, no restart
    assert "feed list changed: 2 active feeds (feeds partitions 0,1,2,3)" in child.log()  # alone: every partition

    listed = feed_cli(test_settings, "list")
    assert feed_id in listed.stdout
    assert "Ministry" in listed.stdout
    health = feed_cli(test_settings, "list", "--health").stdout.splitlines()
    assert any("Ministry" in line and "\tok, last poll" in line and "last success" in line for line in health), health
    as_json = [json.loads(line) for line in feed_cli(test_settings, "list", "--health", "--json").stdout.splitlines()]
    assert {line["name"]: line["health"]["status"] for line in as_json}["Ministry"] == "ok"

    polled = polls(feed_server, "/feeds/ministry")
    deadline = time.monotonic() + 20
    while polls(feed_server, "/feeds/ministry") < polled + 2:  # the control: a feed with a 1 s interval is re-polled
        assert time.monotonic() < deadline, "the added feed is not polled again"
        time.sleep(0.2)
    paused = feed_cli(test_settings, "pause", feed_id, "--reason", "legal review")
    assert paused.returncode == 0, paused.stderr
    _wait_for(child, "feed list changed: 1 active feeds", count=2)
    assert "paused: legal review" in feed_cli(test_settings, "list").stdout
    time.sleep(2.5)  # a cycle under way when the change came keeps the list it started with
    before = polls(feed_server, "/feeds/ministry")
    world = polls(feed_server, "/feeds/world")
    time.sleep(3)  # three intervals: a polled feed would have been fetched again
    assert polls(feed_server, "/feeds/ministry") == before
    assert polls(feed_server, "/feeds/world") > world  # the other feed goes on

    assert feed_cli(test_settings, "resume", feed_id).returncode == 0
    _wait_for(child, "feed list changed: 2 active feeds", count=2)
    removed = feed_cli(test_settings, "rm", ministry)
    assert removed.returncode == 0, removed.stderr
    _wait_for(child, "feed list changed: 1 active feeds", count=3)
    time.sleep(2.5)
    before = polls(feed_server, "/feeds/ministry")
    time.sleep(3)
    assert polls(feed_server, "/feeds/ministry") == before
    assert feed_id not in feed_cli(test_settings, "list").stdout
    assert child.stop() == 0


def test_bad_feeds_are_refused_with_a_one_line_reason(test_settings: Settings) -> None:
    ensure_topics(test_settings)
    cases = [
        (("add", "ftp://example.org/feed"), "expected an http(s) URL"),
        (("add", "http://127.0.0.1:9/feed"), "loopback"),
        (("add", "https://example.org/rss", "--interval", "soon"), "interval"),
        (("add", "https://example.org/rss", "--outlet", "Not An Id"), "outlet"),
        (("rm", "https://nowhere.example/rss"), "no feed"),
    ]
    for args, reason in cases:
        done = feed_cli(test_settings, *args)
        assert done.returncode == 1, (args, done.stdout)
        assert reason in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert feed_cli(test_settings, "list").stdout == ""

"""Connectors in one group over the feeds topic, on the real broker, with feeds on six loopback hosts: two
connectors split the partitions (and so the hosts) between them, disjointly; one is killed -9 and the survivor
takes its hosts over within the session timeout, and polls them."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.core.feedlist import FeedRecord, feed_spec, host_partition
from connectors.feeds import publish_feeds
from connectors.group import SESSION_TIMEOUT_MS
from streams.infra.kafka_topics import ensure_topics
from streams.infra.settings import Settings
from tests.integration.connectors.test_connect import _connect_env, _wait_for
from tests.support.feed_server import FeedServer
from tests.support.kafka import consume_quiet
from tests.support.processes import Child

pytestmark = pytest.mark.integration

HOSTS = [f"127.0.0.{n}" for n in range(1, 7)]
_HELD = re.compile(r"feed list changed: (\d+) active feeds \(feeds partitions ([\d,]*|none)\)")


@pytest.fixture
def servers() -> Iterator[list[FeedServer]]:
    with ExitStack() as stack:
        yield [stack.enter_context(FeedServer(host).running()) for host in HOSTS]


def path(server: FeedServer) -> str:
    return f"/feeds/host-{server.host.rsplit('.', 1)[1]}"


def held(child: Child) -> tuple[int, set[int]]:
    """The connector's latest share: active feeds and feeds partitions."""
    found = _HELD.findall(child.log())
    if not found:
        return 0, set()
    feeds, partitions = found[-1]
    return int(feeds), {int(p) for p in partitions.split(",") if p.isdigit()}


def wait_until(check: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_two_connectors_share_the_hosts_and_a_killed_ones_move_to_the_survivor(
    test_settings: Settings, servers: list[FeedServer], children: list[Child], tmp_path: Path
) -> None:
    ensure_topics(test_settings)
    partitions = test_settings.topic_partitions
    assert len({host_partition(f"http://{h}/", partitions) for h in HOSTS}) >= 2, "hosts must span partitions"
    now = datetime.now(UTC)
    records = []
    for server in servers:
        server.publish(path(server), 1)  # a path of its own: each host's items have links of their own
        record = FeedRecord.of(feed_spec(server.url(path(server)), f"Feed {server.host}", interval="1s"), now)
        records.append((record.key, record))
    publish_feeds(test_settings, records)

    def start(name: str) -> Child:
        child = Child.wirewatch(
            ["connect", "--allow-private-networks", "--min-interval", "1", "--state", str(tmp_path / f"{name}.db")],
            tmp_path / f"{name}.log", **_connect_env(test_settings),
        )  # fmt: skip
        children.append(child)
        return child

    first = start("first")
    _wait_for(first, f"feed list changed: {len(HOSTS)} active feeds")
    second = start("second")

    def split() -> bool:
        """Disjoint partitions covering the topic, each connector polling its partitions' feeds (a partition
        just assigned is announced before its feeds are read)."""
        (feeds_a, parts_a), (feeds_b, parts_b) = held(first), held(second)
        covered = bool(parts_a and parts_b) and not parts_a & parts_b and parts_a | parts_b == set(range(partitions))
        return covered and feeds_a + feeds_b == len(HOSTS)

    wait_until(split, 60, f"no disjoint split: {held(first)} / {held(second)}")
    parts_a = held(first)[1]
    firsts = [s for s in servers if host_partition(s.url(path(s)), partitions) in parts_a]

    first.kill()
    killed = time.monotonic()
    wait_until(lambda: held(second) == (len(HOSTS), set(range(partitions))), 60, f"no takeover: {held(second)}")
    assert time.monotonic() - killed < SESSION_TIMEOUT_MS / 1000 + 15
    after = {s.host: len(s.requests_for(path(s))) for s in firsts}
    wait_until(
        lambda: all(len(s.requests_for(path(s))) > after[s.host] for s in firsts), 30,
        "the survivor does not poll the killed connector's hosts",
    )  # fmt: skip
    for server in firsts:  # the killed owner's validators moved with its feeds: the survivor asks conditionally
        taken_over = server.requests_for(path(server))[after[server.host] :]
        assert all("If-None-Match" in r.headers for r in taken_over), server.host
    produced = Counter(r.key for r in consume_quiet(test_settings.kafka_bootstrap, test_settings.topics.articles_raw))
    assert len(produced) == len(HOSTS)
    assert set(produced.values()) == {1}, produced  # no article sent twice across the split and the takeover
    assert "took over the state of" in second.log()
    assert second.stop() == 0

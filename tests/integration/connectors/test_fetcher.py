"""The fetcher against a real HTTP server on 127.0.0.1: validators, limits, redirects, the guard, politeness."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from connectors.core.schedule import Validators
from connectors.fetcher import USER_AGENT, Fetcher, FetchLimits
from streams.infra.url_guard import UrlGuard
from tests.support.feed_server import FeedServer

pytestmark = pytest.mark.integration

OPEN = UrlGuard(allow_private_networks=True)
FAST = FetchLimits(deadline_s=3.0, max_bytes=1024 * 1024, per_host_spacing_s=0.0)


async def test_conditional_get_gets_a_304_and_sends_the_validators(feed_server: FeedServer) -> None:
    feed_server.publish("/feeds/world", 3)
    async with Fetcher(OPEN, FAST) as fetcher:
        first = await fetcher.fetch(feed_server.url("/feeds/world"))
        second = await fetcher.fetch(feed_server.url("/feeds/world"), first.validators)
    assert first.kind == "fetched"
    assert first.validators.etag == '"rev-1"'
    assert first.validators.content_hash
    assert b"Story 2 on /feeds/world" in first.body
    assert second.kind == "not_modified"
    assert second.status == 304
    sent = feed_server.requests_for("/feeds/world")[1].headers
    assert sent["If-None-Match"] == '"rev-1"'
    assert sent["If-Modified-Since"] == first.validators.last_modified
    assert sent["User-Agent"] == USER_AGENT


async def test_429_is_a_failure_that_keeps_retry_after(feed_server: FeedServer) -> None:
    async with Fetcher(OPEN, FAST) as fetcher:
        result = await fetcher.fetch(feed_server.url("/429"))
    assert result.kind == "failed"
    assert result.failure is not None
    assert result.failure.reason == "http_429"
    assert result.headers["Retry-After"] == "7200"


async def test_a_drip_server_is_cut_at_the_wall_clock_deadline(feed_server: FeedServer) -> None:
    limits = FetchLimits(deadline_s=2.0, per_host_spacing_s=0.0)
    started = time.monotonic()
    async with Fetcher(OPEN, limits) as fetcher:
        result = await fetcher.fetch(feed_server.url("/drip"))
    elapsed = time.monotonic() - started
    assert result.failure is not None
    assert result.failure.reason == "timeout"
    assert 1.9 <= elapsed < 3.0


@pytest.mark.parametrize("path", ["/huge", "/bomb"])
async def test_oversized_and_gzip_bomb_bodies_are_cut_at_the_cap(feed_server: FeedServer, path: str) -> None:
    started = time.monotonic()
    async with Fetcher(OPEN, FAST) as fetcher:
        result = await fetcher.fetch(feed_server.url(path))
    assert result.failure is not None
    assert result.failure.reason == "too_large"
    assert "1048576-byte limit" in result.failure.detail
    assert time.monotonic() - started < 3.0


async def test_redirect_loops_and_long_chains_are_stopped(feed_server: FeedServer) -> None:
    feed_server.publish("/feeds/chain-end", 1)
    async with Fetcher(OPEN, FAST) as fetcher:
        loop = await fetcher.fetch(feed_server.url("/loop/a"))
        five = await fetcher.fetch(feed_server.url("/chain/4"))
        six = await fetcher.fetch(feed_server.url("/chain/5"))
    assert loop.failure is not None
    assert loop.failure.reason == "redirect_loop"
    assert five.kind == "fetched"
    assert five.final_url == feed_server.url("/feeds/chain-end")
    assert six.failure is not None
    assert six.failure.reason == "too_many_redirects"


async def test_loopback_is_refused_unless_allowed(feed_server: FeedServer) -> None:
    feed_server.publish("/feeds/world", 1)
    async with Fetcher(UrlGuard(), FAST) as fetcher:
        result = await fetcher.fetch(feed_server.url("/feeds/world"))
    assert result.failure is not None
    assert result.failure.reason == "refused"
    assert str(result.failure) == ("refused: 127.0.0.1 is a loopback address (set allow_private_networks to allow it)")
    assert feed_server.requests == []


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("http://10.0.0.1/feed", "10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://localhost:{port}/feeds/world", "localhost (127.0.0.1) is a loopback address"),
        ("http://127.0.0.2:{port}/feeds/world", "127.0.0.2 is a loopback address"),
        ("file:///etc/passwd", "scheme 'file' is not http or https"),
    ],
)
async def test_a_redirect_from_an_allowed_origin_to_a_refused_address_is_refused(
    feed_server: FeedServer, target: str, shown: str
) -> None:
    feed_server.publish("/feeds/world", 1)
    other_port = feed_server.port + 1 if feed_server.port < 65535 else feed_server.port - 1
    feed_server.redirect_target = target.format(port=other_port)
    guard = UrlGuard(allowed_endpoints=[("127.0.0.1", feed_server.port)])
    async with Fetcher(guard, FAST) as fetcher:
        result = await fetcher.fetch(feed_server.url("/to-refused"))
    assert result.failure is not None
    assert result.failure.reason == "refused"
    assert shown in str(result.failure)
    assert [r.path for r in feed_server.requests] == ["/to-refused"]


async def test_requests_to_one_host_are_spaced_and_limited(feed_server: FeedServer) -> None:
    paths = [f"/feeds/p{n}" for n in range(4)]
    for path in paths:
        feed_server.publish(path, 1)
    limits = FetchLimits(per_host_concurrency=1, per_host_spacing_s=0.4)
    async with Fetcher(OPEN, limits) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(feed_server.url(p)) for p in paths))
    assert all(r.kind == "fetched" for r in results)
    arrivals = sorted(r.at for r in feed_server.requests)
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert min(gaps) >= 0.35


async def test_validators_are_not_sent_when_there_are_none(feed_server: FeedServer) -> None:
    feed_server.publish("/feeds/world", 1)
    async with Fetcher(OPEN, FAST) as fetcher:
        await fetcher.fetch(feed_server.url("/feeds/world"), Validators())
    headers = feed_server.requests[0].headers
    assert "If-None-Match" not in headers
    assert "If-Modified-Since" not in headers

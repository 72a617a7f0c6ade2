"""A real HTTP feed server on 127.0.0.1 (aiohttp in a background thread) with hostile behaviours.

``FeedServer`` serves ordinary feeds that tests change between polls (``publish``), honours or ignores
validators, and has fixed routes for the nasty cases: 429 + Retry-After, a 1 byte/s drip, oversized
and gzip-bomb bodies, redirect loops and chains, redirects to refused addresses, billion-laughs and
quadratic-entity feeds. Every request is recorded (path, headers, arrival time) for assertions.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web

from connectors.bench import render_rss
from connectors.local_server import LocalServer

EPOCH = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class ServedFeed:
    """A feed whose items tests add to; ``honour_validators=False`` models stale-validator servers."""

    base_url: str
    items: list[tuple[str, str, datetime]] = field(default_factory=list)
    honour_validators: bool = True
    revision: int = 0

    def body(self) -> bytes:
        return render_rss("Test feed", self.base_url, list(reversed(self.items)))


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    at: float


def billion_laughs(levels: int = 10) -> bytes:
    """Nested entities, one declaration per line (the layout feedparser's own entity filter reads)."""
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, levels)]
    declarations = "\n".join(entities)
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n{declarations}\n]>\n'
        f"<rss version='2.0'><channel><title>laughs</title><item><title>&lol{levels - 1};</title>"
        "<link>http://laughs.example/1</link></item></channel></rss>"
    ).encode()


def quadratic_blowup(entity_kib: int = 10, references: int = 5000) -> bytes:
    """One plain-text entity referenced thousands of times: feedparser keeps it as "safe" and expands it."""
    value = "a" * (entity_kib * 1024)
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY big "{value}">\n]>\n'
        f"<rss version='2.0'><channel><title>quadratic</title><item><title>{'&big;' * references}</title>"
        "<link>http://quadratic.example/1</link></item></channel></rss>"
    ).encode()


class FeedServer(LocalServer):
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.feeds: dict[str, ServedFeed] = {}
        self.requests: list[Request] = []
        self.redirect_target = "http://10.0.0.1/feed"
        super().__init__(host)

    # ------------------------------------------------------------------ test API

    def publish(self, path: str, count: int, *, honour_validators: bool = True) -> list[str]:
        """Add ``count`` new items to the feed at ``path``; return their links as served."""
        feed = self.feeds.setdefault(path, ServedFeed(self.base_url(path), honour_validators=honour_validators))
        start = len(feed.items)
        for n in range(start, start + count):
            feed.items.append(
                (f"{path.strip('/').replace('/', '-')}-{n}", f"Story {n} on {path}", EPOCH + timedelta(hours=n))
            )
        feed.revision += 1
        return [f"{feed.base_url}/{guid}" for guid, _, _ in feed.items[start:]]

    def base_url(self, path: str) -> str:
        return f"http://news.example{path}"

    def requests_for(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    # ------------------------------------------------------------------ handlers
    @web.middleware
    async def _record(self, request: web.Request, handler: web.Handler) -> web.StreamResponse:
        self.requests.append(Request(request.path, dict(request.headers), time.monotonic()))
        return await handler(request)

    async def _feed(self, request: web.Request) -> web.Response:
        feed = self.feeds.get(request.path)
        if feed is None:
            raise web.HTTPNotFound()
        # Stale-validator servers send the same validators whatever the content.
        etag = f'"rev-{feed.revision}"' if feed.honour_validators else '"always-the-same"'
        modified = "Sun, 01 Mar 2026 00:00:00 GMT" if not feed.honour_validators else _http_date(feed.revision)
        if feed.honour_validators and request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag, "Last-Modified": modified})
        return web.Response(
            body=feed.body(),
            content_type="application/rss+xml",
            headers={"ETag": etag, "Last-Modified": modified},
        )

    async def _too_many(self, request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": "7200"}, text="slow down")

    async def _drip(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        for byte in b"<rss version='2.0'><channel><title>drip</title></channel></rss>":
            await response.write(bytes([byte]))
            await asyncio.sleep(1)
        return response

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        chunk = b" " * (1024 * 1024)
        await response.write(b"<rss>")
        for _ in range(64):
            await response.write(chunk)
        return response

    async def _bomb_body(self, request: web.Request) -> web.Response:
        return web.Response(
            body=_gzip_bomb(), headers={"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"}
        )

    async def _hostile(self, request: web.Request) -> web.Response:
        body = billion_laughs() if request.match_info["kind"] == "laughs" else quadratic_blowup()
        return web.Response(body=body, content_type="application/rss+xml")

    async def _loop_redirect(self, request: web.Request) -> web.Response:
        target = "/loop/b" if request.match_info["side"] == "a" else "/loop/a"
        raise web.HTTPFound(target)

    async def _chain(self, request: web.Request) -> web.Response:
        remaining = int(request.match_info["n"])
        if remaining == 0:
            raise web.HTTPFound("/feeds/chain-end")
        raise web.HTTPFound(f"/chain/{remaining - 1}")

    async def _to_refused(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(self.redirect_target)

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/feeds/{name:.+}", self._feed)
        app.router.add_get("/429", self._too_many)
        app.router.add_get("/drip", self._drip)
        app.router.add_get("/huge", self._huge)
        app.router.add_get("/bomb", self._bomb_body)
        app.router.add_get("/hostile/{kind}", self._hostile)
        app.router.add_get("/loop/{side}", self._loop_redirect)
        app.router.add_get("/chain/{n}", self._chain)
        app.router.add_get("/to-refused", self._to_refused)
        return app


@functools.cache
def _gzip_bomb() -> bytes:
    """64 MiB of spaces in about 64 KiB of gzip."""
    return gzip.compress(b"<rss>" + b" " * (64 * 1024 * 1024), compresslevel=9)


def _http_date(revision: int) -> str:
    when = EPOCH + timedelta(minutes=revision)
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")

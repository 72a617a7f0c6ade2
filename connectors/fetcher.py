"""Fetch one feed, article page or robots.txt politely and safely; every outcome comes back as data.

Our own client, never feedparser's (it has no deadline, no size limit and opens local paths):
redirects followed by hand (each hop re-checked by the URL guard, ≤ ``max_redirects``), one wall-clock
deadline per fetch (per-read timeouts let a 1 byte/s server live forever), a byte cap counted after
decompression, conditional GET, a per-host concurrency limit and a minimum spacing between requests to
one host. Feeds and pages share one ``Fetcher`` and so one politeness per host: a host that answers 429
or 503 with ``Retry-After`` is left alone for that long (at most ``max_host_hold_s``) by every request,
and a robots.txt ``Crawl-delay`` widens the host's spacing. WebSub requests to a feed's hub (``post_form``) go
through the same guard, deadline and per-host politeness.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

import aiohttp
from yarl import URL

from connectors.core.errors import FeedFailure
from connectors.core.schedule import NO_VALIDATORS, Validators, hints_from_headers
from streams.infra.url_guard import UrlGuard, UrlRefused

USER_AGENT = (
    "wirewatch/0.1 (media monitoring: polls feeds and reads their linked articles; honours robots.txt and Retry-After)"
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchLimits:
    deadline_s: float = 30.0
    """Wall-clock limit for one fetch, redirects and body included."""
    max_bytes: int = 10 * 1024 * 1024
    """Body size limit after decompression."""
    max_redirects: int = 5
    per_host_concurrency: int = 2
    per_host_spacing_s: float = 2.0
    """Minimum time between the starts of two requests to one host."""
    max_host_hold_s: float = 600.0
    """The longest a ``Retry-After`` or ``Crawl-delay`` keeps us away from a host."""
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class FetchResult:
    """``fetched`` with a body, ``not_modified`` (304), or ``failed`` with a ``FeedFailure``."""

    kind: Literal["fetched", "not_modified", "failed"]
    url: str
    final_url: str
    status: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    validators: Validators = NO_VALIDATORS
    failure: FeedFailure | None = None
    elapsed_s: float = 0.0


class HostGate:
    """Per-host concurrency limit plus a minimum spacing between request starts to the same host."""

    def __init__(self, concurrency: int, spacing_s: float) -> None:
        self._spacing_s = spacing_s
        self._host_spacing: dict[str, float] = {}
        self._slots: defaultdict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(concurrency))
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._next_start: dict[str, float] = {}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        async with self._slots[host]:
            async with self._locks[host]:
                loop = asyncio.get_running_loop()
                wait = self._next_start.get(host, 0.0) - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._next_start[host] = loop.time() + self._host_spacing.get(host, self._spacing_s)
            yield

    def hold(self, host: str, seconds: float) -> None:
        """Start no request to ``host`` for ``seconds`` from now (a ``Retry-After``)."""
        until = asyncio.get_running_loop().time() + seconds
        self._next_start[host] = max(self._next_start.get(host, 0.0), until)

    def widen_spacing(self, host: str, seconds: float) -> None:
        """At least ``seconds`` between two request starts to ``host`` from now on (a ``Crawl-delay``)."""
        self._host_spacing[host] = max(self._spacing_s, seconds)


class Fetcher:
    """Fetches feeds through one guarded aiohttp session; use as an async context manager."""

    def __init__(self, guard: UrlGuard, limits: FetchLimits | None = None, max_connections: int = 50) -> None:
        self.guard = guard
        self.limits = limits = limits or FetchLimits()
        self._gate = HostGate(limits.per_host_concurrency, limits.per_host_spacing_s)
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fetcher:
        self._session = aiohttp.ClientSession(
            connector=self.guard.connector(limit=self._max_connections, limit_per_host=0),
            headers={"User-Agent": self.limits.user_agent, "Accept": _ACCEPT},
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def fetch(
        self,
        url: str,
        validators: Validators = NO_VALIDATORS,
        *,
        accept: str | None = None,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """Fetch ``url`` once (``accept`` and ``max_bytes`` override the feed defaults); never raises for
        anything the remote side can cause."""
        loop = asyncio.get_running_loop()
        host = URL(url).host or ""
        headers = _conditional_headers(validators) | ({"Accept": accept} if accept else {})
        cap = self.limits.max_bytes if max_bytes is None else max_bytes
        async with self._gate.slot(host):
            started = loop.time()
            result = await self._guarded(url, lambda: self._follow(url, validators, headers, cap))
        self._honour_retry_after(host, result)
        return replace(result, elapsed_s=loop.time() - started)

    def _honour_retry_after(self, host: str, result: FetchResult) -> None:
        """A 429 or 503 with ``Retry-After`` holds the whole host (at most ``max_host_hold_s``)."""
        if result.status in (429, 503):
            retry_after = hints_from_headers(result.headers, datetime.now(UTC)).retry_after
            if retry_after is not None:
                self._gate.hold(host, min(retry_after.total_seconds(), self.limits.max_host_hold_s))

    async def post_form(self, url: str, form: dict[str, str], max_bytes: int = 64 * 1024) -> FetchResult:
        """POST ``form`` (a WebSub request to a hub named by a feed: untrusted, so guarded like a fetch); redirects
        are not followed. ``fetched`` with a 2xx, else ``failed``; never raises for what the remote side can cause."""
        assert self._session is not None, "use Fetcher as an async context manager"
        session = self._session
        loop = asyncio.get_running_loop()
        host = URL(url).host or ""

        async def post() -> FetchResult:
            self.guard.check_url(URL(url))
            async with session.post(url, data=form, allow_redirects=False) as response:
                headers = dict(response.headers)
                body = await self._read_capped(response, max_bytes)
                if response.status < 300:
                    return FetchResult("fetched", url, url, response.status, body, headers)
                reason = _status_failure(response.status, headers).reason if response.status >= 400 else "bad_response"
                failure = FeedFailure(reason, f"HTTP {response.status}: {body[:200].decode('utf-8', 'replace')}")
                return FetchResult("failed", url, url, response.status, body, headers, failure=failure)

        async with self._gate.slot(host):
            started = loop.time()
            result = await self._guarded(url, post)
        self._honour_retry_after(host, result)
        return replace(result, elapsed_s=loop.time() - started)

    async def _guarded(self, url: str, request: Callable[[], Awaitable[FetchResult]]) -> FetchResult:
        """``request()`` within the deadline, every failure the remote side can cause as a failed result."""
        try:
            async with asyncio.timeout(self.limits.deadline_s):
                return await request()
        except FeedFailure as failure:
            return FetchResult("failed", url, url, failure=failure)
        except UrlRefused as refused:
            return FetchResult("failed", url, url, failure=FeedFailure(refused.reason, refused.detail))
        except TimeoutError:
            deadline = f"no complete response within {self.limits.deadline_s:g} s"
            return FetchResult("failed", url, url, failure=FeedFailure("timeout", deadline, retriable=True))
        except aiohttp.ClientError as err:
            return FetchResult("failed", url, url, failure=_client_failure(err))

    def take_over(self, url: str) -> None:
        """``url``'s host was until now polled by another connector, maybe an instant ago: wait one spacing
        before this fetcher's first request to it, as if it had just sent one itself."""
        self._gate.hold(URL(url).host or "", self.limits.per_host_spacing_s)

    def widen_spacing(self, host: str, seconds: float) -> None:
        """Honour a host's robots.txt ``Crawl-delay`` (bounded by ``max_host_hold_s``) for every later request."""
        self._gate.widen_spacing(host, min(seconds, self.limits.max_host_hold_s))

    async def _follow(self, url: str, validators: Validators, headers: dict[str, str], cap: int) -> FetchResult:
        assert self._session is not None, "use Fetcher as an async context manager"
        visited: list[URL] = []
        current = URL(url)
        while True:
            self.guard.check_url(current)
            visited.append(current)
            async with self._session.get(current, headers=headers, allow_redirects=False) as response:
                if response.status in _REDIRECTS:
                    current = self._redirect_target(response, visited)
                    continue
                headers = dict(response.headers)
                if response.status == 304:
                    return FetchResult("not_modified", url, str(current), 304, headers=headers, validators=validators)
                if response.status >= 400:
                    failure = _status_failure(response.status, headers)
                    return FetchResult("failed", url, str(current), response.status, headers=headers, failure=failure)
                body = await self._read_capped(response, cap)
                fresh = Validators(
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                    content_hash=hashlib.sha256(body).hexdigest(),
                )
                return FetchResult("fetched", url, str(current), response.status, body, headers, fresh)

    def _redirect_target(self, response: aiohttp.ClientResponse, visited: list[URL]) -> URL:
        location = response.headers.get("Location")
        if not location:
            raise FeedFailure("bad_redirect", f"HTTP {response.status} without a Location header")
        try:
            target = response.url.join(URL(location))
        except ValueError as err:
            raise FeedFailure("bad_redirect", f"unusable Location {location[:200]!r}") from err
        if target in visited:
            raise FeedFailure("redirect_loop", f"redirect loop back to {target}")
        if len(visited) > self.limits.max_redirects:
            raise FeedFailure("too_many_redirects", f"more than {self.limits.max_redirects} redirects")
        return target

    async def _read_capped(self, response: aiohttp.ClientResponse, cap: int) -> bytes:
        """The decompressed body, or a ``too_large`` failure as soon as it passes ``cap``."""
        declared = response.content_length
        if declared is not None and declared > cap and not response.headers.get("Content-Encoding"):
            raise FeedFailure("too_large", f"Content-Length {declared} is over the {cap}-byte limit")
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > cap:
                raise FeedFailure("too_large", f"body passed the {cap}-byte limit (after decompression)")
        return bytes(body)


_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


def _conditional_headers(validators: Validators) -> dict[str, str]:
    headers = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def _status_failure(status: int, headers: dict[str, str]) -> FeedFailure:
    if status == 429:
        retry_after = headers.get("Retry-After", "not given")
        return FeedFailure("http_429", f"HTTP 429, Retry-After {retry_after}", retriable=True)
    if status >= 500:
        return FeedFailure("http_5xx", f"HTTP {status}", retriable=True)
    if status == 410:
        return FeedFailure("http_gone", "HTTP 410 Gone: the feed was removed")
    return FeedFailure("http_4xx", f"HTTP {status}")


def _client_failure(err: aiohttp.ClientError) -> FeedFailure:
    """Map aiohttp's exception tree onto the bounded failure reasons."""
    detail = str(err) or type(err).__name__
    if isinstance(err, aiohttp.ClientConnectorDNSError):
        return FeedFailure("dns", detail, retriable=True)
    if isinstance(err, aiohttp.ClientSSLError | aiohttp.ServerFingerprintMismatch):
        return FeedFailure("tls", detail, retriable=True)
    if isinstance(err, aiohttp.InvalidURL):
        return FeedFailure("bad_url", detail)
    if isinstance(err, aiohttp.ClientConnectionError):
        return FeedFailure("connection", detail, retriable=True)
    return FeedFailure("bad_response", detail, retriable=True)

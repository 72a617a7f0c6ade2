"""A WebSub hub on 127.0.0.1 for the tests and the latency bench: it accepts subscribe and unsubscribe requests,
verifies intent against the callback (a random challenge that must come back), distributes what it is given to
the topic's verified subscribers signed with their secrets, and can be told to go silent (it still answers 202 to
a request, then neither verifies nor distributes: a hub that lost its subscribers).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from connectors.local_server import LocalServer

DISTRIBUTE_TIMEOUT_S = 10.0
T = TypeVar("T")


@dataclass(frozen=True)
class HubSubscriber:
    topic: str
    callback: str
    secret: str | None
    lease_s: int
    verified_at: float


@dataclass(frozen=True)
class HubEvent:
    """One thing the hub saw or did, for assertions: a request, a verification, a distribution."""

    kind: str
    mode: str
    topic: str
    callback: str
    at: float
    status: int | None = None


def with_hub(body: bytes, hub: str, topic: str) -> bytes:
    """An RSS 2.0 document with ``atom:link`` hub and self links (how RSS feeds declare their hub)."""
    links = f'<atom:link rel="hub" href="{hub}"/><atom:link rel="self" href="{topic}"/>'.encode()
    body = body.replace(b"<rss version='2.0'>", b"<rss version='2.0' xmlns:atom='http://www.w3.org/2005/Atom'>", 1)
    return body.replace(b"<channel>", b"<channel>" + links, 1)


class LocalHub(LocalServer):
    """``/hub`` takes the requests; ``publish`` distributes from any thread; ``silent`` stops it answering."""

    def __init__(self, host: str = "127.0.0.1", max_lease_s: int = 86400) -> None:
        self.max_lease_s = max_lease_s
        """The longest lease granted (a short one makes renewals happen within a test)."""
        self.silent = False
        self.subscribers: dict[tuple[str, str], HubSubscriber] = {}
        """Verified subscriptions by (topic, callback)."""
        self.events: list[HubEvent] = []
        self._session: aiohttp.ClientSession | None = None
        super().__init__(host)

    @property
    def hub_url(self) -> str:
        return self.url("/hub")

    def events_of(self, kind: str, mode: str | None = None) -> list[HubEvent]:
        return [e for e in self.events if e.kind == kind and (mode is None or e.mode == mode)]

    def subscribed(self, topic: str) -> list[HubSubscriber]:
        return [s for s in list(self.subscribers.values()) if s.topic == topic]

    def publish(self, topic: str, body: bytes, content_type: str = "application/rss+xml") -> list[int]:
        """Distribute ``body`` to the topic's subscribers now (signed sha256); their answers' statuses."""
        return self._call(self._distribute(topic, body, content_type))

    def send(self, callback: str, body: bytes, signature: str | None) -> int:
        """POST ``body`` to ``callback`` with the given ``X-Hub-Signature`` (hostile pushes); the status."""
        return self._call(self._post(callback, body, signature, "application/rss+xml"))

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(DISTRIBUTE_TIMEOUT_S * 2)

    async def _distribute(self, topic: str, body: bytes, content_type: str) -> list[int]:
        if self.silent:
            return []
        statuses = []
        for sub in self.subscribed(topic):
            signature = None
            if sub.secret is not None:
                signature = "sha256=" + hmac.new(sub.secret.encode(), body, hashlib.sha256).hexdigest()
            status = await self._post(sub.callback, body, signature, content_type)
            self.events.append(HubEvent("distribution", "publish", topic, sub.callback, time.monotonic(), status))
            statuses.append(status)
        return statuses

    async def _post(self, callback: str, body: bytes, signature: str | None, content_type: str) -> int:
        assert self._session is not None
        headers = {"Content-Type": content_type, **({"X-Hub-Signature": signature} if signature else {})}
        async with self._session.post(callback, data=body, headers=headers) as response:
            return response.status

    async def _request(self, request: web.Request) -> web.Response:
        form = await request.post()
        mode, topic, callback = (str(form.get(f"hub.{k}", "")) for k in ("mode", "topic", "callback"))
        self.events.append(HubEvent("request", mode, topic, callback, time.monotonic()))
        if mode not in ("subscribe", "unsubscribe") or not topic or not callback:
            return web.Response(status=400, text="hub.mode, hub.topic and hub.callback are required")
        if not self.silent:
            secret = str(form["hub.secret"]) if "hub.secret" in form else None
            asked = str(form.get("hub.lease_seconds", ""))
            lease = min(int(asked), self.max_lease_s) if asked.isdigit() else self.max_lease_s
            task = asyncio.create_task(self._verify(mode, topic, callback, secret, lease))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return web.Response(status=202, text="accepted")

    async def _verify(self, mode: str, topic: str, callback: str, secret: str | None, lease: int) -> None:
        """Verification of intent: the subscription counts only if the callback echoes the challenge."""
        assert self._session is not None
        challenge = secrets.token_urlsafe(16)
        query = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge, "hub.lease_seconds": str(lease)}
        try:
            async with self._session.get(callback, params=query) as response:
                echoed = response.status < 300 and (await response.text()) == challenge
                status = response.status
        except aiohttp.ClientError:
            echoed, status = False, None
        self.events.append(HubEvent("verification", mode, topic, callback, time.monotonic(), status if echoed else -1))
        if not echoed:
            return
        if mode == "subscribe":
            self.subscribers[topic, callback] = HubSubscriber(topic, callback, secret, lease, time.monotonic())
        else:
            self.subscribers.pop((topic, callback), None)

    async def _startup(self, _app: web.Application) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=DISTRIBUTE_TIMEOUT_S))

    async def _cleanup(self, _app: web.Application) -> None:
        for task in self._tasks:
            task.cancel()
        if self._session is not None:
            await self._session.close()

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hub", self._request)
        app.on_startup.append(self._startup)
        app.on_cleanup.append(self._cleanup)
        return app

"""WebSub for the connector: subscribe the feeds it holds at their hubs, answer the hubs' verifications, take
their signed pushes, renew leases, and unsubscribe the feeds it loses — the I/O around ``connectors.core.websub``.

The callback server is an aiohttp application on ``--websub-listen``; each subscription has a callback URL of its
own (``<callback base>/websub/<random id>``) and a random secret, both kept in the connector's state file. A push
is checked against its subscription's secret and handed to the connector's ``deliver`` — the same parse,
de-duplication, produce and commit as a poll. Hostile input never raises: an unknown callback is answered 404
(verification) or 410 (push: the hub may drop it), an oversized body 413, a bad signature or a malformed feed 202
and ignored (the Recommendation asks for 2xx), each logged and counted. A push the connector could not commit
(Kafka refused it) is answered 503 so the hub tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any, Literal

from aiohttp import web

from connectors.core.feedlist import FeedSpec
from connectors.core.websub import (
    DEFAULT_WEBSUB_POLICY,
    HubLinks,
    Mode,
    Subscription,
    WebSubPolicy,
    check_signature,
    due,
    failed,
    needs_new_subscription,
    requested,
    subscription,
    verify,
)
from connectors.fetcher import Fetcher, FetchLimits
from connectors.metrics import ConnectorMetrics
from connectors.state import StateStore

log = logging.getLogger("wirewatch.connector.websub")
PushOutcome = Literal["accepted", "not_a_feed", "failed"]
Deliver = Callable[[FeedSpec, bytes, dict[str, str]], Awaitable[PushOutcome]]
"""The connector's handling of a verified push: parse, de-duplicate, produce, commit; its outcome."""
Clock = Callable[[], datetime]
TICK_S = 1.0
"""How often leases, retries and verification timeouts are looked at (a pure scan of the subscriptions)."""


class WebSub:
    """The subscriptions of one connector's feeds and the server their hubs call; an async context manager."""

    def __init__(
        self,
        store: StateStore,
        fetcher: Fetcher,
        metrics: ConnectorMetrics,
        listen: tuple[str, int],
        deliver: Deliver,
        clock: Clock,
        *,
        callback_base: str | None = None,
        policy: WebSubPolicy = DEFAULT_WEBSUB_POLICY,
        max_body: int = FetchLimits().max_bytes,
        on_demoted: Callable[[str], None] = lambda _url: None,
    ) -> None:
        """``callback_base``: the URL hubs reach ``listen`` at (default ``http://HOST:PORT`` of the bound socket);
        ``on_demoted(feed_url)``: a pushed feed is back on its polling schedule (it is due now)."""
        self.store = store
        self.fetcher = fetcher
        self.metrics = metrics
        self.listen = listen
        self.deliver = deliver
        self.clock = clock
        self.policy = policy
        self.max_body = max_body
        self.on_demoted = on_demoted
        self.callback_base = callback_base
        self._subs = {sub.feed_url: sub for sub in store.subscriptions()}
        self._held: dict[str, FeedSpec] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> WebSub:
        app = web.Application(client_max_size=self.max_body)
        app.router.add_get("/websub/{callback_id}", self._verification)
        app.router.add_post("/websub/{callback_id}", self._push)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, *self.listen).start()
        host, port = self._runner.addresses[0][:2]
        self.callback_base = (self.callback_base or f"http://{host}:{port}").rstrip("/")
        self._count()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ what the connector tells it

    def hold(self, specs: Sequence[FeedSpec]) -> None:
        """The feeds this connector holds now: unsubscribe (best effort) those it lost."""
        held = {spec.url: spec for spec in specs}
        for url in set(self._held) - set(held):
            sub = self._subs.get(url)
            if sub is None:
                continue
            if sub.status in ("requested", "active"):
                self._spawn(self._request(sub, "unsubscribe"))
            else:
                self._forget(url)
        self._held = held

    def discovered(self, spec: FeedSpec, links: HubLinks) -> None:
        """A poll of ``spec`` found its hub: subscribe, unless already subscribed to that hub and topic."""
        if spec.url not in self._held or not needs_new_subscription(self._subs.get(spec.url), links):
            return
        self._spawn(self._request(self._fresh(spec.url, links), "subscribe"))

    def is_pushed(self, url: str, now: datetime) -> bool:
        sub = self._subs.get(url)
        return sub is not None and sub.is_pushed(now)

    def missed(self, url: str) -> None:
        """A poll found entries the hub should have pushed: back to polling, subscribe again after a back-off."""
        if (sub := self._subs.get(url)) is not None:
            self._fail(sub, "the hub missed entries that a poll found")

    async def run(self, stop: asyncio.Event) -> None:
        """Renew leases, retry failed subscriptions, time out unverified requests, until ``stop`` is set."""
        while not stop.is_set():
            now = self.clock()
            for sub in list(self._subs.values()):
                step = due(sub, now, self.policy)
                if step is None:
                    continue
                if step.step == "fail":
                    self._fail(sub, step.reason)
                elif step.step == "forget":
                    log.info("websub %s: %s; forgotten", sub.feed_url, step.reason)
                    self._forget(sub.feed_url)
                elif step.step == "renew":
                    self._spawn(self._request(sub, "subscribe"))
                elif sub.feed_url in self._held:  # resubscribe
                    fresh = self._fresh(sub.feed_url, HubLinks(sub.hub, sub.topic), sub.failures)
                    self._spawn(self._request(fresh, "subscribe"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=TICK_S)

    # ------------------------------------------------------------------ requests to hubs

    def _fresh(self, url: str, links: HubLinks, failures: int = 0) -> Subscription:
        """A new subscription: a random callback id and secret (nobody but the hub learns either)."""
        callback_id, secret = secrets.token_urlsafe(18), secrets.token_urlsafe(32)
        return subscription(url, links, callback_id, secret, self.clock(), failures)

    async def _request(self, sub: Subscription, mode: Mode) -> None:
        sub = requested(sub, mode, self.clock())
        self._save(sub)  # before the POST: a hub may verify before it answers
        form = {"hub.mode": mode, "hub.topic": sub.topic, "hub.callback": self._callback(sub)}
        if mode == "subscribe":
            form |= {"hub.secret": sub.secret, "hub.lease_seconds": str(int(self.policy.lease.total_seconds()))}
        result = await self.fetcher.post_form(sub.hub, form)
        outcome = "failed" if result.kind == "failed" else "accepted"
        self.metrics.websub_requests.labels(mode, outcome).inc()
        current = self._subs.get(sub.feed_url)
        if result.failure is None or current is None or current.callback_id != sub.callback_id:
            log.info("websub %s: %s request accepted by %s", sub.feed_url, mode, sub.hub)
            return
        if mode == "unsubscribe":
            log.info("websub %s: unsubscribe refused by %s (%s); forgotten", sub.feed_url, sub.hub, result.failure)
            self._forget(sub.feed_url)
        elif current.awaits("subscribe"):
            self._fail(current, f"the hub refused the subscription: {result.failure}")

    def _callback(self, sub: Subscription) -> str:
        return f"{self.callback_base}/websub/{sub.callback_id}"

    # ------------------------------------------------------------------ what hubs send

    async def _verification(self, request: web.Request) -> web.StreamResponse:
        """The hub's verification of intent (or its denial): echo ``hub.challenge`` only for a request of ours."""
        query = request.query
        sub = self._by_callback(request.match_info["callback_id"])
        mode, topic = query.get("hub.mode", ""), query.get("hub.topic", "")
        if mode == "denied" and sub is not None and topic == sub.topic:
            self.metrics.websub_verifications.labels("denied").inc()
            self._fail(sub, f"denied by the hub: {query.get('hub.reason', 'no reason given')[:200]}")
            return web.Response(text="ok")
        challenge = query.get("hub.challenge")
        decision = verify(sub, mode, topic, _int(query.get("hub.lease_seconds")), self.clock())
        if not decision.echo or not challenge:
            self.metrics.websub_verifications.labels("refused").inc()
            reason = decision.reason if not decision.echo else "no hub.challenge"
            log.warning("websub verification %s for %s refused: %s", mode[:20] or "(no mode)", topic[:200], reason)
            return web.Response(status=404, text="no such subscription request")
        self.metrics.websub_verifications.labels("echoed").inc()
        if decision.updated is None:
            assert sub is not None
            self._forget(sub.feed_url)
        else:
            self._save(decision.updated)
        log.info("websub %s: %s", topic[:200], decision.reason)
        return web.Response(text=challenge)

    async def _push(self, request: web.Request) -> web.StreamResponse:
        """A content distribution: verified by its signature, then delivered like a poll's entries."""
        sub = self._by_callback(request.match_info["callback_id"])
        spec = self._held.get(sub.feed_url) if sub is not None and sub.status != "unsubscribing" else None
        if sub is None or spec is None:
            return self._refuse("unknown_callback", 410, "a push to an unknown or dropped callback")
        body = await _read_capped(request, self.max_body)
        if body is None:
            return self._refuse("too_large", 413, f"a push for {sub.feed_url} over {self.max_body} bytes")
        check = check_signature(request.headers.get("X-Hub-Signature"), body, sub.secret)
        if check != "valid":
            return self._refuse("bad_signature", 202, f"a push for {sub.feed_url} with a {check} signature, ignored")
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "content-language")}
        outcome = await self.deliver(spec, body, headers)
        self.metrics.websub_pushes.labels(outcome).inc()
        if outcome == "failed":
            return web.Response(status=503, text="not committed; send it again")
        return web.Response(status=202, text="accepted")

    def _refuse(self, outcome: str, status: int, message: str) -> web.Response:
        self.metrics.websub_pushes.labels(outcome).inc()
        log.warning("websub: %s (answered %d)", message, status)
        return web.Response(status=status, text=outcome)

    # ------------------------------------------------------------------ bookkeeping

    def _by_callback(self, callback_id: str) -> Subscription | None:
        return next((sub for sub in self._subs.values() if sub.callback_id == callback_id), None)

    def _fail(self, sub: Subscription, reason: str) -> None:
        was_pushed = sub.is_pushed(self.clock())
        updated = failed(sub, reason, self.clock(), self.policy)
        log.warning("websub %s: %s; polled as usual, subscribing again at %s", sub.feed_url, reason, updated.retry_at)
        self._save(updated)
        if was_pushed:
            self.store.poll_soon(sub.feed_url, self.clock())
            self.on_demoted(sub.feed_url)

    def _save(self, sub: Subscription) -> None:
        self._subs[sub.feed_url] = sub
        self.store.save_subscription(sub)
        self._count()

    def _forget(self, url: str) -> None:
        self._subs.pop(url, None)
        self.store.forget_subscription(url)
        self._count()

    def _count(self) -> None:
        self.metrics.count_subscriptions(self._subs.values())

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as a pair; ``ValueError`` naming what is wrong."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


async def _read_capped(request: web.Request, cap: int) -> bytes | None:
    """The raw body (the signature covers it as sent), or ``None`` once it passes ``cap``."""
    if request.content_length is not None and request.content_length > cap:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > cap:
            return None
    return bytes(body)


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None

"""Webhook delivery: at most one worker per alert, state in a Faust table, retries on a local schedule.

The ``deliver_webhooks`` agent reads the alerts topic in the worker group, so each alert partition — and
every alert in it — belongs to one worker. For each alert it records one pending delivery per enabled
endpoint of the alert's desk in the ``webhook-deliveries`` table (key = ``alert_id``, the topic's own key,
so the table is co-partitioned with the topic and moves with it on a rebalance; it is recovered from its
changelog after a restart). A redelivered alert finds its deliveries recorded and adds none.

``run`` sends due deliveries: a heap of due times is filled by the agent and by a scan of the table after
every rebalance (and every ``RESCAN_S``), and attempts update the table. The table uses the partitioner for
its changelog, which is what lets the sender (outside stream iteration) write it.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import random
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import aiohttp
from faust.types import TP, EventT

from streams import __version__
from streams.api.host import WorkerHost
from streams.api.metrics import ApiMetrics
from streams.api.records import CompactedView, WebhookRecord, publish
from streams.api.webhooks import (
    AlertDeliveries,
    Delivery,
    DeliveryStatus,
    RetryPolicy,
    after_attempt,
    eligible_endpoints,
    payload,
    signature_headers,
)
from streams.core.models import Alert
from streams.infra.settings import Settings
from streams.infra.url_guard import UrlGuard, UrlRefused

if TYPE_CHECKING:
    import faust


log = logging.getLogger(__name__)

RESCAN_S = 30.0
FINISHED_KEPT_S = 3 * 86400
"""Finished deliveries stay in the table this long, so a redelivered alert is not delivered again."""
CONCURRENT_ATTEMPTS = 32


class WebhookDispatcher:
    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        pipeline: WorkerHost,
        webhooks: CompactedView[WebhookRecord],
        metrics: ApiMetrics,
    ) -> None:
        self.app = app
        self.settings = settings
        self.pipeline = pipeline
        self.webhooks = webhooks
        self.metrics = metrics
        self.table = app.Table(
            "webhook-deliveries",
            partitions=settings.topic_partitions,
            key_type=bytes,
            value_type=bytes,
            use_partitioner=True,
        )
        self._guard = UrlGuard(allow_private_networks=settings.allow_private_networks)
        self._due: list[tuple[float, str]] = []
        self._in_flight: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._scanned: frozenset[TP] | None = None
        self._scanned_at = 0.0
        self._slots = asyncio.Semaphore(CONCURRENT_ATTEMPTS)
        self._rng = random.Random()  # noqa: S311 - retry jitter, not a secret
        s = settings
        self._retry = RetryPolicy(
            s.webhook_retry_base_s, s.webhook_retry_factor, s.webhook_retry_max_s, s.webhook_max_attempts
        )

    # ------------------------------------------------------------------ agent side
    async def accept(self, event: EventT[bytes], alert: Alert) -> None:
        """Record a pending delivery for each endpoint of the alert's desk that has none yet."""
        hooks = eligible_endpoints(self.webhooks.records.values(), alert)
        if not hooks:
            return
        key = alert.alert_id.encode()
        now = time.time()
        stored = self.table.get(key)
        state = (
            AlertDeliveries.from_wire(stored)
            if stored
            else AlertDeliveries(alert=alert, partition=event.message.partition, updated_at=now)
        )
        known = {d.webhook_id for d in state.deliveries}
        new = tuple(Delivery(webhook_id=h.webhook_id, next_at=now) for h in hooks if h.webhook_id not in known)
        if not new:
            return
        self.table[key] = state.model_copy(
            update={"deliveries": (*state.deliveries, *new), "updated_at": now}
        ).to_json()
        self._schedule(alert.alert_id, now)

    def _schedule(self, alert_id: str, at: float) -> None:
        heapq.heappush(self._due, (at, alert_id))
        self._wake.set()

    # ------------------------------------------------------------------ sender
    async def run(self) -> None:
        await self.webhooks.ready.wait()
        timeout = aiohttp.ClientTimeout(total=self.settings.webhook_timeout_s)
        headers = {"User-Agent": f"wirewatch-webhooks/{__version__}", "Content-Type": "application/json"}
        async with aiohttp.ClientSession(
            connector=self._guard.connector(limit=CONCURRENT_ATTEMPTS), timeout=timeout, headers=headers
        ) as session:
            while True:
                self._rescan_if_needed()
                now = time.time()
                while self._due and self._due[0][0] <= now:
                    _, alert_id = heapq.heappop(self._due)
                    if alert_id not in self._in_flight:
                        self._in_flight.add(alert_id)
                        task = asyncio.create_task(self._attempt(session, alert_id))
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
                wait = min(self._due[0][0] - now, 1.0) if self._due else 1.0
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), max(wait, 0.01))

    def _active(self) -> frozenset[TP]:
        return frozenset(self.app.assignor.assigned_actives())

    def _rescan_if_needed(self) -> None:
        """Rebuild the due heap from the table after a rebalance or recovery, and drop old finished entries."""
        if self.app.rebalancing or self.app.in_recovery:
            return
        active = self._active()
        if active == self._scanned and time.monotonic() - self._scanned_at < RESCAN_S:
            return
        self._scanned, self._scanned_at = active, time.monotonic()
        owned = {tp.partition for tp in active if tp.topic == self.settings.topics.alerts}
        now = time.time()
        due: list[tuple[float, str]] = []
        expired: list[bytes] = []
        for key, value in list(self.table.items()):
            state = AlertDeliveries.from_wire(value)
            if state.partition not in owned:
                continue
            next_at = state.next_due()
            if next_at is not None:
                due.append((next_at, state.alert.alert_id))
            elif state.updated_at < now - FINISHED_KEPT_S:
                expired.append(key)
        for key in expired:
            del self.table[key]
        heapq.heapify(due)
        self._due = due
        self.metrics.webhook_pending.set(len(due))
        self._wake.set()

    async def _attempt(self, session: aiohttp.ClientSession, alert_id: str) -> None:
        try:
            async with self._slots:
                key = alert_id.encode()
                stored = self.table.get(key)
                if stored is None:
                    return
                state = AlertDeliveries.from_wire(stored)
                if TP(self.settings.topics.alerts, state.partition) not in self._active():
                    return  # another worker owns this alert now
                now = time.time()
                due = [d for d in state.pending() if d.next_at <= now]
                results = await asyncio.gather(*(self._deliver(session, state.alert, d) for d in due))
                # Re-read: the agent may have added a delivery for a new endpoint meanwhile.
                latest = AlertDeliveries.from_wire(self.table.get(key) or stored)
                for result in results:
                    latest = latest.replace(result, time.time())
                self.table[key] = latest.to_json()
                next_at = latest.next_due()
                if next_at is not None:
                    self._schedule(alert_id, next_at)
        finally:
            self._in_flight.discard(alert_id)

    async def _deliver(self, session: aiohttp.ClientSession, alert: Alert, delivery: Delivery) -> Delivery:
        """One attempt; returns the delivery's new state."""
        hook = self.webhooks.records.get(delivery.webhook_id)
        if hook is None or not hook.enabled:
            return await self._finish(alert, delivery, "dropped", "endpoint removed or disabled")
        now = datetime.now(UTC)
        body = payload(alert, hook.format)
        headers = signature_headers(alert.alert_id, body, hook.signing_secrets(now), now)
        started = time.perf_counter()
        try:
            self._guard.check_url(hook.url)
            async with session.post(hook.url, data=body, headers=headers, allow_redirects=False) as response:
                status = response.status
            outcome = _outcome(status)
            error = f"HTTP {status}"
        except UrlRefused as err:
            outcome, error = "refused", str(err)
        except TimeoutError:
            outcome, error = "timeout", f"no answer within {self.settings.webhook_timeout_s:g} s"
        except aiohttp.ClientError as err:
            outcome, error = "connection_error", f"{type(err).__name__}: {err}"
        self.metrics.webhook_seconds.observe(time.perf_counter() - started)
        self.metrics.webhook_attempts.labels(alert.desk, outcome).inc()
        decided = after_attempt(delivery, outcome, error, time.time(), self._retry, self._rng)
        if decided.disable_endpoint:
            await self._disable(hook, f"the endpoint answered 410 Gone at {now.isoformat(timespec='seconds')}")
        if decided.final is None:
            log.info(
                "webhook %s alert %s: %s; attempt %d failed",
                hook.webhook_id,
                alert.alert_id,
                error,
                decided.delivery.attempts,
            )
            return decided.delivery
        return await self._finish(
            alert, decided.delivery, decided.final, decided.delivery.last_error, decided.dead_letter_reason
        )

    async def _finish(
        self,
        alert: Alert,
        delivery: Delivery,
        status: DeliveryStatus,
        error: str | None,
        dead_letter_reason: str | None = None,
    ) -> Delivery:
        self.metrics.webhook_results.labels(alert.desk, status).inc()
        if dead_letter_reason is not None:
            detail = f"webhook {delivery.webhook_id}, {delivery.attempts} attempts: {error}"
            await self.pipeline.dead_letter(
                "webhook", dead_letter_reason, detail, alert.alert_id.encode(), alert.to_json()
            )
        return delivery.model_copy(update={"status": status})

    async def _disable(self, hook: WebhookRecord, reason: str) -> None:
        disabled = hook.model_copy(
            update={"enabled": False, "disabled_reason": reason, "updated_at": datetime.now(UTC)}
        )
        self.webhooks.apply(hook.webhook_id.encode(), disabled.to_json())
        await asyncio.to_thread(publish, self.settings, self.settings.topics.webhooks, hook.webhook_id, disabled)


def _outcome(status: int) -> str:
    if 200 <= status < 300:
        return "delivered"
    if status == 410:
        return "gone"
    if 300 <= status < 400:
        return "redirect"  # never followed: a redirect could lead anywhere, the guard only saw the first URL
    return "http_error"

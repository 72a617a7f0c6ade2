"""Webhook rules without I/O: payloads, Standard Webhooks signatures, the retry schedule, delivery state.

A delivery's ``webhook-id`` is the alert id, so a receiver dedupes retries and redeliveries alike. The body
is built from the alert alone, so every attempt sends the same bytes; only ``webhook-timestamp`` (and so the
signature) changes per attempt, as the scheme intends (receivers reject stale timestamps).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import Field
from standardwebhooks.webhooks import Webhook

from streams.api.records import WebhookFormat, WebhookRecord
from streams.core.models import Alert, WireModel

DeliveryStatus = Literal["pending", "delivered", "exhausted", "gone", "dropped"]
"""``gone``: the endpoint answered 410 (and was disabled); ``dropped``: the endpoint was disabled or removed."""


def payload(alert: Alert, format: WebhookFormat) -> bytes:
    """The request body for ``alert``: the Standard Webhooks envelope, or a Slack message."""
    if format == "slack":
        return json.dumps(slack_message(alert), ensure_ascii=False).encode()
    envelope = {"type": "alert.fired", "timestamp": alert.fired_at.isoformat(), "data": alert.to_wire()}
    return json.dumps(envelope, ensure_ascii=False).encode()


def slack_escape(text: str) -> str:
    """Slack's mrkdwn control characters: feed text must not become links or @-mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(alert: Alert) -> dict[str, object]:
    """An incoming-webhook message (``text`` for notifications, ``blocks`` for the layout)."""
    pair = " + ".join(slack_escape(e.name) for e in alert.entities)
    title = slack_escape(alert.article.title or alert.article.url)
    source = slack_escape(alert.article.source.name)
    sourcing = ", ".join(f"{slack_escape(c.name)} ({c.role})" for c in alert.state_media.cited)
    state_line = f":warning: *state-sourced*: {sourcing or 'yes'}" if alert.state_media.state_sourced else ""
    evidence = "\n".join(f"> {slack_escape(sentence)}" for sentence in alert.evidence[:3])
    url = _slack_url(alert.article.url)
    lead = f"*{pair}* — <{url}|{title}> ({source})"
    text = f"[{slack_escape(alert.desk)}] {pair}: {title}"
    if alert.surge is not None:
        figures = alert.surge
        window = f"{figures.count} articles in {figures.window_s // 60} min, about {figures.expected:.1f} expected"
        lead = f":chart_with_upwards_trend: *{pair}* surging — {window}"
        stories = "\n".join(
            f"• <{_slack_url(s.url)}|{slack_escape(s.title or s.url)}> ({s.articles})" for s in figures.top_stories
        )
        evidence = stories
        text = f"[{slack_escape(alert.desk)}] {pair} surging: {window}"
    body = "\n".join(filter(None, [lead, state_line, evidence]))
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": body[:3000]}}],
    }


def _slack_url(url: str) -> str:
    """A URL inside Slack's ``<url|label>``: its own ``>`` and ``|`` would end it."""
    return url.replace(">", "%3E").replace("|", "%7C")


def signature_headers(message_id: str, body: bytes, secrets: list[str], now: datetime) -> dict[str, str]:
    """``webhook-id``/``-timestamp``/``-signature``; one ``v1,`` signature per secret still valid."""
    text = body.decode()
    signatures = " ".join(Webhook(secret).sign(message_id, now, text) for secret in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.astimezone(UTC).timestamp())),
        "webhook-signature": signatures,
    }


def retry_delay(attempt: int, base_s: float, factor: float, max_s: float, rng: random.Random) -> float:
    """Delay before attempt ``attempt + 1`` (``attempt`` ≥ 1 attempts made): exponential, capped, with
    "equal jitter" (half fixed, half random) so a recovering receiver is not hit by every retry at once."""
    ceiling = min(max_s, base_s * factor ** (attempt - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float
    factor: float
    max_s: float
    max_attempts: int


@dataclass(frozen=True)
class AttemptDecision:
    """What follows one attempt: the delivery's new state, and what the dispatcher must do about it."""

    delivery: Delivery
    final: DeliveryStatus | None
    """``delivered``, ``gone`` or ``exhausted`` when no attempt follows; None when one is scheduled."""
    disable_endpoint: bool = False
    """The endpoint answered 410 Gone: disable it for every alert, not only this one."""
    dead_letter_reason: str | None = None
    """The alert goes to the dead-letter topic with this reason (it will never reach this endpoint)."""


def after_attempt(
    delivery: Delivery, outcome: str, error: str, now_s: float, policy: RetryPolicy, rng: random.Random
) -> AttemptDecision:
    """The webhook state machine: delivered, gone (410: disable the endpoint), exhausted after
    ``policy.max_attempts``, or pending again after an exponential, capped, jittered delay."""
    attempts = delivery.attempts + 1
    tried = delivery.model_copy(update={"attempts": attempts, "last_error": None if outcome == "delivered" else error})
    if outcome == "delivered":
        return AttemptDecision(tried.model_copy(update={"status": "delivered"}), "delivered")
    if outcome == "gone":
        return AttemptDecision(tried.model_copy(update={"status": "gone"}), "gone", True, "endpoint_gone")
    if attempts >= policy.max_attempts:
        return AttemptDecision(tried.model_copy(update={"status": "exhausted"}), "exhausted", False, "exhausted")
    delay = retry_delay(attempts, policy.base_s, policy.factor, policy.max_s, rng)
    return AttemptDecision(tried.model_copy(update={"next_at": now_s + delay}), None)


def eligible_endpoints(hooks: Iterable[WebhookRecord], alert: Alert) -> list[WebhookRecord]:
    """The endpoints an alert is delivered to: its desk's, enabled, created before the alert fired."""
    return [h for h in hooks if h.desk == alert.desk and h.enabled and h.created_at <= alert.fired_at]


class Delivery(WireModel):
    """One alert to one endpoint."""

    webhook_id: str
    status: DeliveryStatus = "pending"
    attempts: Annotated[int, Field(ge=0)] = 0
    next_at: float = 0.0
    """Unix time of the next attempt (pending deliveries)."""
    last_error: str | None = None


class AlertDeliveries(WireModel):
    """The delivery state of one alert (a Faust table value, key = ``alert_id``)."""

    alert: Alert
    partition: int
    """The alerts-topic partition: only the worker that owns it delivers."""
    deliveries: tuple[Delivery, ...] = ()
    updated_at: float

    def pending(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.status == "pending"]

    def next_due(self) -> float | None:
        return min((d.next_at for d in self.pending()), default=None)

    def replace(self, delivery: Delivery, now: float) -> AlertDeliveries:
        others = tuple(d for d in self.deliveries if d.webhook_id != delivery.webhook_id)
        return self.model_copy(update={"deliveries": (*others, delivery), "updated_at": now})

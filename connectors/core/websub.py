"""WebSub (W3C Recommendation) for the subscriber, as data: hub discovery, the push signature, and how a
subscription moves between its states — time, secrets and callback ids passed in, every step a value.

A subscription is ``requested`` (a subscribe request sent, the hub's verification of intent awaited), ``active``
(verified, its lease running; a renewal is a new subscribe request while active), ``unsubscribing`` (the feed
went to another connector or lost its hub), or ``failed`` (refused, denied, never verified, expired, or its hub
missed entries a poll then found), retried with a doubling back-off. Only an ``active`` subscription makes the
feed "pushed"; every other state leaves it on its normal polling schedule.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from connectors.core.urls import canonical_url

Mode = Literal["subscribe", "unsubscribe"]
Status = Literal["requested", "active", "unsubscribing", "failed"]
STATUSES: tuple[Status, ...] = ("requested", "active", "unsubscribing", "failed")
SignatureCheck = Literal["valid", "missing", "unknown_method", "mismatch"]
SIGNATURE_METHODS = ("sha1", "sha256", "sha384", "sha512")
"""The ``X-Hub-Signature`` methods the Recommendation names (sha1 is a MUST for hubs to offer)."""


@dataclass(frozen=True)
class HubLinks:
    """Where to subscribe (``hub``) and to what (``topic``: the feed's ``self`` link)."""

    hub: str
    topic: str


def discover_hub(links: Iterable[Mapping[str, Any]]) -> HubLinks | None:
    """The first ``rel="hub"`` and ``rel="self"`` links of a feed (feedparser's ``feed.links``), both http(s);
    ``None`` when either is missing (the Recommendation requires both)."""
    found: dict[str, str] = {}
    for link in links:
        rel, href = link.get("rel"), link.get("href")
        if rel not in ("hub", "self") or rel in found or not isinstance(href, str):
            continue
        if canonical_url(href.strip()) is not None:
            found[str(rel)] = href.strip()
    if "hub" not in found or "self" not in found:
        return None
    return HubLinks(hub=found["hub"], topic=found["self"])


def check_signature(header: str | None, body: bytes, secret: str) -> SignatureCheck:
    """``X-Hub-Signature: method=hexdigest`` against the HMAC of the raw body with the subscription's secret,
    compared in constant time."""
    if not header or "=" not in header:
        return "missing"
    method, _, digest = header.strip().partition("=")
    method = method.strip().lower()
    if method not in SIGNATURE_METHODS:
        return "unknown_method"
    expected = hmac.new(secret.encode(), body, method).hexdigest().encode()
    given = digest.strip().lower().encode("ascii", "replace")
    return "valid" if hmac.compare_digest(expected, given) else "mismatch"


@dataclass(frozen=True)
class WebSubPolicy:
    lease: timedelta = timedelta(days=1)
    """Asked for in ``hub.lease_seconds``: a dead subscriber is pushed to for at most a day."""
    renew_at: float = 0.8
    """A renewal is requested this far into the granted lease."""
    verify_timeout: timedelta = timedelta(minutes=5)
    """A request the hub has not verified by then has failed (a silent hub)."""
    retry_first: timedelta = timedelta(minutes=1)
    """Wait after the first failure; doubled for each further one."""
    retry_max: timedelta = timedelta(hours=6)
    missed_grace: timedelta = timedelta(minutes=5)
    """An entry a poll finds that was published longer ago than this should have been pushed."""


DEFAULT_WEBSUB_POLICY = WebSubPolicy()


@dataclass(frozen=True)
class Subscription:
    """One feed's subscription at its hub; ``callback_id`` names its callback URL, ``secret`` signs its pushes."""

    feed_url: str
    hub: str
    topic: str
    callback_id: str
    secret: str
    status: Status
    requested_at: datetime
    """When the last subscribe or unsubscribe request was sent."""
    verified_at: datetime | None = None
    lease_s: int | None = None
    """The lease the hub granted (at its last verification)."""
    failures: int = 0
    retry_at: datetime | None = None
    last_error: str | None = None

    @property
    def expires_at(self) -> datetime | None:
        if self.verified_at is None or self.lease_s is None:
            return None
        return self.verified_at + timedelta(seconds=self.lease_s)

    @property
    def renewing(self) -> bool:
        """An active subscription whose renewal the hub has not verified yet."""
        return self.status == "active" and self.verified_at is not None and self.requested_at > self.verified_at

    def awaits(self, mode: str) -> bool:
        """Whether a verification of intent for ``mode`` answers a request of ours."""
        if mode == "subscribe":
            return self.status == "requested" or self.renewing
        return mode == "unsubscribe" and self.status == "unsubscribing"

    def is_pushed(self, now: datetime) -> bool:
        return self.status == "active" and self.expires_at is not None and now < self.expires_at


def subscription(
    feed_url: str, links: HubLinks, callback_id: str, secret: str, now: datetime, failures: int = 0
) -> Subscription:
    """A new subscription whose subscribe request is being sent at ``now`` (fresh secret and callback);
    ``failures``: of the subscriptions it replaces, so the back-off keeps doubling."""
    return Subscription(feed_url, links.hub, links.topic, callback_id, secret, "requested", now, failures=failures)


@dataclass(frozen=True)
class Verification:
    """The answer to a hub's verification of intent: echo the challenge or 404, and what to store."""

    echo: bool
    updated: Subscription | None
    """The subscription to store (``None``: forget it — an unsubscription was confirmed)."""
    reason: str


def verify(sub: Subscription | None, mode: str, topic: str, lease_s: int | None, now: datetime) -> Verification:
    """Echo only a verification whose mode and topic match a request of ours still awaited."""
    if sub is None:
        return Verification(False, None, "unknown callback")
    if topic != sub.topic:
        return Verification(False, sub, f"topic {topic[:200]!r} is not this subscription's")
    if not sub.awaits(mode):
        return Verification(False, sub, f"no {mode[:20]!r} request awaits verification (status {sub.status})")
    if mode == "unsubscribe":
        return Verification(True, None, "unsubscription confirmed")
    lease = lease_s if lease_s is not None and lease_s > 0 else None
    updated = replace(
        sub, status="active", verified_at=now, lease_s=lease or sub.lease_s, failures=0, retry_at=None, last_error=None
    )
    return Verification(True, updated, f"subscribed, lease {updated.lease_s} s")


def failed(sub: Subscription, error: str, now: datetime, policy: WebSubPolicy = DEFAULT_WEBSUB_POLICY) -> Subscription:
    """Refused, denied, never verified, expired or missed entries: polled normally, retried after a back-off."""
    failures = sub.failures + 1
    wait = min(policy.retry_first * 2 ** (failures - 1), policy.retry_max)
    return replace(sub, status="failed", failures=failures, retry_at=now + wait, last_error=error[:300])


def requested(sub: Subscription, mode: Mode, now: datetime) -> Subscription:
    """A subscribe (a renewal when active) or unsubscribe request is being sent at ``now``."""
    status: Status = "unsubscribing" if mode == "unsubscribe" else ("active" if sub.status == "active" else "requested")
    return replace(sub, status=status, requested_at=now)


Step = Literal["renew", "resubscribe", "fail", "forget"]


@dataclass(frozen=True)
class Due:
    """What a subscription needs at ``now``: a renewal, a fresh subscription (new secret and callback), to be
    marked failed (with ``reason``), or to be forgotten (an unsubscription the hub never confirmed)."""

    step: Step
    reason: str = ""


def due(sub: Subscription, now: datetime, policy: WebSubPolicy = DEFAULT_WEBSUB_POLICY) -> Due | None:
    waited = now - sub.requested_at
    timeout = policy.verify_timeout.total_seconds()
    if sub.status == "requested" and waited > policy.verify_timeout:
        return Due("fail", f"the hub did not verify the subscription within {timeout:.0f} s")
    if sub.status == "unsubscribing" and waited > policy.verify_timeout:
        return Due("forget", "the hub did not confirm the unsubscription")
    if sub.status == "failed" and sub.retry_at is not None and now >= sub.retry_at:
        return Due("resubscribe")
    if sub.status != "active" or sub.verified_at is None or sub.lease_s is None:
        return None
    if sub.expires_at is not None and now >= sub.expires_at:
        return Due("fail", "the lease expired before a renewal was verified")
    if sub.renewing and waited > policy.verify_timeout:
        return Due("fail", f"the hub did not verify the renewal within {timeout:.0f} s")
    if not sub.renewing and now >= sub.verified_at + timedelta(seconds=sub.lease_s * policy.renew_at):
        return Due("renew")
    return None


def needs_new_subscription(sub: Subscription | None, links: HubLinks) -> bool:
    """A feed polled with these hub links: subscribe unless a subscription to the same hub and topic exists."""
    if sub is None or sub.status == "unsubscribing":
        return True
    return (sub.hub, sub.topic) != (links.hub, links.topic)


def hub_missed(
    published: Iterable[datetime | None], now: datetime, policy: WebSubPolicy = DEFAULT_WEBSUB_POLICY
) -> bool:
    """A poll of a pushed feed found new entries older than the grace: its hub did not deliver them."""
    return any(when is not None and now - when > policy.missed_grace for when in published)

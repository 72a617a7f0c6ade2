"""WebSub's pure core: hub discovery, the push signature, and the subscription's state transitions."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from connectors.core.feedlist import FeedSpec
from connectors.core.normalize import parse_feed
from connectors.core.websub import (
    HubLinks,
    Subscription,
    WebSubPolicy,
    check_signature,
    discover_hub,
    due,
    failed,
    hub_missed,
    needs_new_subscription,
    requested,
    subscription,
    verify,
)

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
POLICY = WebSubPolicy()
LINKS = HubLinks("https://hub.example/", "https://news.example/feed.xml")
SECRET = "s3cret"


def _active(lease_s: int = 3600) -> Subscription:
    outcome = verify(subscription("https://news.example/rss", LINKS, "cb1", SECRET, NOW), "subscribe", LINKS.topic,
                     lease_s, NOW)  # fmt: skip
    assert outcome.updated is not None
    return outcome.updated


def test_hub_and_self_links_are_found_in_atom_and_in_atom_links_inside_rss() -> None:
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
      <link rel="hub" href="https://hub.example/"/><link rel="self" href="https://news.example/feed.xml"/>
      <entry><id>1</id><title>a</title><link href="https://news.example/1"/></entry></feed>"""
    rss = b"""<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
      <title>t</title><link>https://news.example/</link><atom:link rel="self" href="https://news.example/feed.xml"/>
      <atom:link rel="hub" href="https://hub.example/"/><item><title>a</title><link>https://news.example/1</link>
      </item></channel></rss>"""
    spec = FeedSpec("https://news.example/rss", "News")
    assert parse_feed(atom, spec, NOW).websub == LINKS
    assert parse_feed(rss, spec, NOW).websub == LINKS


@pytest.mark.parametrize(
    "links",
    [
        [{"rel": "hub", "href": "https://hub.example/"}],  # no self
        [{"rel": "self", "href": "https://news.example/feed.xml"}],  # no hub
        [{"rel": "hub", "href": "javascript:alert(1)"}, {"rel": "self", "href": "https://news.example/feed.xml"}],
        [{"rel": "hub", "href": None}, {"rel": "self", "href": "https://news.example/feed.xml"}],
        [],
    ],
)
def test_a_feed_without_both_usable_links_has_no_hub(links: list[dict[str, object]]) -> None:
    assert discover_hub(links) is None


def test_the_first_hub_is_taken() -> None:
    links = [
        {"rel": "hub", "href": "https://hub.example/"},
        {"rel": "hub", "href": "https://other-hub.example/"},
        {"rel": "self", "href": "https://news.example/feed.xml"},
    ]
    assert discover_hub(links) == LINKS


@pytest.mark.parametrize("method", ["sha1", "sha256", "sha384", "sha512"])
def test_a_signature_of_every_method_the_recommendation_names_is_checked(method: str) -> None:
    body = b"<feed>raw bytes as sent</feed>"
    digest = hmac.new(SECRET.encode(), body, getattr(hashlib, method)).hexdigest()
    assert check_signature(f"{method}={digest}", body, SECRET) == "valid"
    assert check_signature(f"{method.upper()}={digest.upper()}", body, SECRET) == "valid"
    assert check_signature(f"{method}={digest}", body + b" ", SECRET) == "mismatch"
    assert check_signature(f"{method}={digest}", body, "another secret") == "mismatch"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "missing"),
        ("", "missing"),
        ("deadbeef", "missing"),
        ("md5=deadbeef", "unknown_method"),
        ("sha256=", "mismatch"),
        ("sha256=n\u00f6t-hex", "mismatch"),
    ],
)
def test_a_missing_or_malformed_signature_is_not_valid(header: str | None, expected: str) -> None:
    assert check_signature(header, b"body", SECRET) == expected


def test_the_challenge_is_echoed_only_for_a_request_awaiting_verification() -> None:
    sub = subscription("https://news.example/rss", LINKS, "cb1", SECRET, NOW)
    assert not verify(None, "subscribe", LINKS.topic, 60, NOW).echo  # unknown callback
    assert not verify(sub, "subscribe", "https://elsewhere.example/feed", 60, NOW).echo  # another topic
    assert not verify(sub, "unsubscribe", LINKS.topic, None, NOW).echo  # we never asked to unsubscribe
    assert not verify(sub, "nonsense", LINKS.topic, None, NOW).echo
    accepted = verify(sub, "subscribe", LINKS.topic, 3600, NOW)
    assert accepted.echo
    assert accepted.updated is not None
    assert accepted.updated.status == "active"
    assert accepted.updated.expires_at == NOW + timedelta(hours=1)
    assert accepted.updated.is_pushed(NOW)
    assert not accepted.updated.is_pushed(NOW + timedelta(hours=1))
    # once active, a second subscribe verification is not ours (no renewal was asked for)
    assert not verify(accepted.updated, "subscribe", LINKS.topic, 3600, NOW).echo


def test_an_unsubscription_is_echoed_once_asked_for_and_then_forgotten() -> None:
    leaving = requested(_active(), "unsubscribe", NOW + timedelta(minutes=1))
    assert leaving.status == "unsubscribing"
    assert not leaving.is_pushed(NOW)
    outcome = verify(leaving, "unsubscribe", LINKS.topic, None, NOW + timedelta(minutes=1))
    assert outcome.echo
    assert outcome.updated is None


def test_a_lease_is_renewed_before_it_expires_and_the_renewal_verified() -> None:
    active = _active(lease_s=1000)
    assert due(active, NOW + timedelta(seconds=799), POLICY) is None
    renew = due(active, NOW + timedelta(seconds=800), POLICY)
    assert renew is not None
    assert renew.step == "renew"
    renewing = requested(active, "subscribe", NOW + timedelta(seconds=800))
    assert renewing.renewing
    assert renewing.is_pushed(NOW + timedelta(seconds=801))
    assert due(renewing, NOW + timedelta(seconds=801), POLICY) is None  # not asked twice
    renewed = verify(renewing, "subscribe", LINKS.topic, 1000, NOW + timedelta(seconds=810))
    assert renewed.echo
    assert renewed.updated is not None
    assert renewed.updated.expires_at == NOW + timedelta(seconds=1810)
    assert not renewed.updated.renewing


def test_a_silent_hub_an_expired_lease_and_a_lost_renewal_fail_the_subscription() -> None:
    sub = subscription("https://news.example/rss", LINKS, "cb1", SECRET, NOW)
    late = NOW + POLICY.verify_timeout + timedelta(seconds=1)
    step = due(sub, late, POLICY)
    assert step is not None
    assert step.step == "fail"
    assert "did not verify" in step.reason
    active = _active(lease_s=100)
    step = due(active, NOW + timedelta(seconds=100), POLICY)
    assert step is not None
    assert step.step == "fail"
    assert "expired" in step.reason
    renewing = requested(_active(lease_s=100_000), "subscribe", NOW + timedelta(seconds=80_000))
    step = due(renewing, NOW + timedelta(seconds=80_000) + POLICY.verify_timeout + timedelta(seconds=1), POLICY)
    assert step is not None
    assert step.step == "fail"


def test_a_failed_subscription_is_retried_with_a_doubling_back_off() -> None:
    sub = subscription("https://news.example/rss", LINKS, "cb1", SECRET, NOW)
    first = failed(sub, "HTTP 500", NOW, POLICY)
    assert first.status == "failed"
    assert not first.is_pushed(NOW)
    assert first.retry_at == NOW + POLICY.retry_first
    assert due(first, NOW + POLICY.retry_first - timedelta(seconds=1), POLICY) is None
    step = due(first, NOW + POLICY.retry_first, POLICY)
    assert step is not None
    assert step.step == "resubscribe"
    second = failed(requested(first, "subscribe", NOW), "HTTP 500", NOW, POLICY)
    assert second.retry_at == NOW + 2 * POLICY.retry_first
    many = replace(second, failures=40)
    assert failed(many, "again", NOW, POLICY).retry_at == NOW + POLICY.retry_max
    verified = verify(requested(second, "subscribe", NOW), "subscribe", LINKS.topic, 60, NOW)
    assert verified.updated is not None
    assert verified.updated.failures == 0


def test_an_unconfirmed_unsubscription_is_forgotten() -> None:
    leaving = requested(_active(), "unsubscribe", NOW)
    step = due(leaving, NOW + POLICY.verify_timeout + timedelta(seconds=1), POLICY)
    assert step is not None
    assert step.step == "forget"


def test_a_new_subscription_is_needed_only_for_a_new_hub_or_topic() -> None:
    active = _active()
    assert needs_new_subscription(None, LINKS)
    assert not needs_new_subscription(active, LINKS)
    assert not needs_new_subscription(failed(active, "x", NOW), LINKS)  # its retry is scheduled
    assert needs_new_subscription(active, HubLinks("https://new-hub.example/", LINKS.topic))
    assert needs_new_subscription(requested(active, "unsubscribe", NOW), LINKS)


def test_entries_a_poll_finds_that_are_older_than_the_grace_mean_the_hub_missed_them() -> None:
    assert not hub_missed([], NOW)
    assert not hub_missed([NOW - timedelta(minutes=1), None], NOW)  # a push may be on its way
    assert hub_missed([NOW - POLICY.missed_grace - timedelta(seconds=1)], NOW)

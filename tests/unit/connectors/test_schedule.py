"""Scheduling and per-feed state transitions with an injected clock and random source."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.core.schedule import (
    FAILURE_REASONS,
    Cadence,
    FeedState,
    PollOutcome,
    SchedulePolicy,
    ServerHints,
    Validators,
    advance,
    feed_health,
    hints_from_headers,
    next_poll_at,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = SchedulePolicy(jitter=0.0)
MIN, MAX = POLICY.min_interval, POLICY.max_interval


@dataclass
class FixedRng:
    value: float = 0.5

    def random(self) -> float:
        return self.value


MIDDLE = FixedRng(0.5)  # no jitter
FETCHED = PollOutcome("fetched")


NO_HINTS = ServerHints()


def _failed(reason: str = "http_5xx", hints: ServerHints = NO_HINTS) -> PollOutcome:
    return PollOutcome("failed", hints, reason=reason, detail="detail")


def test_a_new_feed_is_due_and_the_first_interval_is_used() -> None:
    state = FeedState(url="https://a.example/rss")
    assert state.is_due(NOW)
    after = advance(state, PollOutcome("fetched", new_entries=30), NOW, MIDDLE, POLICY)
    assert after.next_poll == NOW + POLICY.first_interval
    assert after.last_success == NOW
    assert not after.is_due(NOW + POLICY.first_interval - timedelta(seconds=1))
    assert timedelta(minutes=5) <= POLICY.first_interval <= timedelta(minutes=15)  # minutes, not an hour (0907)


def test_the_interval_follows_the_rate_of_new_entries() -> None:
    state = FeedState(url="u", last_success=NOW - timedelta(hours=1), entry_rate=None)
    busy = advance(state, PollOutcome("fetched", new_entries=6), NOW, MIDDLE, POLICY)
    assert busy.entry_rate == pytest.approx(6 / 3600)
    assert busy.next_poll == NOW + timedelta(minutes=10)
    # A quiet poll lowers the rate gradually: the interval grows but not at once to the maximum.
    quiet = advance(busy, PollOutcome("fetched", new_entries=0), NOW + timedelta(minutes=10), MIDDLE, POLICY)
    assert quiet.entry_rate == pytest.approx(0.7 * 6 / 3600)
    assert quiet.next_poll is not None
    assert timedelta(minutes=10) < quiet.next_poll - (NOW + timedelta(minutes=10)) < timedelta(minutes=15)


def test_intervals_are_clamped() -> None:
    flood = FeedState(url="u", last_success=NOW - timedelta(minutes=5), entry_rate=10.0)
    fast = advance(flood, PollOutcome("fetched", new_entries=500), NOW, MIDDLE, POLICY)
    assert fast.next_poll == NOW + MIN
    dead = FeedState(url="u", last_success=NOW - timedelta(days=3), entry_rate=0.0)
    slow = advance(dead, PollOutcome("fetched", new_entries=0), NOW, MIDDLE, POLICY)
    assert slow.next_poll == NOW + MAX


def test_a_fixed_interval_from_the_feed_list_replaces_the_adaptive_one_but_is_clamped() -> None:
    state = FeedState(url="u")
    twenty = Cadence(interval=timedelta(minutes=20))
    assert advance(state, FETCHED, NOW, MIDDLE, POLICY, twenty).next_poll == NOW + timedelta(minutes=20)
    ten_s = Cadence(interval=timedelta(seconds=10))
    assert advance(state, FETCHED, NOW, MIDDLE, POLICY, ten_s).next_poll == NOW + MIN


@pytest.mark.parametrize(
    ("hints", "expected"),
    [
        (ServerHints(ttl=timedelta(hours=3)), timedelta(hours=3)),
        (ServerHints(max_age=timedelta(hours=2)), timedelta(hours=2)),
        (ServerHints(expires_in=timedelta(hours=4)), timedelta(hours=4)),
        (ServerHints(max_age=timedelta(seconds=30)), POLICY.first_interval),  # never earlier than our own interval
        (ServerHints(ttl=timedelta(days=30)), timedelta(hours=24)),  # never later than the maximum
    ],
)
def test_server_hints_are_honoured(hints: ServerHints, expected: timedelta) -> None:
    after = advance(FeedState(url="u"), PollOutcome("fetched", hints), NOW, MIDDLE, POLICY)
    assert after.next_poll == NOW + expected


def test_failures_back_off_exponentially_and_honour_retry_after() -> None:
    state = FeedState(url="u")
    waits = []
    for _ in range(4):
        state = advance(state, _failed(), NOW, MIDDLE, POLICY)
        assert state.next_poll is not None
        waits.append(state.next_poll - NOW)
    assert waits == [timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20), timedelta(minutes=40)]
    assert state.consecutive_failures == 4
    assert state.last_error == "http_5xx: detail"
    limited = advance(
        FeedState(url="u"), _failed("http_429", ServerHints(retry_after=timedelta(hours=2))), NOW, MIDDLE, POLICY
    )
    assert limited.next_poll == NOW + timedelta(hours=2)


def test_repeated_failures_pause_the_feed_with_the_reason_and_a_success_resumes_it() -> None:
    state = FeedState(url="u")
    for _ in range(POLICY.pause_after_failures):
        state = advance(state, _failed("timeout"), NOW, MIDDLE, POLICY)
    assert state.is_paused
    assert state.paused_reason == "5 consecutive failures, last timeout: detail"
    assert state.next_poll == NOW + POLICY.pause_for
    # The probe after the pause fails again: the pause doubles.
    probe_time = NOW + POLICY.pause_for
    again = advance(state, _failed("timeout"), probe_time, MIDDLE, POLICY)
    assert again.is_paused
    assert again.next_poll == probe_time + 2 * POLICY.pause_for
    resumed = advance(again, FETCHED, probe_time + 2 * POLICY.pause_for, MIDDLE, POLICY)
    assert not resumed.is_paused
    assert resumed.consecutive_failures == 0
    assert resumed.last_error is None


def test_gone_feeds_pause_at_once() -> None:
    state = advance(FeedState(url="u"), _failed("http_gone"), NOW, MIDDLE, POLICY)
    assert state.is_paused
    assert "http_gone" in (state.paused_reason or "")


def test_success_keeps_new_validators_and_failure_keeps_the_old_ones() -> None:
    old = Validators(etag='"1"', content_hash="h1")
    new = Validators(etag='"2"', content_hash="h2")
    state = FeedState(url="u", validators=old)
    assert advance(state, PollOutcome("fetched", validators=new), NOW, MIDDLE, POLICY).validators == new
    assert advance(state, PollOutcome("not_modified"), NOW, MIDDLE, POLICY).validators == old
    assert advance(state, _failed(), NOW, MIDDLE, POLICY).validators == old


def test_jitter_spreads_polls_within_its_bounds() -> None:
    policy = SchedulePolicy(jitter=0.1)
    state = FeedState(url="u", last_success=NOW - timedelta(hours=2), entry_rate=1 / 7200)
    low = next_poll_at(state, FETCHED, NOW, FixedRng(0.0), policy)
    high = next_poll_at(state, FETCHED, NOW, FixedRng(0.999999), policy)
    assert low == NOW + timedelta(hours=2) * 0.9
    assert high == pytest.approx(NOW + timedelta(hours=2) * 1.1, abs=timedelta(seconds=1))


@given(
    rate=st.one_of(st.none(), st.floats(min_value=0, max_value=100)),
    new=st.integers(min_value=0, max_value=10_000),
    failures=st.integers(min_value=0, max_value=3),
    hint=st.integers(min_value=0, max_value=10**7),
    seed=st.integers(),
    failed=st.booleans(),
)
def test_unpaused_feeds_are_always_polled_between_the_minimum_and_the_maximum(
    rate: float | None, new: int, failures: int, hint: int, seed: int, failed: bool
) -> None:
    state = FeedState(url="u", entry_rate=rate, last_success=NOW - timedelta(hours=1), consecutive_failures=failures)
    hints = ServerHints(retry_after=timedelta(seconds=hint))
    outcome = _failed("http_429", hints) if failed else PollOutcome("fetched", hints, new_entries=new)
    after = advance(state, outcome, NOW, random.Random(seed), SchedulePolicy())
    assert after.next_poll is not None
    assert NOW + MIN <= after.next_poll <= NOW + MAX


def test_headers_become_hints() -> None:
    hints = hints_from_headers(
        {
            "Retry-After": "120",
            "Cache-Control": "public, max-age=600",
            "Expires": "Sun, 01 Mar 2026 13:00:00 GMT",
        },
        NOW,
        ttl=timedelta(minutes=15),
    )
    assert hints == ServerHints(
        timedelta(seconds=120), timedelta(seconds=600), timedelta(hours=1), timedelta(minutes=15)
    )
    assert hints.wait() == timedelta(hours=1)
    dated = hints_from_headers({"retry-after": "Sun, 01 Mar 2026 12:30:00 GMT"}, NOW)
    assert dated.retry_after == timedelta(minutes=30)
    assert (
        hints_from_headers({"Retry-After": "soon", "Expires": "0", "Cache-Control": "no-store, max-age=60"}, NOW)
        == ServerHints()
    )


def test_outcomes_are_checked() -> None:
    with pytest.raises(ValueError, match="reason"):
        PollOutcome("failed")
    with pytest.raises(ValueError, match="unknown failure reason"):
        PollOutcome("failed", reason="weird")
    assert "http_429" in FAILURE_REASONS


def test_feed_health_names_the_worst_first() -> None:
    day = timedelta(days=1)
    failing_and_old = FeedState(url="u", last_polled=NOW, last_success=NOW - 3 * day, consecutive_failures=4)
    assert feed_health(failing_and_old, NOW) == "failing"  # its own error says more than "stale"
    assert feed_health(replace(failing_and_old, paused_reason="410 Gone"), NOW) == "paused"
    assert feed_health(FeedState(url="u"), NOW) == "new"
    answered = FeedState(url="u", last_polled=NOW - 25 * timedelta(hours=1), last_success=NOW - 25 * timedelta(hours=1))
    assert feed_health(answered, NOW) == "ok"  # within the longest interval (24 h) and its jitter
    overdue = replace(answered, last_polled=NOW - 27 * timedelta(hours=1), last_success=NOW - 27 * timedelta(hours=1))
    assert feed_health(overdue, NOW) == "stale"  # nobody polled it in time
    assert feed_health(replace(overdue, last_success=None), NOW) == "stale"  # polled, never a success


HIGH = Cadence(priority="high")


def test_a_high_priority_feed_is_polled_every_minute_below_the_floor_with_its_jitter() -> None:
    jittered = SchedulePolicy(jitter=0.1)
    state = FeedState(url="u", entry_rate=1 / 86400, last_success=NOW - timedelta(days=1))
    assert advance(state, FETCHED, NOW, MIDDLE, POLICY, HIGH).next_poll == NOW + timedelta(seconds=60)
    assert POLICY.high_priority_interval < POLICY.min_interval
    low = next_poll_at(state, FETCHED, NOW, FixedRng(0.0), jittered, HIGH)
    high = next_poll_at(state, FETCHED, NOW, FixedRng(1.0), jittered, HIGH)
    assert (low - NOW, high - NOW) == (timedelta(seconds=54), timedelta(seconds=66))
    assert next_poll_at(state, FETCHED, NOW, FixedRng(0.0), jittered) - NOW >= jittered.min_interval  # normal: floor


def test_a_high_priority_feed_still_honours_the_server_and_backs_off_on_failures() -> None:
    retry = ServerHints(retry_after=timedelta(minutes=30))
    after = advance(FeedState(url="u"), PollOutcome("fetched", retry), NOW, MIDDLE, POLICY, HIGH)
    assert after.next_poll == NOW + timedelta(minutes=30)
    failed = advance(FeedState(url="u"), _failed(), NOW, MIDDLE, POLICY, HIGH)
    assert failed.next_poll == NOW + POLICY.failure_backoff


def test_a_pushed_feed_is_polled_as_a_safety_net_every_few_hours() -> None:
    busy = FeedState(url="u", entry_rate=1 / 60, last_success=NOW - timedelta(minutes=1))
    pushed = Cadence(pushed=True)
    assert advance(busy, FETCHED, NOW, MIDDLE, POLICY, pushed).next_poll == NOW + POLICY.pushed_interval
    assert advance(busy, FETCHED, NOW, MIDDLE, POLICY).next_poll == NOW + MIN  # without the push
    assert timedelta(hours=1) <= POLICY.pushed_interval <= timedelta(hours=6)
    assert advance(busy, FETCHED, NOW, MIDDLE, POLICY, Cadence(priority="high", pushed=True)).next_poll == NOW + (
        POLICY.high_priority_interval
    )

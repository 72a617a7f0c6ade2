"""When to poll a feed next, and how one poll changes a feed's state — as data, with time and rng passed in.

The interval adapts to how often new entries appear (an exponentially weighted rate of new entries
per second), is clamped to [min, max] with jitter so feeds do not synchronise, never undercuts what
the server asked for (``Retry-After``, ``Cache-Control: max-age``, ``Expires``, RSS ``<ttl>``), backs off
exponentially on failures, and pauses a feed after repeated failures (keeping the reason) until a
later probe succeeds. What a feed asks of it beyond its history is its ``Cadence``: an operator's fixed
interval, ``priority: high`` (every minute, below the usual floor) or a live WebSub subscription (a safety-net
poll every few hours, since its hub pushes the entries).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal, Protocol

OutcomeKind = Literal["fetched", "not_modified", "failed"]
Priority = Literal["normal", "high"]
PRIORITIES: tuple[Priority, ...] = ("normal", "high")

FAILURE_REASONS: tuple[str, ...] = (
    "refused", "bad_url", "dns", "connection", "tls", "timeout", "too_large", "too_many_redirects",
    "redirect_loop", "bad_redirect", "bad_response", "http_429", "http_5xx", "http_gone", "http_4xx",
    "not_a_feed", "internal",
)  # fmt: skip
"""Every reason a poll can fail for: bounded, so it is a metric label and a column."""

_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


class Rng(Protocol):
    """What scheduling needs from a random source (``random.Random`` satisfies it)."""

    def random(self) -> float: ...


@dataclass(frozen=True)
class ServerHints:
    """How long the server asked us to stay away, from the response headers and the feed itself."""

    retry_after: timedelta | None = None
    max_age: timedelta | None = None
    expires_in: timedelta | None = None
    ttl: timedelta | None = None

    def wait(self) -> timedelta:
        """The longest of the hints (zero when there are none): we never come back earlier."""
        waits = [h for h in (self.retry_after, self.max_age, self.expires_in, self.ttl) if h is not None]
        return max(waits, default=timedelta(0))


def hints_from_headers(headers: dict[str, str], now: datetime, ttl: timedelta | None = None) -> ServerHints:
    """Parse ``Retry-After`` (seconds or HTTP date), ``Cache-Control`` max-age and ``Expires``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    max_age = None
    cache_control = lowered.get("cache-control", "")
    if "no-store" not in cache_control.lower() and (match := _MAX_AGE.search(cache_control)):
        max_age = timedelta(seconds=int(match.group(1)))
    return ServerHints(
        retry_after=_delay(lowered.get("retry-after"), now),
        max_age=max_age,
        expires_in=_delay_from_date(lowered.get("expires"), now),
        ttl=ttl,
    )


def _delay(value: str | None, now: datetime) -> timedelta | None:
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    return _delay_from_date(value, now)


def _delay_from_date(value: str | None, now: datetime) -> timedelta | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


@dataclass(frozen=True)
class Validators:
    """What lets the next poll say "only if changed": HTTP validators plus a hash of the last body."""

    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None


NO_VALIDATORS = Validators()


@dataclass(frozen=True)
class PollOutcome:
    """The result of one poll, as the scheduler sees it."""

    kind: OutcomeKind
    hints: ServerHints = ServerHints()
    new_entries: int = 0
    validators: Validators | None = None
    """New validators after a successful fetch (``None`` keeps the old ones)."""
    reason: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        if (self.kind == "failed") != (self.reason is not None):
            raise ValueError("a failed outcome has a reason and only a failed outcome has one")
        if self.reason is not None and self.reason not in FAILURE_REASONS:
            raise ValueError(f"unknown failure reason {self.reason!r}")


@dataclass(frozen=True)
class SchedulePolicy:
    min_interval: timedelta = timedelta(minutes=5)
    """The floor of every interval but a high-priority feed's."""
    max_interval: timedelta = timedelta(hours=24)
    first_interval: timedelta = timedelta(minutes=10)
    """Interval before the rate of new entries is known (two successful polls; decision 0907)."""
    high_priority_interval: timedelta = timedelta(seconds=60)
    """A ``priority: high`` feed's interval, allowed below ``min_interval`` (server hints still win)."""
    pushed_interval: timedelta = timedelta(hours=3)
    """A feed whose WebSub hub pushes its entries: the safety-net poll that notices a hub gone quiet."""
    jitter: float = 0.1
    """Each wait is multiplied by a factor drawn from [1 - jitter, 1 + jitter]."""
    rate_weight: float = 0.3
    """Weight of the newest observation in the rate of new entries (exponential moving average)."""
    failure_backoff: timedelta = timedelta(minutes=5)
    """Wait after the first failure; doubled for each further consecutive failure."""
    pause_after_failures: int = 5
    pause_for: timedelta = timedelta(hours=24)
    """How long a paused feed rests before one probe poll (doubling, up to a week, while it keeps failing)."""
    max_pause: timedelta = timedelta(days=7)


DEFAULT_POLICY = SchedulePolicy()


@dataclass(frozen=True)
class Cadence:
    """What one feed asks of the schedule beyond its own history."""

    interval: timedelta | None = None
    """The operator's fixed interval (``interval:`` in the feed list) instead of the adaptive one."""
    priority: Priority = "normal"
    pushed: bool = False
    """A live WebSub subscription delivers the feed's entries."""


ADAPTIVE = Cadence()


def base_interval(state: FeedState, cadence: Cadence, policy: SchedulePolicy) -> tuple[timedelta, timedelta]:
    """The interval before jitter and server hints, and the floor it may be jittered down to — the one rule for
    every kind of feed: high priority every ``high_priority_interval`` (its jitter kept, below ``min_interval``),
    a pushed feed every ``pushed_interval``, else the operator's interval or the adaptive one."""
    if cadence.priority == "high":
        return policy.high_priority_interval, policy.high_priority_interval * (1 - policy.jitter)
    if cadence.pushed:
        return policy.pushed_interval, policy.min_interval
    return cadence.interval or _interval_from_rate(state.entry_rate, policy), policy.min_interval


@dataclass(frozen=True)
class FeedState:
    """Everything the connector remembers about one feed between polls."""

    url: str
    validators: Validators = Validators()
    next_poll: datetime | None = None
    """``None`` means "due now" (a feed never polled)."""
    entry_rate: float | None = None
    """New entries per second (moving average); ``None`` until two successful polls have been seen."""
    consecutive_failures: int = 0
    paused_reason: str | None = None
    pauses: int = 0
    last_polled: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None

    def is_due(self, now: datetime) -> bool:
        return self.next_poll is None or self.next_poll <= now

    @property
    def is_paused(self) -> bool:
        return self.paused_reason is not None


FeedHealth = Literal["ok", "failing", "stale", "paused", "new"]
FEED_HEALTH: tuple[FeedHealth, ...] = ("ok", "failing", "stale", "paused", "new")


def feed_health(state: FeedState, now: datetime, policy: SchedulePolicy = DEFAULT_POLICY) -> FeedHealth:
    """A feed's health in one word, the one rule behind the connector's metrics, ``feed list --health`` and the
    API: ``paused`` (the connector stopped polling it after repeated failures, or it is gone), ``failing`` (its
    last poll failed), ``new`` (never polled), ``stale`` (no successful poll for longer than the longest interval
    with its jitter: nobody has polled it in time), else ``ok``."""
    if state.is_paused:
        return "paused"
    if state.consecutive_failures:
        return "failing"
    if state.last_polled is None:
        return "new"
    stale_after = policy.max_interval * (1 + policy.jitter)
    if state.last_success is None or now - state.last_success > stale_after:
        return "stale"
    return "ok"


def advance(
    state: FeedState,
    outcome: PollOutcome,
    now: datetime,
    rng: Rng,
    policy: SchedulePolicy = DEFAULT_POLICY,
    cadence: Cadence = ADAPTIVE,
) -> FeedState:
    """The feed's state after ``outcome`` was observed at ``now`` (``next_poll`` included)."""
    if outcome.kind == "failed":
        failures = state.consecutive_failures + 1
        error = f"{outcome.reason}: {outcome.detail}" if outcome.detail else str(outcome.reason)
        pause = outcome.reason == "http_gone" or failures >= policy.pause_after_failures
        updated = replace(
            state,
            consecutive_failures=failures,
            last_polled=now,
            last_error=error,
            paused_reason=f"{failures} consecutive failures, last {error}" if pause else None,
            pauses=state.pauses + 1 if pause else state.pauses,
        )
    else:
        updated = replace(
            state,
            validators=outcome.validators or state.validators,
            entry_rate=_updated_rate(state, outcome, now, policy),
            consecutive_failures=0,
            paused_reason=None,
            pauses=0,
            last_polled=now,
            last_success=now,
            last_error=None,
        )
    return replace(updated, next_poll=next_poll_at(updated, outcome, now, rng, policy, cadence))


def next_poll_at(
    state: FeedState,
    outcome: PollOutcome,
    now: datetime,
    rng: Rng,
    policy: SchedulePolicy = DEFAULT_POLICY,
    cadence: Cadence = ADAPTIVE,
) -> datetime:
    """When to poll again, given the state *after* ``outcome`` (see ``advance``)."""
    if state.is_paused:
        pause = min(policy.pause_for * 2 ** max(state.pauses - 1, 0), policy.max_pause)
        return now + _jittered(pause, rng, policy)
    wait, floor = base_interval(state, cadence, policy)
    if outcome.kind == "failed":
        wait = min(policy.failure_backoff * 2 ** (state.consecutive_failures - 1), policy.max_interval)
    wait = max(_jittered(wait, rng, policy), floor, outcome.hints.wait())
    return now + min(wait, policy.max_interval)


def _updated_rate(state: FeedState, outcome: PollOutcome, now: datetime, policy: SchedulePolicy) -> float | None:
    """Fold this poll's new entries per second into the moving average (first poll: nothing to compare)."""
    if state.last_success is None:
        return state.entry_rate
    elapsed = (now - state.last_success).total_seconds()
    if elapsed <= 0:
        return state.entry_rate
    observed = outcome.new_entries / elapsed
    if state.entry_rate is None:
        return observed
    return policy.rate_weight * observed + (1 - policy.rate_weight) * state.entry_rate


def _interval_from_rate(rate: float | None, policy: SchedulePolicy) -> timedelta:
    """About one new entry per poll: the interval is the mean time between new entries."""
    if rate is None:
        return policy.first_interval
    if rate <= 0:
        return policy.max_interval
    return timedelta(seconds=min(1 / rate, policy.max_interval.total_seconds()))


def _jittered(wait: timedelta, rng: Rng, policy: SchedulePolicy) -> timedelta:
    return wait * (1 + policy.jitter * (2 * rng.random() - 1))

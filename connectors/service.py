"""The polling loop: pick due feeds, fetch them concurrently, parse, de-duplicate, produce, commit.

Each cycle ends with one ordering that makes crashes safe: **flush the producer, then commit** the
feed states and the seen articles in one SQLite transaction. A crash before the flush loses nothing
(nothing was marked seen, the next run fetches again); a crash between flush and commit re-sends that
cycle's articles with the same keys (the ids are deterministic), which downstream de-duplicates by id.
New articles whose feed wants their pages (``connectors.core.fulltext``) are not produced by the cycle:
the same commit queues them for the page stage (``connectors.pages``), which runs beside the cycles.
A WebSub push (``connectors.websub``) takes the same path — de-duplicate, produce, flush, commit — one delivery
at a time with the cycles' (a lock), so a push and a poll of one entry produce it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from time import perf_counter
from typing import Any

from connectors.core.errors import FeedFailure
from connectors.core.feedlist import FeedSpec, feed_host, spread_by_host
from connectors.core.feedstate import FeedStateRecord, is_newer
from connectors.core.fulltext import wants_page
from connectors.core.normalize import DEFAULT_PARSE_LIMITS, FeedEntry, ParseLimits, parse_feed
from connectors.core.schedule import (
    DEFAULT_POLICY,
    FeedState,
    PollOutcome,
    Rng,
    SchedulePolicy,
    advance,
    hints_from_headers,
)
from connectors.core.websub import HubLinks, hub_missed
from connectors.fetcher import Fetcher, FetchResult
from connectors.metrics import ConnectorMetrics
from connectors.pages import PageStage
from connectors.producer import ArticleSink
from connectors.state import StateStore
from connectors.websub import PushOutcome, WebSub
from streams.core.errors import BrokerUnavailable

log = logging.getLogger("wirewatch.connector")
BROKER_RETRY_S = 5.0
"""Pause before a cycle that failed because Kafka did not take its articles is run again."""
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class FeedPoll:
    """One feed's poll (or push) before de-duplication: the outcome for the scheduler and the parsed entries."""

    spec: FeedSpec
    state: FeedState
    outcome: PollOutcome
    entries: tuple[FeedEntry, ...]
    metric_outcome: str
    elapsed_s: float
    websub: HubLinks | None = None
    """The hub the feed declared (a successful poll's parse)."""
    pushed: bool = False
    """Entries a hub pushed: the feed's schedule is left as it is."""


@dataclass(frozen=True)
class Delivery:
    """What one delivery of polls (or a push) produced, queued and skipped."""

    fresh: int
    duplicates: int
    queued: int


@dataclass(frozen=True)
class CycleReport:
    feeds: int
    fetched: int
    not_modified: int
    failed: int
    new_articles: int
    duplicates: int
    elapsed_s: float
    queued_for_pages: int = 0
    """Of ``new_articles``, those handed to the page stage (produced when their pages are resolved)."""

    def line(self, number: int) -> str:
        pages = f" ({self.queued_for_pages} waiting for their pages)" if self.queued_for_pages else ""
        return (
            f"cycle {number}: {self.feeds} feeds: {self.fetched} fetched, {self.not_modified} not modified, "
            f"{self.failed} failed; {self.new_articles} new articles{pages}, {self.duplicates} duplicates skipped "
            f"({self.elapsed_s:.2f} s)"
        )


class Connector:
    """Polls the feeds of one feed list into one sink, remembering everything in one state store."""

    def __init__(
        self,
        feeds: Sequence[FeedSpec],
        store: StateStore,
        fetcher: Fetcher,
        sink: ArticleSink,
        metrics: ConnectorMetrics,
        *,
        policy: SchedulePolicy = DEFAULT_POLICY,
        parse_limits: ParseLimits = DEFAULT_PARSE_LIMITS,
        clock: Clock = utc_now,
        rng: Rng | None = None,
        batch_size: int = 200,
        pages: PageStage | None = None,
        on_committed: Callable[[Sequence[FeedState]], Awaitable[None]] | None = None,
        websub: WebSub | None = None,
    ) -> None:
        """Without ``pages`` every article is produced with the feed's text (the ``fulltext`` settings unused);
        ``on_committed`` gets the feed states of each committed cycle (to move them with the feeds); with
        ``websub`` the feeds that declare a hub are subscribed and their pushes delivered (``deliver_push``)."""
        self.feeds = list(feeds)
        self.store = store
        self.fetcher = fetcher
        self.sink = sink
        self.metrics = metrics
        self.policy = policy
        self.parse_limits = parse_limits
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.batch_size = batch_size
        self.pages = pages
        self.on_committed = on_committed
        self.websub = websub
        self._delivering = asyncio.Lock()
        """One delivery (dedupe → produce → flush → commit) at a time: a cycle's or a push's."""
        self._fulltext = {spec.url: spec.fulltext for spec in self.feeds}
        self._changed = asyncio.Event()
        """Set when the feed list changed: an idle loop looks for due feeds at once."""
        self._polling: dict[str, asyncio.Task[FeedPoll]] = {}
        """The cycle under way's polls by feed URL."""
        self.metrics.add_outlets(spec.outlet for spec in self.feeds)
        if websub is not None:
            websub.hold(self.feeds)

    def set_feeds(self, feeds: Sequence[FeedSpec]) -> None:
        """Replace the feed list (feeds managed at run time, or hosts moved between connectors): a new feed is
        due at once; a removed one is not polled again, not even by the cycle under way, which abandons its poll
        uncommitted (its next owner may start polling the host at once). A host new to this connector waits one
        spacing before its first request, since its previous owner may have just polled it."""
        hosts_before = {feed_host(spec.url) for spec in self.feeds}
        self.feeds = list(feeds)
        kept = {spec.url for spec in self.feeds}
        for url, poll in self._polling.items():
            if url not in kept:
                poll.cancel()
        for spec in self.feeds:
            if (host := feed_host(spec.url)) not in hosts_before:
                hosts_before.add(host)
                self.fetcher.take_over(spec.url)
        self._fulltext = {**self._fulltext, **{spec.url: spec.fulltext for spec in self.feeds}}
        self.metrics.add_outlets(spec.outlet for spec in self.feeds)
        if self.websub is not None:
            self.websub.hold(self.feeds)
        self._count_health(self.clock())
        self._changed.set()

    def wake(self) -> None:
        """Look for due feeds now (a feed's hub stopped pushing: it is due)."""
        self._changed.set()

    def due_feeds(self) -> list[FeedSpec]:
        now = self.clock()
        states = self.store.feed_states(spec.url for spec in self.feeds)
        return spread_by_host([spec for spec in self.feeds if states[spec.url].is_due(now)])

    def seconds_until_next_due(self) -> float:
        now = self.clock()
        states = self.store.feed_states(spec.url for spec in self.feeds).values()
        waits = [(s.next_poll - now).total_seconds() if s.next_poll else 0.0 for s in states]
        return max(min(waits, default=60.0), 0.0)

    async def run(self, stop: asyncio.Event, *, once: bool, progress: Callable[[str], None]) -> int:
        """Poll until ``stop`` is set (or one pass over the due feeds with ``once``, then until every queued
        page is resolved); return cycles run. The page stage and WebSub's renewals run beside the cycles."""
        beside_stop = asyncio.Event()
        tasks = [asyncio.create_task(self.pages.run(beside_stop))] if self.pages is not None else []
        if self.websub is not None and not once:
            tasks.append(asyncio.create_task(self.websub.run(beside_stop)))
        try:
            cycles = await self._cycles(stop, once=once, progress=progress)
        finally:
            beside_stop.set()
            await asyncio.gather(*tasks)
        if self.pages is not None and once and not stop.is_set() and (waiting := self.store.queued_count()):
            progress(f"resolving {waiting} queued pages")
            await self.pages.run(stop, until_empty=True)
        return cycles

    async def _cycles(self, stop: asyncio.Event, *, once: bool, progress: Callable[[str], None]) -> int:
        cycles = 0
        while not stop.is_set():
            due = self.due_feeds()
            if once:
                batches = [due[i : i + self.batch_size] for i in range(0, len(due), self.batch_size)]
            else:
                batches = [due[: self.batch_size]] if due else []
            for batch in batches:
                if stop.is_set():
                    break
                try:
                    report = await self.run_cycle(batch, stop)
                except BrokerUnavailable as err:
                    if once:
                        raise
                    # Nothing of the cycle was committed: the same feeds are due again and re-send their articles.
                    progress(f"cycle not committed, retrying in {BROKER_RETRY_S:.0f} s: {err}")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=BROKER_RETRY_S)
                    break
                cycles += 1
                progress(report.line(cycles))
            if once:
                if not due:
                    progress(f"no feed is due; the next one is in {self.seconds_until_next_due():.0f} s")
                break
            if not batches:
                await self._idle(stop, min(max(self.seconds_until_next_due(), 0.5), 60.0))
        return cycles

    def adopt(self, records: Sequence[FeedStateRecord]) -> int:
        """Take over the moved states that are newer than what this connector remembers; return how many."""
        now = self.clock()
        local = self.store.feed_states(record.url for record in records)
        adopted = 0
        for record in records:
            if is_newer(record, local[record.url]):
                self.store.adopt(record.state(), [(e.article_id, e.url, e.guid) for e in record.recent], now)
                adopted += 1
        return adopted

    async def _idle(self, stop: asyncio.Event, seconds: float) -> None:
        """Wait until a feed is due, the feed list changes (or changed during the last cycle) or ``stop`` is set."""
        if self._changed.is_set():
            self._changed.clear()
            return
        waits = [asyncio.create_task(stop.wait()), asyncio.create_task(self._changed.wait())]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
        self._changed.clear()

    async def run_cycle(self, batch: Sequence[FeedSpec], stop: asyncio.Event | None = None) -> CycleReport:
        """Poll ``batch`` concurrently; polls still running when ``stop`` is set, and the polls of feeds removed
        meanwhile, are abandoned uncommitted."""
        started = perf_counter()
        states = self.store.feed_states(spec.url for spec in batch)
        self._polling = {spec.url: asyncio.create_task(self._poll(spec, states[spec.url])) for spec in batch}
        try:
            polls = await _until_stopped(list(self._polling.values()), stop)
        finally:
            self._polling = {}
        kept = {spec.url for spec in self.feeds}
        polls = [poll for poll in polls if poll.spec.url in kept]
        async with self._delivering:
            delivery = await self._deliver(polls)
        kinds = Counter(poll.outcome.kind for poll in polls)
        return CycleReport(
            feeds=len(polls),
            fetched=kinds["fetched"],
            not_modified=kinds["not_modified"],
            failed=kinds["failed"],
            new_articles=delivery.fresh,
            duplicates=delivery.duplicates,
            elapsed_s=perf_counter() - started,
            queued_for_pages=delivery.queued,
        )

    async def deliver_push(self, spec: FeedSpec, body: bytes, headers: dict[str, str]) -> PushOutcome:
        """A hub's verified push of ``spec``: parsed like a poll's body, then delivered like a poll's entries
        (the feed's schedule untouched). ``failed`` when Kafka did not take it (the hub should send it again)."""
        now = self.clock()
        try:
            parsed = await asyncio.to_thread(parse_feed, body, spec, now, headers, self.parse_limits)
        except FeedFailure as failure:
            log.warning("feed %s: a WebSub push is not a feed we can read: %s", spec.name, failure)
            return "not_a_feed"
        except Exception:  # a parser bug must not stop the server: logged with its traceback
            log.exception("feed %s: normalisation of a push crashed", spec.name)
            return "not_a_feed"
        async with self._delivering:
            if spec.url not in {s.url for s in self.feeds}:
                return "accepted"  # the feed left this connector meanwhile: its next owner polls it
            state = self.store.feed_states([spec.url])[spec.url]
            push = FeedPoll(spec, state, PollOutcome("fetched"), parsed.entries, "pushed", 0.0, pushed=True)
            try:
                delivery = await self._deliver([push])
            except BrokerUnavailable as err:
                log.warning("feed %s: a push was not committed: %s", spec.name, err)
                return "failed"
        log.info("feed %s: push with %d new articles, %d duplicates", spec.name, delivery.fresh, delivery.duplicates)
        return "accepted"

    async def _deliver(self, polls: Sequence[FeedPoll]) -> Delivery:
        """De-duplicate, produce, flush, then commit the states and the seen entries (hold ``_delivering``)."""
        entries = [entry for poll in polls for entry in poll.entries]
        fresh, duplicates = self.store.unseen(entries)
        queued = [
            e
            for e in fresh
            if self.pages is not None and wants_page(e.article, self._fulltext[e.article.source.feed_url])
        ]
        handed_over = {id(entry) for entry in queued}  # the same objects as in ``entries``
        direct = [e for e in fresh if id(e) not in handed_over]
        for entry in direct:
            self.sink.send(entry)
        self.sink.flush()
        flushed = perf_counter()
        fresh_by_feed: dict[str, list[FeedEntry]] = {}
        for entry in fresh:
            fresh_by_feed.setdefault(entry.article.source.feed_url, []).append(entry)
        now = self.clock()
        self._follow_hubs(polls, fresh_by_feed, now)
        new_states = [self._advanced(poll, len(fresh_by_feed.get(poll.spec.url, ())), now) for poll in polls]
        self.store.commit(new_states, direct, now, queued)
        self.metrics.commit_window.observe(perf_counter() - flushed)
        if self.on_committed is not None:
            await self.on_committed(new_states)
        self._count([p for p in polls if not p.pushed], direct, [e for e in entries if id(e) not in handed_over], now)
        if queued and self.pages is not None:
            self.pages.wake()
        return Delivery(len(fresh), duplicates, len(queued))

    def _advanced(self, poll: FeedPoll, new_entries: int, now: datetime) -> FeedState:
        """A poll's feed state after it; a push leaves the state as it was (written again: it names the entries)."""
        if poll.pushed:
            return poll.state
        pushed = self.websub is not None and self.websub.is_pushed(poll.spec.url, now)
        outcome = _with_new_entries(poll.outcome, new_entries)
        return advance(poll.state, outcome, now, self.rng, self.policy, poll.spec.cadence(pushed))

    def _follow_hubs(self, polls: Sequence[FeedPoll], fresh: dict[str, list[FeedEntry]], now: datetime) -> None:
        """Subscribe the feeds whose polls found a hub; a pushed feed whose poll found entries its hub should have
        pushed goes back to polling (before its next poll is planned)."""
        if self.websub is None:
            return
        for poll in polls:
            url = poll.spec.url
            if poll.pushed:
                continue
            if self.websub.is_pushed(url, now) and hub_missed((e.article.published for e in fresh.get(url, ())), now):
                self.websub.missed(url)
            if poll.websub is not None:
                self.websub.discovered(poll.spec, poll.websub)

    async def _poll(self, spec: FeedSpec, state: FeedState) -> FeedPoll:
        result = await self.fetcher.fetch(spec.url, state.validators)
        now = self.clock()
        hints = hints_from_headers(result.headers, now)
        if result.kind == "failed":
            assert result.failure is not None
            return _failed(spec, state, result, result.failure, now)
        if result.kind == "not_modified":
            return FeedPoll(spec, state, PollOutcome("not_modified", hints), (), "not_modified", result.elapsed_s)
        if result.validators.content_hash == state.validators.content_hash:
            outcome = PollOutcome("not_modified", hints, validators=result.validators)
            return FeedPoll(spec, state, outcome, (), "unchanged", result.elapsed_s)
        try:
            parsed = await asyncio.to_thread(parse_feed, result.body, spec, now, result.headers, self.parse_limits)
        except FeedFailure as failure:
            return _failed(spec, state, result, failure, now)
        except Exception as err:  # a parser bug must not stop the other feeds: logged with its traceback
            log.exception("feed %s: normalisation crashed", spec.name)
            return _failed(spec, state, result, FeedFailure("internal", f"{type(err).__name__}: {err}"), now)
        if parsed.warning:
            log.info("feed %s: kept entries despite: %s", spec.name, parsed.warning)
        outcome = PollOutcome(
            "fetched",
            hints_from_headers(result.headers, now, ttl=parsed.ttl),
            validators=result.validators,
        )
        return FeedPoll(spec, state, outcome, parsed.entries, "fetched", result.elapsed_s, parsed.websub)

    def _count(
        self,
        polls: Sequence[FeedPoll],
        fresh: Sequence[FeedEntry],
        entries: Sequence[FeedEntry],
        now: datetime,
    ) -> None:
        m = self.metrics
        for poll in polls:
            m.fetches.labels(poll.metric_outcome).inc()
            m.fetch_duration.observe(poll.elapsed_s)
            if poll.outcome.reason:
                m.errors.labels(poll.outcome.reason).inc()
        m.produced(entry.article for entry in fresh)
        m.duplicates_skipped.inc(len(entries) - len(fresh))
        self._count_health(now)

    def _count_health(self, now: datetime) -> None:
        self.metrics.count_health(self.store.feed_states(spec.url for spec in self.feeds).values(), now)


def _failed(spec: FeedSpec, state: FeedState, result: FetchResult, failure: FeedFailure, now: datetime) -> FeedPoll:
    log.warning("feed %s (%s): %s", spec.name, spec.url, failure)
    hints = hints_from_headers(result.headers, now)
    outcome = PollOutcome("failed", hints, reason=failure.reason, detail=failure.detail)
    return FeedPoll(spec, state, outcome, (), "failed", result.elapsed_s)


def _with_new_entries(outcome: PollOutcome, count: int) -> PollOutcome:
    if outcome.kind != "fetched":
        return outcome
    return PollOutcome("fetched", outcome.hints, count, outcome.validators)


async def _until_stopped(tasks: list[asyncio.Task[FeedPoll]], stop: asyncio.Event | None) -> list[FeedPoll]:
    """Wait for ``tasks``; when ``stop`` is set, cancel the unfinished ones and keep the finished (a task
    cancelled on its own is left out)."""
    stopper = asyncio.create_task((stop or asyncio.Event()).wait())
    pending: set[asyncio.Future[Any]] = set(tasks)
    try:
        while pending and not stopper.done():
            _, pending = await asyncio.wait(pending | {stopper}, return_when=asyncio.FIRST_COMPLETED)
            pending.discard(stopper)
    finally:
        stopper.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(stopper, *tasks, return_exceptions=True)
    return [task.result() for task in tasks if not task.cancelled()]

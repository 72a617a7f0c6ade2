"""The page stage: fetch each queued article's page, extract its main text, produce the article, either way.

The feed cycle never waits for a page: it queues the articles that want one (``StateStore.commit``) and goes
on. Here each queued article gets its page through the feed fetcher (same URL guard, deadline, byte cap,
redirect limit and per-host politeness), after robots.txt allows it; whatever happens — a refusal, a
timeout, a page that is not HTML, nothing extractable, or the article's ``deadline`` passing while its
host is slow or busy — the article is produced, with the page's text or with the feed's, and the outcome
is counted (``wirewatch_page_fetches_total{outcome}``). A slow host delays only its own articles, and
those for at most ``deadline``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import perf_counter
from urllib.parse import urlsplit

from protego import Protego
from yarl import URL

from connectors.core.errors import FeedFailure
from connectors.core.fulltext import with_page
from connectors.core.normalize import FeedEntry
from connectors.core.page import extract_page, is_html
from connectors.fetcher import Fetcher
from connectors.metrics import ConnectorMetrics
from connectors.producer import ArticleSink
from connectors.state import QueuedPage, StateStore
from streams.core.errors import BrokerUnavailable
from streams.core.models import Article

log = logging.getLogger("wirewatch.connector.pages")
HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9"
ROBOTS_AGENT = "wirewatch"
"""The product token robots.txt groups are matched against (RFC 9309 §2.2.1), from our User-Agent."""
PAGE_MAX_BYTES = 5 * 1024 * 1024
ROBOTS_MAX_BYTES = 500 * 1024
"""RFC 9309 §2.5: parsers must read at least 500 KiB; more is not needed."""
ROBOTS_TTL = timedelta(hours=24)
"""RFC 9309 §2.4: a cached robots.txt should not be used for more than 24 hours."""
ROBOTS_RETRY = timedelta(minutes=10)
"""How long an unreachable robots.txt (5xx, network) keeps a host's pages refused before we ask again."""
DEFAULT_DEADLINE = timedelta(minutes=2)
"""How long an article may wait for its page: a host that spaces requests 2 s apart serves 60 pages in it."""
PER_HOST_IN_FLIGHT = 2


@dataclass(frozen=True)
class RobotsVerdict:
    allowed: bool
    crawl_delay_s: float | None = None
    reason: str = ""


class RobotsCache:
    """robots.txt per origin (scheme, host, port), parsed by Protego, cached, fetched once at a time.

    RFC 9309 §2.3.1: a 4xx robots.txt means "no rules" (everything allowed); a 5xx or an unreachable one
    means "complete disallow" until it can be read.
    """

    def __init__(self, fetcher: Fetcher, clock: Callable[[], datetime]) -> None:
        self._fetcher = fetcher
        self._clock = clock
        self._rules: dict[str, tuple[Protego | None, datetime, str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def verdict(self, url: str) -> RobotsVerdict:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        async with self._locks.setdefault(origin, asyncio.Lock()):
            cached = self._rules.get(origin)
            if cached is None or cached[1] <= self._clock():
                cached = await self._load(origin)
                self._rules[origin] = cached
        rules, _, reason = cached
        if rules is None:
            return RobotsVerdict(reason == "", reason=reason)
        if not rules.can_fetch(url, ROBOTS_AGENT):
            return RobotsVerdict(False, reason="robots.txt disallows the page")
        delay = rules.crawl_delay(ROBOTS_AGENT)
        return RobotsVerdict(True, float(delay) if delay else None)

    async def _load(self, origin: str) -> tuple[Protego | None, datetime, str]:
        now = self._clock()
        result = await self._fetcher.fetch(f"{origin}/robots.txt", accept="text/plain", max_bytes=ROBOTS_MAX_BYTES)
        if result.kind == "fetched":
            return Protego.parse(result.body.decode("utf-8", "replace")), now + ROBOTS_TTL, ""
        failure = result.failure
        if failure is not None and failure.reason in {"http_4xx", "http_gone"}:
            return None, now + ROBOTS_TTL, ""  # "unavailable": no rules
        detail = failure.detail if failure is not None else "not modified without a cached copy"
        return None, now + ROBOTS_RETRY, f"robots.txt unreachable ({detail})"


@dataclass(frozen=True)
class PageResult:
    queued: QueuedPage
    outcome: str
    article: Article
    """What to produce: the article with its page's text, or as the feed gave it."""
    extract_s: float | None = None


class PageStage:
    """Resolves queued articles concurrently and produces them in flushed, committed batches."""

    def __init__(
        self,
        store: StateStore,
        fetcher: Fetcher,
        sink: ArticleSink,
        metrics: ConnectorMetrics,
        clock: Callable[[], datetime],
        *,
        deadline: timedelta = DEFAULT_DEADLINE,
        concurrency: int = 32,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.sink = sink
        self.metrics = metrics
        self.clock = clock
        self.deadline = deadline
        self.concurrency = concurrency
        self.progress = progress or (lambda line: None)
        self.robots = RobotsCache(fetcher, clock)
        self._wake = asyncio.Event()
        self._waiting: dict[str, QueuedPage] = {}
        """The queue as last read (the store's rows not yet finished), by article id, oldest first: each pass
        reads the queue's ids and parses only the articles it has not seen, never the whole queue again."""

    def wake(self) -> None:
        """New articles were queued: look at the queue now rather than at the next tick."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, until_empty: bool = False) -> None:
        """Work the queue until ``stop`` is set (or, with ``until_empty``, until nothing is queued)."""
        in_flight: dict[str, tuple[str, asyncio.Task[PageResult]]] = {}
        try:
            while not stop.is_set():
                self._start_due(in_flight)
                if until_empty and not in_flight:
                    return
                await self._wait([task for _, task in in_flight.values()], stop)
                done = [task.result() for _, task in in_flight.values() if task.done()]
                if not done:
                    continue
                try:
                    self._deliver(done)
                except BrokerUnavailable as err:
                    log.warning("%d pages not produced, kept queued: %s", len(done), err)
                for result in done:
                    del in_flight[result.queued.article.id]
        finally:
            tasks = [task for _, task in in_flight.values()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _start_due(self, in_flight: dict[str, tuple[str, asyncio.Task[PageResult]]]) -> None:
        """Start queued articles, oldest first, at most ``PER_HOST_IN_FLIGHT`` per host so that one busy
        host cannot take every slot; an article past its deadline starts at once (it resolves at once)."""
        queued = self.store.queued_page_ids()
        for gone in self._waiting.keys() - queued:
            del self._waiting[gone]
        if new := queued - self._waiting.keys():
            self._waiting.update((item.article.id, item) for item in self.store.queued_pages(only=new))
        self.metrics.page_queue.set(len(self._waiting))
        per_host = Counter(host for host, _ in in_flight.values())
        now = self.clock()
        for item in self._waiting.values():
            if item.article.id in in_flight:
                continue
            host = URL(item.article.url).host or ""
            overdue = item.queued_at + self.deadline <= now
            if overdue or (len(in_flight) < self.concurrency and per_host[host] < PER_HOST_IN_FLIGHT):
                in_flight[item.article.id] = (host, asyncio.create_task(self._resolve(item)))
                per_host[host] += 1

    async def _wait(self, tasks: list[asyncio.Task[PageResult]], stop: asyncio.Event) -> None:
        """Until a page is resolved, new articles are queued, ``stop`` is set, or a second passes."""
        self._wake.clear()
        waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(self._wake.wait())]
        try:
            await asyncio.wait([*tasks, *waiters], timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _resolve(self, item: QueuedPage) -> PageResult:
        remaining = (item.queued_at + self.deadline - self.clock()).total_seconds()
        if remaining <= 0:
            return PageResult(item, "deadline", item.article)
        try:
            async with asyncio.timeout(remaining):
                return await self._fetch_and_extract(item)
        except TimeoutError:
            return PageResult(item, "deadline", item.article)
        except Exception as err:  # a bug must not lose the article: it goes out with the feed's text
            log.exception("page of %s: %s", item.article.url, err)
            return PageResult(item, "internal", item.article)

    async def _fetch_and_extract(self, item: QueuedPage) -> PageResult:
        article = item.article
        verdict = await self.robots.verdict(article.url)
        if not verdict.allowed:
            log.info("page %s not fetched: %s", article.url, verdict.reason)
            return PageResult(item, "robots_disallowed", article)
        if verdict.crawl_delay_s:
            self.fetcher.widen_spacing(URL(article.url).host or "", verdict.crawl_delay_s)
        fetched = await self.fetcher.fetch(article.url, accept=HTML_ACCEPT, max_bytes=PAGE_MAX_BYTES)
        if fetched.kind != "fetched":
            reason = fetched.failure.reason if fetched.failure is not None else "bad_response"
            return PageResult(item, reason, article)
        content_type = next((v for k, v in fetched.headers.items() if k.lower() == "content-type"), None)
        if not is_html(content_type):
            return PageResult(item, "not_html", article)
        started = perf_counter()
        try:
            page = await asyncio.to_thread(extract_page, fetched.body, fetched.final_url, self.clock(), content_type)
        except FeedFailure as failure:
            return PageResult(item, failure.reason, article, perf_counter() - started)
        extract_s = perf_counter() - started
        enriched = with_page(article, page)
        if enriched is None:
            return PageResult(item, "shorter_than_feed", article, extract_s)
        return PageResult(item, "extracted", enriched, extract_s)

    def _deliver(self, results: list[PageResult]) -> None:
        """Produce each result's article (unless its canonical id was produced already), flush, then commit."""
        produced: list[Article] = []
        outcomes: list[str] = []
        ids: set[str] = set()
        for result in results:
            article, outcome = result.article, result.outcome
            if article.id != result.queued.article.id and (article.id in ids or self.store.is_seen(article.id)):
                outcome = "duplicate"
            else:
                ids.add(article.id)
                self.sink.send(FeedEntry(article=article, guid=None))
                produced.append(article)
            outcomes.append(outcome)
        self.sink.flush()
        now = self.clock()
        self.store.finish_pages([r.queued.article.id for r in results], produced, now)
        for result in results:
            self._waiting.pop(result.queued.article.id, None)
        waiting = len(self._waiting)
        counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(Counter(outcomes).items()))
        self.progress(f"pages: {len(produced)} articles produced ({counts}); {waiting} still queued")
        m = self.metrics
        m.page_queue.set(waiting)
        for result, outcome in zip(results, outcomes, strict=True):
            m.page_fetches.labels(outcome).inc()
            m.page_wait.observe((now - result.queued.queued_at).total_seconds())
            if result.extract_s is not None:
                m.page_extract_duration.observe(result.extract_s)
            if outcome == "duplicate":
                m.duplicates_skipped.inc()
            else:
                m.produced([result.queued.article])

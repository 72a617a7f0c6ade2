"""``wirewatch bench fetch``: feeds/s and article pages/s through the connector against a local 127.0.0.1 server.

Two feed scenarios — every feed unchanged (conditional GET answered 304) and every feed changed (new body,
parse, normalise, de-duplicate, commit) — each beside a naive baseline measured in the same run: a
sequential loop that downloads every feed in full with urllib (no conditional GET, no concurrency) and
parses and normalises it with the same ``parse_feed``.
Then article pages — real published pages read from a directory (trafilatura's evaluation pages by default):
the page stage end to end (robots.txt, guarded fetch, extraction, produce, commit), main-text extraction alone
in CPU seconds (pages/s per core), and beside it the old HTML-to-text conversion on the same pages.
Articles go to a counting sink, not Kafka, so the figures are the connector's own cost.
"""

from __future__ import annotations

import asyncio
import tempfile
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from time import perf_counter, process_time
from xml.sax.saxutils import escape

from aiohttp import web
from prometheus_client import CollectorRegistry

from connectors.core.errors import FeedFailure
from connectors.core.feedlist import FeedSpec
from connectors.core.normalize import FeedEntry, parse_feed
from connectors.core.page import decode_page, extract_page
from connectors.core.text import html_to_text
from connectors.fetcher import Fetcher, FetchLimits
from connectors.local_server import LocalServer
from connectors.metrics import ConnectorMetrics
from connectors.pages import PageStage
from connectors.service import Connector
from connectors.state import StateStore
from streams.core.models import Article, Source
from streams.infra.url_guard import UrlGuard

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def render_rss(title: str, base_url: str, items: list[tuple[str, str, datetime]]) -> bytes:
    """A small RSS 2.0 document: ``items`` are ``(guid, title, published)``, links under ``base_url``."""
    entries = "".join(
        f"<item><title>{escape(item_title)}</title><link>{escape(base_url)}/{escape(guid)}?utm_source=rss</link>"
        f"<guid isPermaLink='false'>{escape(guid)}</guid><pubDate>{format_datetime(published)}</pubDate>"
        f"<description>&lt;p&gt;{escape(item_title)}: a paragraph of text about it.&lt;/p&gt;</description></item>"
        for guid, item_title, published in items
    )
    return (
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{escape(title)}</title>"
        f"<link>{escape(base_url)}</link><language>en</language>{entries}</channel></rss>"
    ).encode()


class _BenchServer(LocalServer):
    """``/feed/{n}``: ``entries`` items; in ``changing`` mode every request adds a newer item."""

    def __init__(self, feeds: int, entries: int) -> None:
        self.entries = entries
        self.changing = False
        self.generations = [0] * feeds
        super().__init__()

    def body(self, feed: int) -> bytes:
        generation = self.generations[feed]
        items = [
            (f"f{feed}-e{n}", f"Story {n} of feed {feed}", _EPOCH + timedelta(minutes=n))
            for n in range(generation + self.entries - 1, generation - 1, -1)
        ]
        return render_rss(f"Feed {feed}", f"http://news{feed}.example", items)

    async def _feed(self, request: web.Request) -> web.Response:
        feed = int(request.match_info["n"])
        if self.changing:
            self.generations[feed] += 1
        etag = f'"{feed}-{self.generations[feed]}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=self.body(feed), content_type="application/rss+xml", headers={"ETag": etag})

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/feed/{n}", self._feed)
        return app


@dataclass
class _CountingSink:
    sent: int = 0

    def send(self, entry: FeedEntry) -> None:
        self.sent += 1

    def flush(self) -> None:
        """Nothing is buffered."""

    def close(self) -> None:
        """Nothing to release."""


@dataclass(frozen=True)
class PageFigures:
    source: str
    pages: int
    megabytes: float
    stage_pages_s: float
    """The page stage end to end (wall clock): robots.txt, fetch, extraction, produce, commit."""
    extracted: int
    extract_pages_s_per_core: float
    baseline_pages_s_per_core: float
    """The old ``html_to_text`` on the same decoded pages (all visible text, no boilerplate removal)."""


@dataclass
class FetchBenchReport:
    feeds: int
    entries: int
    rows: list[tuple[str, float, float]] = field(default_factory=list)
    """``(scenario, wirewatch feeds/s, baseline feeds/s)``."""
    pages: PageFigures | None = None
    pages_missing: str = ""

    def table(self) -> str:
        lines = [
            f"wirewatch bench fetch: {self.feeds} feeds × {self.entries} entries from 127.0.0.1 (best of rounds)",
            f"{'scenario':<26}{'wirewatch feeds/s':>20}{'baseline feeds/s':>20}{'speed-up':>10}",
        ]
        for scenario, ours, baseline in self.rows:
            lines.append(f"{scenario:<26}{ours:>20.1f}{baseline:>20.1f}{ours / baseline:>9.1f}×")
        lines.append("baseline: sequential full urllib downloads (no conditional GET), same parse_feed; no Kafka")
        if self.pages is None:
            lines.append(f"article pages: not measured ({self.pages_missing})")
            return "\n".join(lines)
        p = self.pages
        lines += [
            f"article pages: {p.pages} real pages ({p.megabytes:.1f} MB) from {p.source}",
            f"  {'page stage end to end (robots, fetch, extract, produce)':<58}{p.stage_pages_s:>7.1f} pages/s "
            f"({p.extracted} with main text)",
            f"  {'main-text extraction alone (trafilatura)':<58}{p.extract_pages_s_per_core:>7.1f} pages/s/core",
            f"  {'baseline: the old html_to_text, same pages':<58}{p.baseline_pages_s_per_core:>7.1f} pages/s/core",
        ]
        return "\n".join(lines)


def read_pages(directory: Path, limit: int) -> list[bytes]:
    """Up to ``limit`` HTML files under ``directory`` (sorted, so every run reads the same pages)."""
    files = sorted(p for p in directory.rglob("*") if p.suffix.lower() in {".html", ".htm"} and p.is_file())
    return [path.read_bytes() for path in files[:limit]]


def run_fetch_bench(
    feeds: int = 200, entries: int = 30, rounds: int = 3, pages_dir: Path | None = None, page_count: int = 200
) -> FetchBenchReport:
    report = FetchBenchReport(feeds, entries)
    bodies = read_pages(pages_dir, page_count) if pages_dir is not None and pages_dir.is_dir() else []
    if bodies:
        assert pages_dir is not None
        report.pages = _page_figures(str(pages_dir), bodies)
    else:
        report.pages_missing = f"no HTML pages in {pages_dir} (--pages DIR)"
    server = _BenchServer(feeds, entries)
    with server.running(), tempfile.TemporaryDirectory() as tmp:
        urls = [f"http://127.0.0.1:{server.port}/feed/{n}" for n in range(feeds)]
        specs = [FeedSpec(url=url, name=f"feed {n}") for n, url in enumerate(urls)]
        store = StateStore(Path(tmp) / "bench.sqlite3")
        try:
            for scenario, changing in (("unchanged (304)", False), ("changed (new entry)", True)):
                server.changing = changing
                ours = asyncio.run(_connector_rate(specs, store, rounds))
                baseline = max(_baseline_rate(specs) for _ in range(rounds))
                report.rows.append((scenario, ours, baseline))
        finally:
            store.close()
    return report


async def _connector_rate(specs: list[FeedSpec], store: StateStore, rounds: int) -> float:
    limits = FetchLimits(per_host_concurrency=len(specs), per_host_spacing_s=0.0)
    async with Fetcher(UrlGuard(allow_private_networks=True), limits) as fetcher:
        connector = Connector(specs, store, fetcher, _CountingSink(), ConnectorMetrics(CollectorRegistry()))
        await connector.run_cycle(specs)  # primes validators and the seen table
        best = 0.0
        for _ in range(rounds):
            started = perf_counter()
            report = await connector.run_cycle(specs)
            if report.failed:
                raise RuntimeError(f"{report.failed} feeds failed during the benchmark")
            best = max(best, len(specs) / (perf_counter() - started))
        return best


class _PageServer(LocalServer):
    """``/page/{n}`` serves the n-th body as HTML; no robots.txt (a 404: everything allowed)."""

    def __init__(self, bodies: list[bytes]) -> None:
        self.bodies = bodies
        super().__init__()

    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(body=self.bodies[int(request.match_info["n"])], content_type="text/html")

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/page/{n}", self._page)
        return app


def _page_figures(source: str, bodies: list[bytes]) -> PageFigures:
    fetched = datetime.now(UTC)
    started = process_time()
    extracted = 0
    for body in bodies:
        try:
            extract_page(body, "https://news.example/article", fetched, "text/html")
            extracted += 1
        except FeedFailure:
            pass
    extract_rate = len(bodies) / (process_time() - started)
    decoded = [decode_page(body, None)[1] for body in bodies]
    started = process_time()
    for markup in decoded:
        html_to_text(markup)
    baseline_rate = len(bodies) / (process_time() - started)
    server = _PageServer(bodies)
    with server.running(), tempfile.TemporaryDirectory() as tmp:
        store = StateStore(Path(tmp) / "pages.sqlite3")
        try:
            stage_rate = asyncio.run(_page_stage_rate(server, store, len(bodies), fetched))
        finally:
            store.close()
    return PageFigures(
        source, len(bodies), sum(map(len, bodies)) / 1e6, stage_rate, extracted, extract_rate, baseline_rate
    )


async def _page_stage_rate(server: _PageServer, store: StateStore, count: int, fetched: datetime) -> float:
    feed_url = server.url("/feed")
    source = Source(feed_url=feed_url, name="pages", domain="127.0.0.1")
    queued = [
        FeedEntry(
            Article(id=f"page-{n}", url=server.url(f"/page/{n}"), summary="A teaser.", fetched=fetched, source=source),
            None,
        )
        for n in range(count)
    ]
    store.commit([], [], fetched, queued)
    limits = FetchLimits(per_host_concurrency=64, per_host_spacing_s=0.0)
    async with Fetcher(UrlGuard(allow_private_networks=True), limits) as fetcher:
        metrics = ConnectorMetrics(CollectorRegistry())
        stage = PageStage(store, fetcher, _CountingSink(), metrics, lambda: fetched, concurrency=64)
        started = perf_counter()
        await stage.run(asyncio.Event(), until_empty=True)
        return count / (perf_counter() - started)


def _baseline_rate(specs: list[FeedSpec]) -> float:
    started = perf_counter()
    for spec in specs:
        with urllib.request.urlopen(spec.url, timeout=30) as response:  # noqa: S310 - http://127.0.0.1 only
            parse_feed(response.read(), spec, datetime.now(UTC))
    return len(specs) / (perf_counter() - started)

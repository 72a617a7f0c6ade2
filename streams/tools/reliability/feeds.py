"""Synthetic articles served as local RSS feeds and published at a steady rate, for the connector scenarios.

A background thread appends the next synthetic article to one of the feeds (round robin) ``rate`` times a
second; each feed keeps its newest ``window`` items, as a news site's feed does. The server answers with an
ETag (304 when unchanged) after an optional ``delay`` — a slow server keeps the connector inside its cycle, so
a crash lands mid-cycle more often — and counts requests, so a scenario can time a crash right after one.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from email.utils import format_datetime
from pathlib import Path
from typing import Self
from xml.sax.saxutils import escape

from aiohttp import web

from connectors.core.urls import article_id_for_url, canonical_url
from streams.core.models import Article
from streams.tools.demo import FeedServer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def connector_article_id(article: Article) -> str:
    """The id the connector gives the article once it has read it from a feed (its canonical link)."""
    return article_id_for_url(canonical_url(article.url) or article.url)


def render_rss(name: str, items: list[Article]) -> bytes:
    """RSS 2.0 with each article's title, link, date and its lead and body as an HTML description."""
    entries = "".join(
        f"<item><title>{escape(a.title)}</title><link>{escape(a.url)}</link>"
        f"<guid isPermaLink='true'>{escape(a.url)}</guid><pubDate>{format_datetime(a.published or a.fetched)}</pubDate>"
        f"<description>{escape(''.join(f'<p>{escape(part)}</p>' for part in a.content.split(chr(10) * 2)))}"
        "</description></item>"
        for a in reversed(items)
    )
    return (
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{escape(name)}</title>"
        f"<link>http://feeds.example/{escape(name)}</link><language>en</language>{entries}</channel></rss>"
    ).encode()


class LoopbackFarm:
    """Feeds on loopback hosts of their own (127.0.0.2 …, each its own port), one server thread for all;
    ``handler`` answers ``GET`` on ``route`` (on the farm's own event loop)."""

    def __init__(self, hosts: list[str], route: str, handler: Handler) -> None:
        self.hosts = hosts
        self._route = route
        self._handler = handler
        self.ports: dict[str, int] = {}
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=type(self).__name__, daemon=True)

    @staticmethod
    def loopback_hosts(count: int) -> list[str]:
        return [f"127.0.0.{2 + n}" for n in range(count)]

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError(f"{type(self).__name__} did not start")
        return self

    def __exit__(self, *_exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get(self._route, self._handler)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        for host in self.hosts:
            self._loop.run_until_complete(web.TCPSite(runner, host, 0).start())
        self.ports = {address[0]: address[1] for address in runner.addresses}
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()


class SyntheticFeeds:
    """``feeds`` RSS feeds on 127.0.0.1 filled from ``articles`` at ``rate`` per second once ``start`` is called."""

    def __init__(self, articles: Iterator[Article], feeds: int, rate: float, window: int, delay_s: float = 0.0) -> None:
        self.rate = rate
        self.names = [f"synthetic-{n}" for n in range(feeds)]
        self.published: list[Article] = []
        self._articles = articles
        self._items = {name: deque[Article](maxlen=window) for name in self.names}
        self._documents = {name: render_rss(name, []) for name in self.names}
        self._stop = threading.Event()
        self._publisher = threading.Thread(target=self._publish, name="synthetic-feeds", daemon=True)
        self._server = FeedServer(self._documents, delay_s)

    @property
    def requests(self) -> int:
        return self._server.requests

    def url(self, name: str) -> str:
        return f"{self._server.base_url}/{name}"

    def write_feed_list(self, path: Path) -> Path:
        lines = ["feeds:"]
        for name in self.names:
            lines += [f"  - url: {self.url(name)}", f"    name: {name}", "    language: en", "    interval: 1s"]
        path.write_text("\n".join(lines) + "\n")
        return path

    def published_ids(self) -> set[str]:
        return {connector_article_id(article) for article in list(self.published)}

    def __enter__(self) -> SyntheticFeeds:
        self._server.__enter__()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop_publishing()
        self._server.__exit__()

    def start_publishing(self) -> None:
        self._publisher.start()

    def stop_publishing(self) -> None:
        self._stop.set()
        if self._publisher.is_alive():
            self._publisher.join()

    def _publish(self) -> None:
        started = time.monotonic()
        for index, article in enumerate(self._articles):
            delay = started + index / self.rate - time.monotonic()
            if self._stop.wait(max(delay, 0.0)):
                return
            name = self.names[index % len(self.names)]
            self._items[name].append(article)
            self._documents[name] = render_rss(name, list(self._items[name]))
            self.published.append(article)

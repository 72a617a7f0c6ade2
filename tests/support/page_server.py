"""A real HTTP server on 127.0.0.1 serving one teaser feed whose items link to its own article pages, most of
them hostile: huge, slow-drip, gzip bomb, redirects to private and metadata addresses, an endless redirect
chain, malformed HTML, legacy encodings declared only in ``<meta>``, a PDF, a 429, a robots.txt refusal."""

from __future__ import annotations

import asyncio
import functools
import gzip
from email.utils import format_datetime
from xml.sax.saxutils import escape

from aiohttp import web

from connectors.local_server import LocalServer
from tests.support.feed_server import EPOCH

STORY = (
    "<p>Officials in Pyongyang said on Tuesday that the new railway bridge across the Tumen river would open to "
    "freight trains next spring, linking the port of Rason with the Russian network.</p>"
    "<p>The Korean Central News Agency (KCNA) reported that Kim Jong Un inspected the construction site and "
    "praised the workers for finishing the steel frame ahead of schedule.</p>"
    "<p>Russian officials have said the bridge will carry up to five million tonnes of cargo a year once the "
    "approach roads and customs posts are complete, a figure analysts in Seoul called optimistic.</p>"
)
FURNITURE = (
    "<nav><ul><li><a href='/'>Home</a></li><li><a href='/world'>World news section</a></li></ul></nav>"
    "<aside class='most-popular'><h2>Most popular</h2><ol><li><a href='/x'>Celebrity chef opens a restaurant "
    "in the capital</a></li></ol></aside>"
)
FOOTER = "<footer><p>Copyright 2026 Test Courier. All rights reserved worldwide.</p></footer>"
CYRILLIC = "Агентство ЦТАК сообщило, что Ким Чен Ын осмотрел строительство нового моста через реку Туманную."
JAPANESE = "朝鮮中央通信は、金正恩総書記が豆満江に架かる新しい鉄道橋の建設現場を視察したと報じた。"


def article_page(body: str, head: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head><title>Bridge</title>{head}</head><body>{FURNITURE}"
        f"<main><article><h1>Railway bridge to open next spring</h1>{body}</article></main>{FOOTER}</body></html>"
    )


class PageServer(LocalServer):
    """``/feed.xml`` lists one teaser item per page in ``PAGES`` (``/pages/<name>``); every request is logged."""

    PAGES = (
        "good", "huge", "drip", "bomb", "to-private", "to-metadata", "chain-0", "malformed", "cp1251",
        "shift-jis", "pdf", "limited", "private-area",
    )  # fmt: skip

    def __init__(self) -> None:
        self.requests: list[str] = []
        super().__init__()

    def page_url(self, name: str) -> str:
        return self.url(f"/pages/{name}")

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>Story {escape(name)}</title><link>{escape(self.page_url(name))}</link>"
            f"<guid isPermaLink='false'>{escape(name)}</guid><pubDate>{format_datetime(EPOCH)}</pubDate>"
            f"<description>Teaser of story {escape(name)}.</description></item>"
            for name in self.PAGES
        )
        return (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Test Courier</title>"
            f"<link>{self.url('/')}</link><language>en</language>{items}</channel></rss>"
        ).encode()

    @web.middleware
    async def _record(self, request: web.Request, handler: web.Handler) -> web.StreamResponse:
        self.requests.append(request.path)
        return await handler(request)

    async def _feed(self, request: web.Request) -> web.Response:
        return web.Response(body=self.feed(), content_type="application/rss+xml")

    async def _robots(self, request: web.Request) -> web.Response:
        return web.Response(text="User-agent: *\nDisallow: /pages/private-area\n", content_type="text/plain")

    async def _page(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name == "good":
            return _html(article_page(STORY, "<link rel='canonical' href='/pages/good'>"))
        if name == "huge":
            response = web.StreamResponse(headers={"Content-Type": "text/html"})
            await response.prepare(request)
            await response.write(b"<html><body><p>")
            for _ in range(64):
                await response.write(b"word " * 200_000)
            return response
        if name == "drip":
            response = web.StreamResponse(headers={"Content-Type": "text/html"})
            await response.prepare(request)
            for byte in article_page(STORY).encode():
                await response.write(bytes([byte]))
                await asyncio.sleep(1)
            return response
        if name == "bomb":
            return web.Response(body=_html_bomb(), headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})
        if name == "to-private":
            raise web.HTTPFound("http://10.0.0.1/pages/good")
        if name == "to-metadata":
            raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")
        if name.startswith("chain-"):
            raise web.HTTPFound(f"/pages/chain-{int(name.removeprefix('chain-')) + 1}")
        if name == "malformed":
            broken = "<html><body><div><p>" + STORY.replace("</p>", "").replace("<p>", "<p><b><i>") + "<table><tr><td>"
            return _html(broken)
        if name == "cp1251":
            page = article_page(f"<p>{CYRILLIC}</p>" + STORY, "<meta charset='windows-1251'>")
            return web.Response(body=page.encode("cp1251"), headers={"Content-Type": "text/html"})
        if name == "shift-jis":
            head = "<meta http-equiv='Content-Type' content='text/html; charset=Shift_JIS'>"
            page = article_page(f"<p>{JAPANESE}</p>" + STORY, head)
            return web.Response(body=page.encode("shift_jis"), headers={"Content-Type": "text/html"})
        if name == "pdf":
            return web.Response(body=b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", headers={"Content-Type": "application/pdf"})
        if name == "limited":
            return web.Response(status=429, headers={"Retry-After": "1"}, text="slow down")
        if name == "private-area":
            return _html(article_page(STORY))
        raise web.HTTPNotFound()

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/feed.xml", self._feed)
        app.router.add_get("/robots.txt", self._robots)
        app.router.add_get("/pages/{name}", self._page)
        return app


def _html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html")


@functools.cache
def _html_bomb() -> bytes:
    """64 MiB of markup in about 64 KiB of gzip."""
    return gzip.compress(b"<html><body>" + b"<p>a</p>" * (8 * 1024 * 1024), compresslevel=9)

"""A local webhook receiver (127.0.0.1, a free port, in a thread) whose answers a test scripts per path."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from connectors.local_server import LocalServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


Behaviour = Callable[[int], int | float]
"""Given how many requests this path has seen for this ``webhook-id`` (1 = first): a status to answer, or
a float number of seconds to stall before answering 200 (longer than the sender's timeout = a timeout)."""


class WebhookReceiver(LocalServer):
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.behaviours: dict[str, Behaviour] = {}
        super().__init__()

    def on(self, path: str, behaviour: Behaviour) -> str:
        self.behaviours[path] = behaviour
        return self.url(path)

    def at(self, path: str) -> list[Received]:
        return [r for r in list(self.received) if r.path == path]

    def wait_for(self, check: Callable[[], bool], timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not check():
            assert time.monotonic() < deadline, f"timed out; received {len(self.received)} requests"
            time.sleep(0.1)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        message_id = request.headers.get("webhook-id", "")
        count = 1 + sum(
            1 for r in self.received if r.path == request.path and r.headers.get("webhook-id") == message_id
        )
        behaviour = self.behaviours.get(request.path, lambda _n: 404)
        answer = behaviour(count)
        if isinstance(answer, float):
            self.received.append(Received(request.path, dict(request.headers), body, 0))
            await asyncio.sleep(answer)
            return web.Response(status=200)
        self.received.append(Received(request.path, dict(request.headers), body, answer))
        if 300 <= answer < 400:
            return web.Response(status=answer, headers={"Location": self.url("/redirect-target")})
        return web.Response(status=answer)

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

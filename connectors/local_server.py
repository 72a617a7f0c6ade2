"""An aiohttp application on 127.0.0.1 in a thread of its own: the local servers of benchmarks and tests.

Subclasses build their application in ``application()``; ``running()`` serves it on a free port for the
duration of a ``with`` block, so synchronous callers (a benchmark, a pytest test) can talk to it.
"""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self

from aiohttp import web

START_TIMEOUT_S = 10.0


class LocalServer(ABC):
    def __init__(self, host: str = "127.0.0.1") -> None:
        """``host``: a loopback address (127.0.0.0/8: a test needing several hosts gives each its own)."""
        self.host = host
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=type(self).__name__, daemon=True)

    @abstractmethod
    def application(self) -> web.Application:
        """The aiohttp application to serve (built in the server's thread, on its loop)."""

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    @contextmanager
    def running(self) -> Iterator[Self]:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise RuntimeError(f"{type(self).__name__} did not start within {START_TIMEOUT_S:g} s")
        try:
            yield self
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(START_TIMEOUT_S)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(self.application(), access_log=None)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, self.host, 0)
        self._loop.run_until_complete(site.start())
        self.port = runner.addresses[0][1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

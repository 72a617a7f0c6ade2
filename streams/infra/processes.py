"""wirewatch processes started by other wirewatch commands (demo, benchmarks, reliability scenarios, tests).

One place for how a child learns its settings (the ``WIREWATCH_*`` environment) and for waiting until a
worker serves ``/health``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from streams.infra.settings import Settings

WIREWATCH = [sys.executable, "-m", "streams.cli.main"]
"""The command line of a child wirewatch process (the same interpreter, whatever is on PATH)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """``settings`` spelled out as the ``WIREWATCH_*`` variables a child reads (overrides win)."""
    return {
        "WIREWATCH_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "WIREWATCH_TOPIC_PREFIX": settings.topic_prefix,
        "WIREWATCH_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "WIREWATCH_WEB_PORT": str(settings.web_port),
        "WIREWATCH_HOME": str(settings.home),
        **overrides,
    }


def process_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """This process's environment plus ``settings_env``: what a child wirewatch process is started with."""
    return {**os.environ, **settings_env(settings, **overrides)}


def answers_healthy(port: int) -> bool:
    """Whether the worker on ``port`` answers ``/health`` with status ok (its watches are loaded)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
            return bool(json.load(answer).get("status") == "ok")
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_healthy(port: int, process: subprocess.Popen[bytes] | None = None, timeout_s: float = 120.0) -> None:
    """Until the worker on ``port`` answers ``/health`` with status ok (its watches are loaded)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the worker on port {port} exited with code {process.returncode}")
        if answers_healthy(port):
            return
        time.sleep(0.3)
    raise TimeoutError(f"the worker on port {port} was not healthy within {timeout_s:.0f} s")


@contextlib.contextmanager
def running_worker(
    settings: Settings, log: Path, loglevel: str = "warning", **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``wirewatch worker`` with ``settings`` until the block ends (then SIGTERM, a clean shutdown)."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*WIREWATCH, "worker", "--loglevel", loglevel],
            stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=process_env(settings, **env),
        )  # fmt: skip
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

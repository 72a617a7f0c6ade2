"""Start wirewatch workers as real subprocesses and wait until they serve /health."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from streams.settings import Settings
from tests.support.processes import Child


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def worker_env(settings: Settings, web_port: int) -> dict[str, str]:
    return {
        "WIREWATCH_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "WIREWATCH_TOPIC_PREFIX": settings.topic_prefix,
        "WIREWATCH_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "WIREWATCH_WEB_PORT": str(web_port),
        "WIREWATCH_HOME": str(settings.home),
    }


def start_worker(settings: Settings, log_dir: Path, name: str = "worker", **env: str) -> tuple[Child, int]:
    port = free_port()
    child = Child.wirewatch(
        ["worker", "--loglevel", "info"], log_dir / f"{name}.log", **worker_env(settings, port), **env
    )
    return child, port


def wait_healthy(child: Child, port: int, timeout_s: float = 90.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert child.is_running(), f"worker exited:\n{child.log()[-4000:]}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                body: dict[str, object] = json.load(answer)
                return body
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise AssertionError(f"worker not healthy within {timeout_s} s:\n{child.log()[-4000:]}")

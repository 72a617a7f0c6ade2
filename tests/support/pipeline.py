"""Start wirewatch workers as real subprocesses (logs kept for failures) and wait until they serve /health."""

from __future__ import annotations

from pathlib import Path

from streams.infra.kafka_topics import ensure_topics
from streams.infra.processes import free_port, settings_env
from streams.infra.processes import wait_healthy as wait_worker_healthy
from streams.infra.settings import Settings, load_settings
from tests.support.kafka import unique_name
from tests.support.processes import Child

__all__ = ["free_port", "start_worker", "wait_healthy", "worker_env"]


def pipeline_settings(kafka_bootstrap: str, home: Path, name: str, partitions: int = 2) -> Settings:
    """Settings of a pipeline on topics of its own (a unique prefix from ``name``), the topics created."""
    settings = load_settings(
        kafka_bootstrap=kafka_bootstrap, topic_prefix=unique_name(name), topic_partitions=partitions, home=home
    )
    ensure_topics(settings)
    return settings


def worker_env(settings: Settings, web_port: int) -> dict[str, str]:
    return settings_env(settings, WIREWATCH_WEB_PORT=str(web_port))


def start_worker(settings: Settings, log_dir: Path, name: str = "worker", **env: str) -> tuple[Child, int]:
    port = free_port()
    child = Child.wirewatch(
        ["worker", "--loglevel", "info"], log_dir / f"{name}.log", **worker_env(settings, port), **env
    )
    return child, port


def wait_healthy(child: Child, port: int, timeout_s: float = 90.0) -> None:
    """Until the worker's /health says ok; a worker that exits or never gets there fails with its log."""
    try:
        wait_worker_healthy(port, child.process, timeout_s)
    except (RuntimeError, TimeoutError) as err:
        raise AssertionError(f"{err}:\n{child.log()[-4000:]}") from err

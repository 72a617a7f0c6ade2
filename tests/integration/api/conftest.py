"""One worker with the desk API for the API tests of this package (a worker takes seconds to start)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from streams.infra.kafka_topics import ensure_topics
from streams.infra.settings import Settings, load_settings
from tests.support.desks import (
    OpenApiClient,
    desk_token,
    start_api_worker,
    wait_api_ready,
    wait_until_accepted,
)
from tests.support.kafka import unique_name
from tests.support.pipeline import worker_env
from tests.support.processes import REPO, Child, child_env

FAST_WEBHOOKS = {
    "WIREWATCH_WEBHOOK_TIMEOUT_S": "1",
    "WIREWATCH_WEBHOOK_RETRY_BASE_S": "0.3",
    "WIREWATCH_WEBHOOK_RETRY_FACTOR": "2",
    "WIREWATCH_WEBHOOK_RETRY_MAX_S": "2",
    "WIREWATCH_WEBHOOK_MAX_ATTEMPTS": "5",
    "WIREWATCH_SSE_HEARTBEAT_S": "1",
}


@dataclass
class ApiWorker:
    settings: Settings
    base: str
    child: Child
    client: OpenApiClient

    def cli(self, *args: str) -> str:
        """Run ``wirewatch ARGS`` against this worker's topics; return stdout."""
        env = child_env(**worker_env(self.settings, self.settings.web_port))
        done = subprocess.run(
            [sys.executable, "-m", "streams.cli.main", *args],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def new_desk(self, name: str) -> str:
        token = desk_token(self.cli("desk", "add", name))
        wait_until_accepted(self.base, token)
        return token


def api_settings(kafka_bootstrap: str, home: Path) -> Settings:
    return load_settings(
        kafka_bootstrap=kafka_bootstrap, topic_prefix=unique_name("wwapi"), home=home, topic_partitions=1
    )


@pytest.fixture(scope="package")
def api_worker(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorker]:
    workdir = tmp_path_factory.mktemp("api")
    settings = api_settings(kafka_bootstrap, workdir / "home")
    ensure_topics(settings)
    child, base = start_api_worker(settings, workdir, WIREWATCH_API_RATE_LIMIT="1000/second", **FAST_WEBHOOKS)
    try:
        wait_api_ready(child, base)
        yield ApiWorker(settings, base, child, OpenApiClient(base))
    finally:
        code = child.stop()
        print(f"----- api worker (exit {code}) -----\n{child.log()[-3000:]}")

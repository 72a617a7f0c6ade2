"""``wirewatch demo`` as a user runs it: a child that cannot start ends the demo at once, saying why."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from streams.infra.processes import free_port
from tests.support.kafka import unique_name
from tests.support.processes import Child

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_a_worker_that_cannot_start_ends_the_demo_with_its_reason(kafka_bootstrap: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        demo = Child.wirewatch(
            ["demo", "--prefix", unique_name("demo"), "--exit-after-alerts", "99", "--timeout", "240"],
            tmp_path / "demo.log",
            WIREWATCH_KAFKA_BOOTSTRAP=kafka_bootstrap,
            WIREWATCH_HOME=str(tmp_path / "home"),
            WIREWATCH_WEB_PORT=str(taken.getsockname()[1]),  # the worker's desk API cannot listen here
            WIREWATCH_CONNECTOR_METRICS_PORT=str(free_port()),
        )
        code = demo.wait(200)
    log = demo.log()
    assert code == 1, log
    assert "the worker exited with code 1" in log
    assert "address already in use" in log  # its reason, from its log
    assert "timed out" not in log  # it did not wait for its timeout

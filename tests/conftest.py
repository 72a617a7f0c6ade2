"""Fixtures for every suite: the real dev broker (one per test run) and per-test unique names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.infra.settings import Settings, load_settings
from streams.tools.devbroker import DevBroker, broker_answers
from tests.support.kafka import unique_name
from tests.support.processes import Child


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """The configured broker if one answers (``make test`` starts it), else a dev broker we start and stop."""
    settings = load_settings()
    if broker_answers(settings.kafka_bootstrap, timeout_s=5):
        yield settings.kafka_bootstrap
        return
    broker = DevBroker(settings.home, port=settings.bootstrap_port)
    broker.start(timeout_s=120)
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def test_settings(kafka_bootstrap: str, tmp_path: Path) -> Settings:
    """Settings with a unique topic prefix: own topics, own Faust app id, own consumer groups."""
    return load_settings(kafka_bootstrap=kafka_bootstrap, topic_prefix=unique_name("ww"), home=tmp_path / "home")


@pytest.fixture
def children(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[Child]]:
    """Subprocesses started by a test: stopped afterwards; their logs printed if the test failed."""
    started: list[Child] = []
    yield started
    for child in started:
        child.stop()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for child in started:
            print(f"----- {child.log_path.name} -----\n{child.log()[-6000:]}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report

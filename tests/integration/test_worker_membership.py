"""A worker's place in its consumer group, against the real broker (decision 0606): with a ``worker_id`` it is a
static member, so a restart replaces its dead predecessor instead of waiting for its session to end, and a
SIGTERM still leaves the group at once (aiokafka alone never sends a LeaveGroup for a static member)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient

from streams.infra.kafka_topics import ensure_topics
from streams.infra.processes import free_port, settings_env
from streams.infra.settings import Settings, load_settings
from streams.worker.membership import group_instance_id
from tests.support.kafka import unique_name
from tests.support.pipeline import wait_healthy
from tests.support.processes import Child

pytestmark = pytest.mark.integration

SESSION_TIMEOUT_S = 30.0
"""Longer than anything the test waits for: a member seen gone went because it left, not because it timed out."""


def _group(settings: Settings) -> dict[str, Any]:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="membership-test")
    try:
        described: dict[str, Any] = admin.describe_groups([settings.app_id])[settings.app_id]
        return described
    finally:
        admin.close()


def _instance_ids(group: dict[str, Any]) -> list[str | None]:
    return sorted(member.get("group_instance_id") or "" for member in group.get("members", []))


def _wait_for(settings: Settings, state: str, timeout_s: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        group = _group(settings)
        if group["group_state"] == state or time.monotonic() > deadline:
            return group
        time.sleep(0.2)


@pytest.fixture
def settings(kafka_bootstrap: str, tmp_path: Path) -> Settings:
    settings = load_settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=unique_name("member"),
        topic_partitions=2,
        home=tmp_path / "home",
        web_port=free_port(),  # kept across the restart, as a StatefulSet pod keeps its name and port
        worker_id="a",
        worker_session_timeout_s=SESSION_TIMEOUT_S,
    )
    ensure_topics(settings)
    return settings


def _start(settings: Settings, tmp_path: Path, name: str) -> Child:
    env = settings_env(settings, WIREWATCH_WORKER_ID="a", WIREWATCH_WORKER_SESSION_TIMEOUT_S=str(SESSION_TIMEOUT_S))
    worker = Child.wirewatch(["worker", "--loglevel", "info"], tmp_path / f"{name}.log", **env)
    wait_healthy(worker, settings.web_port)
    return worker


def test_a_static_worker_stopped_with_sigterm_leaves_its_group_at_once(settings: Settings, tmp_path: Path) -> None:
    worker = _start(settings, tmp_path, "first")
    try:
        stable = _wait_for(settings, "Stable")
        assert _instance_ids(stable) == [group_instance_id(settings)], stable
    finally:
        assert worker.stop() == 0, worker.log()[-3000:]
    after = _group(settings)  # within a second of the exit, long before the 30 s session could end
    assert _instance_ids(after) == [], f"the stopped worker is still a member: {after}\n{worker.log()[-3000:]}"


def test_a_static_worker_killed_and_restarted_replaces_itself_in_the_group(settings: Settings, tmp_path: Path) -> None:
    first = _start(settings, tmp_path, "first")
    _wait_for(settings, "Stable")
    first.kill()
    killed = time.monotonic()
    second = _start(settings, tmp_path, "second")
    try:
        # A dynamic member would join beside its dead predecessor and wait for that one's session to end.
        group = _wait_for(settings, "Stable", timeout_s=killed + SESSION_TIMEOUT_S / 2 - time.monotonic())
        assert group["group_state"] == "Stable", group
        assert _instance_ids(group) == [group_instance_id(settings)], group
    finally:
        second.stop()

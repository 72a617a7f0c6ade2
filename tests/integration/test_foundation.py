"""The foundation against the real broker: round trips, a Faust worker subprocess, topics, dev broker."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from streams.infra.kafka_topics import ensure_topics, topic_specs
from streams.infra.processes import free_port
from streams.infra.settings import Settings, load_settings
from streams.tools.devbroker import DevBroker, _alive
from tests.support.kafka import consume, create_topics, produce, unique_name
from tests.support.processes import Child, child_env

pytestmark = pytest.mark.integration


def test_kafka_python_round_trip_keeps_keys_values_and_headers(kafka_bootstrap: str) -> None:
    topic = unique_name("roundtrip")
    create_topics(kafka_bootstrap, [topic])
    sent = [(f"k{i}".encode(), f"value {i} ✓".encode()) for i in range(25)]
    produce(kafka_bootstrap, topic, sent, headers=[("feed", b"https://example.org/rss")])

    received = consume(kafka_bootstrap, topic, expected=len(sent), timeout_s=30)

    assert [(r.key, r.value) for r in received] == sent
    assert all(r.headers == (("feed", b"https://example.org/rss"),) for r in received)


def test_faust_worker_subprocess_consumes_and_produces(
    kafka_bootstrap: str, children: list[Child], tmp_path: Path
) -> None:
    source, target = unique_name("src"), unique_name("dst")
    create_topics(kafka_bootstrap, [source, target])
    worker = Child.python(
        ["-m", "faust", "-A", "tests.support.relay_app", "worker", "-l", "info", "--without-web"],
        tmp_path / "relay.log",
        RELAY_APP_ID=unique_name("relay"),
        RELAY_SOURCE=source,
        RELAY_TARGET=target,
        WIREWATCH_KAFKA_BOOTSTRAP=kafka_bootstrap,
    )
    children.append(worker)
    produce(kafka_bootstrap, source, [(f"{i}".encode(), f"hello {i}".encode()) for i in range(10)])

    received = consume(kafka_bootstrap, target, expected=10, timeout_s=90)

    assert sorted(r.value for r in received if r.value) == sorted(f"HELLO {i}".encode() for i in range(10))
    assert worker.is_running(), worker.log()[-3000:]


def test_ensure_topics_is_idempotent_and_compacts_watches(test_settings: Settings) -> None:
    first = ensure_topics(test_settings)
    second = ensure_topics(test_settings)

    assert sorted(first) == sorted(spec.name for spec in topic_specs(test_settings))
    assert second == []
    admin = KafkaAdminClient(bootstrap_servers=test_settings.kafka_bootstrap)
    try:
        watches = _topic_configs(admin, test_settings.topics.watches)
        raw = _topic_configs(admin, test_settings.topics.articles_raw)
    finally:
        admin.close()
    assert watches["cleanup.policy"] == "compact"
    assert raw.get("cleanup.policy", "delete") == "delete"
    assert raw["retention.ms"] == str(7 * 24 * 3600 * 1000)


def _topic_configs(admin: KafkaAdminClient, topic: str) -> dict[str, str]:
    """The topic's own (non-default) configs, as kafka-python 3 reports them."""
    answer = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    return {name: entry["value"] for name, entry in answer["topic"][topic].items()}


def _wirewatch(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli.main", *args],
        capture_output=True,
        text=True,
        env=child_env(**env),
        timeout=180,
        check=False,
    )


def test_dev_broker_start_twice_status_and_stop_leave_no_jvm(kafka_bootstrap: str) -> None:
    settings = load_settings()
    port = free_port()
    broker = DevBroker(settings.home, port=port)
    try:
        started = time.monotonic()
        first = _wirewatch(["kafka", "start", "--port", str(port)])
        elapsed = time.monotonic() - started
        assert first.returncode == 0, first.stderr
        assert f"ready at 127.0.0.1:{port}" in first.stdout
        assert elapsed < 60
        pid = broker.pid()
        assert pid is not None

        second = _wirewatch(["kafka", "start", "--port", str(port)])
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout
        assert broker.pid() == pid

        status = _wirewatch(["kafka", "status", "--port", str(port)])
        assert status.returncode == 0
        assert f"running (pid {pid}) at 127.0.0.1:{port}, ready" in status.stdout

        stop = _wirewatch(["kafka", "stop", "--port", str(port)])
        assert stop.returncode == 0
        assert not _alive(pid)
        after = _wirewatch(["kafka", "status", "--port", str(port)])
        assert after.returncode == 3
        assert after.stdout.startswith("stopped")
    finally:
        broker.stop()
        shutil.rmtree(broker.node_dir, ignore_errors=True)


def test_kafka_start_refuses_a_port_taken_by_another_program() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = _wirewatch(["kafka", "start", "--port", str(port)])
    assert result.returncode == 1
    assert result.stderr.strip() == f"wirewatch: error: port {port} on 127.0.0.1 is in use by another program"


def test_kafka_start_without_java_says_so_in_one_line(tmp_path: Path) -> None:
    result = _wirewatch(["kafka", "start", "--port", str(free_port())], PATH=str(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == ["wirewatch: error: java not found on PATH: install a JDK (17 or newer) to run the dev broker"]


def test_kafka_start_without_mvn_and_no_cached_jars_says_so(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    java = shutil.which("java")
    assert java is not None
    (bin_dir / "java").symlink_to(java)
    result = _wirewatch(
        ["kafka", "start", "--port", str(free_port())],
        PATH=str(bin_dir),
        WIREWATCH_HOME=str(tmp_path / "home"),
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("wirewatch: error: mvn not found on PATH: Maven is needed once")
    assert len(result.stderr.strip().splitlines()) == 1

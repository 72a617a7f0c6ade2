from __future__ import annotations

import os
from pathlib import Path

import pytest

from streams.core.errors import ConfigError
from streams.infra.settings import load_settings


def test_topic_names_app_id_and_groups_derive_from_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIREWATCH_TOPIC_PREFIX", "deskA")
    settings = load_settings()
    assert settings.topics.articles_raw == "deskA.articles.raw"
    assert settings.topics.watches == "deskA.watches"
    assert settings.topics.deadletter == "deskA.deadletter"
    assert settings.app_id == "deskA-worker"
    assert settings.group_id("alerts-tail") == "deskA-alerts-tail"


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [n for n in os.environ if n.startswith("WIREWATCH_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env here
    settings = load_settings()
    assert settings.kafka_bootstrap == "127.0.0.1:9092"
    assert settings.bootstrap_port == 9092
    assert settings.web_port == 6066


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("WIREWATCH_KAFKA_BOOTSTRAP", "localhost", "kafka_bootstrap"),
        ("WIREWATCH_TOPIC_PREFIX", "bad prefix!", "topic_prefix"),
        ("WIREWATCH_WEB_PORT", "70000", "web_port"),
        ("WIREWATCH_WORKER_ID", "two words", "worker_id"),
        ("WIREWATCH_WORKER_HEARTBEAT_INTERVAL_S", "10", "at most a third of worker_session_timeout_s"),
        ("WIREWATCH_WORKER_SESSION_TIMEOUT_S", "3", "worker_session_timeout_s"),
    ],
)
def test_invalid_values_give_one_readable_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=fragment) as info:
        load_settings()
    assert "\n" not in str(info.value)


def test_a_worker_id_makes_the_worker_a_static_member_at_its_address() -> None:
    from streams.worker.membership import group_instance_id, membership_options

    assert group_instance_id(load_settings(worker_id=None)) is None  # a dynamic member
    settings = load_settings(worker_id="worker-0", web_host="worker-0.worker", web_port=6066)
    assert group_instance_id(settings) == "worker-0@worker-0.worker:6066"
    options = membership_options(settings)
    assert options["broker_session_timeout"] > 3 * options["broker_heartbeat_interval"]
    assert options["broker_request_timeout"] > options["broker_session_timeout"]  # or Faust refuses to start


def test_yaml_file_named_by_wirewatch_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "wirewatch.yaml"
    config.write_text("topic_prefix: fromfile\nweb_port: 7000\n")
    monkeypatch.setenv("WIREWATCH_CONFIG", str(config))
    monkeypatch.setenv("WIREWATCH_WEB_PORT", "7001")
    settings = load_settings()
    assert settings.topic_prefix == "fromfile"
    assert settings.web_port == 7001  # the environment wins over the file


def test_missing_config_file_is_a_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WIREWATCH_CONFIG", str(tmp_path / "absent.yaml"))
    with pytest.raises(ConfigError, match="not a file"):
        load_settings()


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(Exception, match="frozen"):
        settings.topic_prefix = "other"  # type: ignore[misc]

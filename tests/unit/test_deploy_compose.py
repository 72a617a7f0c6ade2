"""deploy/compose.yaml and the Dockerfile, checked without a Docker engine: images pinned, KRaft settings,
environment names and values accepted by the settings model, ports and paths consistent with Prometheus's
scrape config and Grafana's provisioning, health checks on real endpoints."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
import yaml

from streams import __version__
from streams.infra.settings import Settings
from tests.support.deploy import check_pinned, check_settings_env
from tests.support.promql import PROMETHEUS_DIR, REPO

DEPLOY = REPO / "deploy"
DEFAULTS = Settings.model_construct()


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def _wirewatch(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in services.items() if "build" in spec}


def test_the_stack_has_every_part(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {"kafka", "connector", "worker-1", "worker-2", "prometheus", "grafana"}
    assert [services[n]["command"][0] for n in sorted(_wirewatch(services))] == ["connect", "worker", "worker"]


def test_every_image_is_pinned_and_ours_is_the_package_version(services: dict[str, dict[str, Any]]) -> None:
    for name, spec in services.items():
        check_pinned(spec["image"], name)
    for name, spec in _wirewatch(services).items():
        assert spec["image"] == f"wirewatch:{__version__}", name
        assert (DEPLOY / spec["build"]["context"] / spec["build"]["dockerfile"]).is_file()
    assert services["kafka"]["image"].startswith("apache/kafka:4.1.")
    # The dashboards are Grafana 11.6 models (grafana-foundation-sdk 11.6).
    assert services["grafana"]["image"].startswith("grafana/grafana:11.6.")


def test_kafka_runs_kraft_with_a_valid_cluster_id_and_the_advertised_bootstrap(
    services: dict[str, dict[str, Any]],
) -> None:
    env = services["kafka"]["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert len(base64.urlsafe_b64decode(env["CLUSTER_ID"] + "==")) == 16
    node = env["KAFKA_NODE_ID"]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{node}@kafka:")
    advertised = env["KAFKA_ADVERTISED_LISTENERS"].removeprefix("PLAINTEXT://")
    for name, spec in _wirewatch(services).items():
        assert spec["environment"]["WIREWATCH_KAFKA_BOOTSTRAP"] == advertised, name
        assert spec["depends_on"]["kafka"]["condition"] == "service_healthy", name
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 1  # one broker


def test_wirewatch_environment_is_valid_settings(services: dict[str, dict[str, Any]]) -> None:
    for name, spec in _wirewatch(services).items():
        check_settings_env(spec["environment"], name)


def test_prometheus_scrapes_every_wirewatch_process_on_its_configured_port(services: dict[str, dict[str, Any]]) -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: {t for c in job["static_configs"] for t in c["targets"]} for job in config["scrape_configs"]
    }
    connector_port = services["connector"]["environment"]["WIREWATCH_CONNECTOR_METRICS_PORT"]
    assert targets["wirewatch-connector"] == {f"connector:{connector_port}"}
    workers = {n: s for n, s in _wirewatch(services).items() if s["command"] == ["worker"]}
    assert targets["wirewatch-worker"] == {f"{n}:{s['environment']['WIREWATCH_WEB_PORT']}" for n, s in workers.items()}
    for name, spec in workers.items():
        assert spec["environment"]["WIREWATCH_WEB_HOST"] == name  # table routing reaches the right worker
        assert spec["environment"]["WIREWATCH_WORKER_ID"] == name  # static membership: one identity per worker
        probe = " ".join(spec["healthcheck"]["test"])
        assert f"127.0.0.1:{spec['environment']['WIREWATCH_WEB_PORT']}/health" in probe


def test_mounted_directories_exist_and_match_the_provisioning(services: dict[str, dict[str, Any]]) -> None:
    mounts = {}
    for name, spec in services.items():
        for volume in spec.get("volumes", ()):
            source, target = volume.split(":")[:2]
            if source.startswith("."):
                assert (DEPLOY / source).is_dir(), f"{name}: {source}"
                mounts[target] = DEPLOY / source
    assert (mounts["/etc/prometheus"] / "prometheus.yml").is_file()
    provider = yaml.safe_load((mounts["/etc/grafana/provisioning"] / "dashboards" / "wirewatch.yml").read_text())
    dashboards = mounts[provider["providers"][0]["options"]["path"]]
    assert sorted(dashboards.glob("*.json"))
    home = services["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (mounts["/var/lib/grafana/dashboards"] / home.rsplit("/", 1)[1]).is_file()
    source = yaml.safe_load((mounts["/etc/grafana/provisioning"] / "datasources" / "prometheus.yml").read_text())
    assert source["datasources"][0]["url"] == f"http://prometheus:{services['prometheus']['ports'][0].split(':')[1]}"
    feeds = services["connector"]["command"][services["connector"]["command"].index("--feeds") + 1]
    assert (mounts["/etc/wirewatch/feeds"] / feeds.rsplit("/", 1)[1]).is_file()


def test_dependencies_and_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, spec in services.items():
        depends = spec.get("depends_on", {})
        assert set(depends) <= set(services), name
        for volume in spec.get("volumes", ()):
            source = volume.split(":")[0]
            if not source.startswith("."):
                assert source in compose["volumes"], f"{name}: {source}"


def test_the_dockerfile_is_pinned_and_exposes_the_default_ports() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    (base,) = re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)
    check_pinned(base, "Dockerfile")
    assert re.match(r"python:3\.11\.\d+-", base), "the Python the project supports, to the patch release"
    exposed = {int(port) for port in re.findall(r"^EXPOSE (.+)$", dockerfile, flags=re.MULTILINE)[0].split()}
    assert exposed == {DEFAULTS.web_port, DEFAULTS.connector_metrics_port}
    for source in re.findall(r"^COPY (\S+)", dockerfile, flags=re.MULTILINE):
        assert (REPO / source).exists(), source
    env = dict(re.findall(r"(WIREWATCH_\w+)=(\S+)", dockerfile))
    check_settings_env(env, "Dockerfile")

"""deploy/compose.yaml and the Dockerfile, checked without a Docker engine: images pinned, KRaft settings,
environment names and values accepted by the settings model, ports and paths consistent with Prometheus's
scrape config and Grafana's provisioning, health checks on real endpoints, and the connectors deployed as one
group over the feeds topic (decisions 0905-0907), their commands read by wirewatch's own argument parser."""

from __future__ import annotations

import argparse
import base64
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from streams import __version__
from streams.cli.main import build_parser
from streams.infra.settings import Settings
from tests.support.deploy import check_pinned, check_settings_env
from tests.support.promql import PROMETHEUS_DIR, REPO

DEPLOY = REPO / "deploy"
DEFAULTS = Settings.model_construct()
WEBSUB_PORT = 9109
COMPOSE_VARIABLE = re.compile(r"\$\{(\w+):-([^}]*)\}")
"""``${NAME:-default}``: what compose substitutes when ``NAME`` is unset."""


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


def _connectors(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in _wirewatch(services).items() if spec["command"][0] == "connect"}


def _args(command: list[str]) -> argparse.Namespace:
    """A service's command as ``wirewatch`` parses it (unknown flags fail), compose defaults substituted."""
    argv = [COMPOSE_VARIABLE.sub(lambda match: match[2], str(word)) for word in command]
    assert not any("$" in word for word in argv), argv
    return build_parser().parse_args(argv)


def _named_volumes(spec: dict[str, Any]) -> dict[str, str]:
    """Mount target -> named volume (bind mounts left out)."""
    pairs = (volume.split(":")[:2] for volume in spec.get("volumes", ()))
    return {target: source for source, target in pairs if not source.startswith(".")}


def test_the_stack_has_every_part(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {
        "kafka", "feed-seed", "connector-1", "connector-2", "worker-1", "worker-2", "prometheus", "grafana",
    }  # fmt: skip
    commands = [services[n]["command"][0] for n in sorted(_wirewatch(services))]
    assert commands == ["connect", "connect", "feed", "worker", "worker"]


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
    connectors = _connectors(services)
    assert targets["wirewatch-connector"] == {
        f"{n}:{s['environment']['WIREWATCH_CONNECTOR_METRICS_PORT']}" for n, s in connectors.items()
    }
    for name, spec in connectors.items():
        assert str(spec["environment"]["WIREWATCH_CONNECTOR_METRICS_PORT"]) == str(DEFAULTS.connector_metrics_port)
        assert str(DEFAULTS.connector_metrics_port) in spec["expose"], name
    workers = {n: s for n, s in _wirewatch(services).items() if s["command"] == ["worker"]}
    assert set(services["prometheus"]["depends_on"]) == set(connectors) | set(workers)
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
    feeds = _args(services["feed-seed"]["command"]).file
    assert (mounts["/etc/wirewatch/feeds"] / feeds.name).is_file()


def test_connectors_form_one_group_over_the_feeds_topic(services: dict[str, dict[str, Any]]) -> None:
    connectors = _connectors(services)
    assert len(connectors) >= 2  # a group, not one process per feed list
    assert len(connectors) <= int(services["connector-1"]["environment"]["WIREWATCH_TOPIC_PARTITIONS"])
    for name, spec in connectors.items():
        args = _args(spec["command"])
        assert args.feeds is None, f"{name}: --feeds runs a lone connector off a file, outside the group"
        assert not args.once, name


def test_every_connector_has_its_own_state_cache_and_websub_callback(services: dict[str, dict[str, Any]]) -> None:
    connectors = _connectors(services)
    volumes, callbacks = [], []
    for name, spec in connectors.items():
        args = _args(spec["command"])
        assert args.state is not None, f"{name}: --state on its volume"
        mounts = _named_volumes(spec)
        holding = [target for target in mounts if args.state.is_relative_to(target)]
        assert len(holding) == 1, f"{name}: --state {args.state} is on no named volume of its own"
        volumes.append(mounts[holding[0]])
        assert args.websub_listen, f"{name}: --websub-listen serves the hub callbacks"
        host, _, port = args.websub_listen.rpartition(":")
        assert (host, int(port)) == ("0.0.0.0", WEBSUB_PORT), name
        assert str(WEBSUB_PORT) in spec["expose"], name
        callback = urlsplit(args.websub_callback_base)
        assert callback.scheme in {"http", "https"}, name
        # The default reaches this very service on the compose network.
        assert (callback.hostname, callback.port) == (name, WEBSUB_PORT), name
        callbacks.append(args.websub_callback_base)
    assert len(set(volumes)) == len(connectors), f"connectors share a state volume: {volumes}"
    assert len(set(callbacks)) == len(connectors), f"connectors share a WebSub callback base: {callbacks}"
    others = [volume for n, s in services.items() if n not in connectors for volume in _named_volumes(s).values()]
    assert not set(volumes) & set(others)


def test_the_feeds_topic_is_seeded_once_per_up_without_prune(services: dict[str, dict[str, Any]]) -> None:
    seed = services["feed-seed"]
    args = _args(seed["command"])
    assert (args.command, args.feed_action) == ("feed", "sync")
    assert not args.prune, "--prune would remove every feed added at run time"
    assert seed["restart"] == "no"  # one-shot
    assert "ports" not in seed
    assert "expose" not in seed
    for name in _connectors(services):
        assert services[name]["depends_on"]["feed-seed"] == {"condition": "service_completed_successfully"}, name


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
    assert exposed == {DEFAULTS.web_port, DEFAULTS.connector_metrics_port, WEBSUB_PORT}
    for source in re.findall(r"^COPY (\S+)", dockerfile, flags=re.MULTILINE):
        assert (REPO / source).exists(), source
    env = dict(re.findall(r"(WIREWATCH_\w+)=(\S+)", dockerfile))
    check_settings_env(env, "Dockerfile")

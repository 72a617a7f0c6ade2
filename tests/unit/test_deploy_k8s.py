"""deploy/k8s (kustomize), checked without a cluster: every manifest validates against the Kubernetes 1.33
OpenAPI schemas (kubernetes-validate, strict: unknown fields fail), and the manifests agree with the settings
model, the image version, the partitions and the endpoints each process really serves. The connectors are one
group over the feeds topic (decisions 0905-0907); their arguments are read by wirewatch's own parser."""

from __future__ import annotations

import argparse
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from streams import __version__
from streams.cli.main import build_parser
from tests.support.deploy import SETTINGS_ENV, check_pinned, check_settings_env
from tests.support.promql import REPO

K8S = REPO / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33"
CONNECTOR = ("StatefulSet", "connector")
WEBSUB_PORT = 9109


@pytest.fixture(scope="module")
def kustomization() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return document


@pytest.fixture(scope="module")
def resources(kustomization: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for name in kustomization["resources"]:
        for document in yaml.safe_load_all((K8S / name).read_text()):
            found[(document["kind"], document["metadata"]["name"])] = document
    return found


@pytest.fixture(scope="module")
def settings_env(kustomization: dict[str, Any]) -> dict[str, str]:
    (generator,) = kustomization["configMapGenerator"]
    assert generator["name"] == "wirewatch-settings"
    return dict(literal.split("=", 1) for literal in generator["literals"])


def _container(resource: dict[str, Any]) -> dict[str, Any]:
    (container,) = resource["spec"]["template"]["spec"]["containers"]
    found: dict[str, Any] = container
    return found


def _all_containers(resource: dict[str, Any]) -> list[dict[str, Any]]:
    spec = resource["spec"]["template"]["spec"]
    found: list[dict[str, Any]] = [*spec.get("initContainers", ()), *spec["containers"]]
    return found


def _port(container: dict[str, Any], name: str) -> int:
    return int(next(p["containerPort"] for p in container["ports"] if p["name"] == name))


def _args(container: dict[str, Any]) -> argparse.Namespace:
    """A container's arguments as ``wirewatch`` parses them (unknown flags fail)."""
    return build_parser().parse_args(container["args"])


@pytest.mark.parametrize("path", sorted(K8S.glob("*.yaml")), ids=lambda p: p.name)
def test_every_manifest_validates_against_the_kubernetes_schema(path: Path) -> None:
    if path.name == "kustomization.yaml":
        document = yaml.safe_load(path.read_text())
        assert document["kind"] == "Kustomization"
        assert all((K8S / resource).is_file() for resource in document["resources"])
        return
    for document in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_manifests_have_what_the_issue_asks_for(resources: dict[tuple[str, str], dict[str, Any]]) -> None:
    kinds = {kind for kind, _ in resources}
    assert {"StatefulSet", "Service", "Namespace"} <= kinds
    assert {("StatefulSet", "worker"), CONNECTOR} <= set(resources)
    old_shard = {(kind, name) for kind, name in resources if name.startswith("connector-")}
    assert not old_shard, f"the one-shard-per-feed-list model is gone: {old_shard}"


def test_settings_are_valid_and_workers_do_not_outnumber_partitions(
    resources: dict[tuple[str, str], dict[str, Any]], settings_env: dict[str, str]
) -> None:
    settings = check_settings_env(settings_env, "wirewatch-settings")
    assert resources[("StatefulSet", "worker")]["spec"]["replicas"] <= settings.topic_partitions
    assert 2 <= resources[CONNECTOR]["spec"]["replicas"] <= settings.topic_partitions  # extra connectors idle
    for key in (("StatefulSet", "worker"), CONNECTOR):
        for container in _all_containers(resources[key]):
            assert {"configMapRef": {"name": "wirewatch-settings"}} in container["envFrom"]
            names = {variable["name"] for variable in container.get("env", ())}
            assert names - {"POD_NAME"} <= SETTINGS_ENV, container["name"]


def test_every_worker_pod_is_a_static_member_named_after_itself(
    resources: dict[tuple[str, str], dict[str, Any]],
) -> None:
    env = {v["name"]: v for v in _container(resources[("StatefulSet", "worker")])["env"]}
    assert env["POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["WIREWATCH_WORKER_ID"]["value"] == "$(POD_NAME)"  # the StatefulSet ordinal survives a restart


def test_images_are_pinned_to_the_package_version(
    kustomization: dict[str, Any], resources: dict[tuple[str, str], dict[str, Any]]
) -> None:
    assert kustomization["images"] == [{"name": "wirewatch", "newName": "wirewatch", "newTag": __version__}]
    for (kind, name), resource in resources.items():
        if kind in {"Deployment", "StatefulSet"}:
            for container in _all_containers(resource):
                image = container["image"]
                check_pinned(image, name)
                assert image == f"wirewatch:{__version__}"


def test_probes_reach_the_endpoints_each_process_serves(
    resources: dict[tuple[str, str], dict[str, Any]], settings_env: dict[str, str]
) -> None:
    settings = check_settings_env(settings_env, "wirewatch-settings")
    worker = _container(resources[("StatefulSet", "worker")])
    assert worker["args"] == ["worker"]
    assert _port(worker, "web") == settings.web_port
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert worker[probe]["httpGet"] == {"path": "/health", "port": "web"}, probe
    connector = _container(resources[CONNECTOR])
    assert _args(connector).command == "connect"
    assert _port(connector, "metrics") == settings.connector_metrics_port
    for probe in ("readinessProbe", "livenessProbe"):
        assert connector[probe]["httpGet"] == {"path": "/metrics", "port": "metrics"}, probe
    annotations = resources[CONNECTOR]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(settings.connector_metrics_port)


def test_every_container_requests_resources(resources: dict[tuple[str, str], dict[str, Any]]) -> None:
    for (kind, name), resource in resources.items():
        if kind in {"Deployment", "StatefulSet"}:
            for container in _all_containers(resource):
                requests = container["resources"]["requests"]
                assert {"cpu", "memory"} <= set(requests), f"{name}: {container['name']}"


def test_connectors_are_one_group_over_the_feeds_topic(resources: dict[tuple[str, str], dict[str, Any]]) -> None:
    args = _args(_container(resources[CONNECTOR]))
    assert args.feeds is None, "--feeds runs a lone connector off a file, outside the group"
    assert not args.once


def test_every_connector_pod_has_its_own_state_cache(resources: dict[tuple[str, str], dict[str, Any]]) -> None:
    spec = resources[CONNECTOR]["spec"]
    container = _container(resources[CONNECTOR])
    state = _args(container).state
    assert state is not None, "--state on the pod's volume"
    holding = [m["name"] for m in container["volumeMounts"] if PurePosixPath(state).is_relative_to(m["mountPath"])]
    assert len(holding) == 1, f"--state {state} is on no volume"
    claims = {claim["metadata"]["name"] for claim in spec["volumeClaimTemplates"]}
    assert holding[0] in claims  # one claim per pod, not one claim shared by the group
    assert "volumes" not in spec["template"]["spec"]


def test_every_connector_pod_serves_websub_at_its_own_callback_base(
    resources: dict[tuple[str, str], dict[str, Any]],
) -> None:
    container = _container(resources[CONNECTOR])
    args = _args(container)
    assert args.websub_listen, "--websub-listen serves the hub callbacks"
    host, _, port = args.websub_listen.rpartition(":")
    assert (host, int(port)) == ("0.0.0.0", WEBSUB_PORT)
    assert _port(container, "websub") == WEBSUB_PORT
    env = {v["name"]: v for v in container["env"]}
    assert env["POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    callback = urlsplit(args.websub_callback_base)
    assert callback.scheme == "https"
    assert "$(POD_NAME)" in callback.netloc  # a subscription's callback belongs to one pod
    assert str(callback.hostname).endswith(".example"), "an example host name, never a real one"
    service = resources[("Service", resources[CONNECTOR]["spec"]["serviceName"])]
    assert {(p["name"], p["port"]) for p in service["spec"]["ports"]} >= {("websub", WEBSUB_PORT)}


def test_the_feeds_topic_is_seeded_from_the_shipped_list_without_prune(
    resources: dict[tuple[str, str], dict[str, Any]],
) -> None:
    (seed,) = resources[CONNECTOR]["spec"]["template"]["spec"]["initContainers"]
    args = _args(seed)
    assert (args.command, args.feed_action) == ("feed", "sync")
    assert not args.prune, "--prune would remove every feed added at run time, at every pod start"
    assert (REPO / PurePosixPath(args.file).relative_to("/app")).is_file()  # the Dockerfile copies deploy/feeds


def test_services_select_their_pods_and_name_real_ports(resources: dict[tuple[str, str], dict[str, Any]]) -> None:
    workloads = [r for (kind, _), r in resources.items() if kind in {"Deployment", "StatefulSet"}]
    for (kind, name), service in resources.items():
        if kind != "Service":
            continue
        selector = service["spec"]["selector"]
        (target,) = [w for w in workloads if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()]
        port_names = {p["name"] for p in _container(target)["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names, name
    for key in (("StatefulSet", "worker"), CONNECTOR):
        workload = resources[key]
        assert resources[("Service", workload["spec"]["serviceName"])]["spec"]["clusterIP"] == "None", key

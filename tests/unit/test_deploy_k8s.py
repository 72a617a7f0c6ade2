"""deploy/k8s (kustomize), checked without a cluster: every manifest validates against the Kubernetes 1.33
OpenAPI schemas (kubernetes-validate, strict: unknown fields fail), and the manifests agree with the settings
model, the image version, the partitions and the endpoints each process really serves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from streams import __version__
from tests.support.deploy import SETTINGS_ENV, check_pinned, check_settings_env
from tests.support.promql import REPO

K8S = REPO / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33"


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


def _port(container: dict[str, Any], name: str) -> int:
    return int(next(p["containerPort"] for p in container["ports"] if p["name"] == name))


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
    assert {"Deployment", "StatefulSet", "Service", "Namespace", "PersistentVolumeClaim"} <= kinds


def test_settings_are_valid_and_workers_do_not_outnumber_partitions(
    resources: dict[tuple[str, str], dict[str, Any]], settings_env: dict[str, str]
) -> None:
    settings = check_settings_env(settings_env, "wirewatch-settings")
    assert resources[("StatefulSet", "worker")]["spec"]["replicas"] <= settings.topic_partitions
    for kind, name in (("StatefulSet", "worker"), ("Deployment", "connector-0")):
        container = _container(resources[(kind, name)])
        assert {"configMapRef": {"name": "wirewatch-settings"}} in container["envFrom"]
        names = {variable["name"] for variable in container.get("env", ())}
        assert names - {"POD_NAME"} <= SETTINGS_ENV, name


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
            image = _container(resource)["image"]
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
    connector = _container(resources[("Deployment", "connector-0")])
    assert connector["args"][0] == "connect"
    assert _port(connector, "metrics") == settings.connector_metrics_port
    for probe in ("readinessProbe", "livenessProbe"):
        assert connector[probe]["httpGet"] == {"path": "/metrics", "port": "metrics"}, probe
    feeds = connector["args"][connector["args"].index("--feeds") + 1]
    assert (REPO / feeds.removeprefix("/app/")).is_file()  # the Dockerfile copies deploy/feeds to /app


def test_every_container_requests_resources(resources: dict[tuple[str, str], dict[str, Any]]) -> None:
    for (kind, name), resource in resources.items():
        if kind in {"Deployment", "StatefulSet"}:
            requests = _container(resource)["resources"]["requests"]
            assert {"cpu", "memory"} <= set(requests), name


def test_one_connector_process_per_shard_state(resources: dict[tuple[str, str], dict[str, Any]]) -> None:
    connector = resources[("Deployment", "connector-0")]["spec"]
    assert connector["replicas"] == 1
    assert connector["strategy"]["type"] == "Recreate"
    volumes = connector["template"]["spec"]["volumes"]
    claims = {v["persistentVolumeClaim"]["claimName"] for v in volumes if "persistentVolumeClaim" in v}
    assert claims <= {name for kind, name in resources if kind == "PersistentVolumeClaim"}


def test_services_select_their_pods_and_name_real_ports(resources: dict[tuple[str, str], dict[str, Any]]) -> None:
    workloads = [r for (kind, _), r in resources.items() if kind in {"Deployment", "StatefulSet"}]
    for (kind, name), service in resources.items():
        if kind != "Service":
            continue
        selector = service["spec"]["selector"]
        (target,) = [w for w in workloads if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()]
        port_names = {p["name"] for p in _container(target)["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names, name
    worker = resources[("StatefulSet", "worker")]
    assert resources[("Service", worker["spec"]["serviceName"])]["spec"]["clusterIP"] == "None"

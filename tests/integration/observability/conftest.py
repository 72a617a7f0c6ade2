"""A running stack for the observability tests: the demo's sample feeds → connector → worker (with the demo's
watches) → a real Prometheus (Debian's binary) scraping both with the project's own config and rules."""

from __future__ import annotations

import json
import shutil
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from string import Template
from typing import Any

import pytest
import yaml

from streams.infra.kafka_topics import ensure_topics
from streams.infra.settings import Settings, load_settings
from streams.tools.demo import DEMO_DIR, FeedServer, add_default_watches, render_feeds
from tests.support.kafka import unique_name
from tests.support.pipeline import free_port, start_worker, wait_healthy
from tests.support.processes import Child, child_env
from tests.support.promql import PROMETHEUS_DIR, RULE_FILES

SCRAPE_INTERVAL = "1s"


@dataclass
class Stack:
    settings: Settings
    connector_url: str
    worker_url: str
    prometheus_url: str
    children: list[Child]

    def metrics_page(self, base: str) -> str:
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:  # noqa: S310 - 127.0.0.1
            return str(response.read().decode())

    def api(self, path: str, **params: str) -> Any:
        """A Prometheus HTTP API answer's ``data`` (the call must succeed)."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.prometheus_url}/api/v1/{path}{query}", timeout=30) as response:  # noqa: S310
            body = json.load(response)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector", data
        result: list[dict[str, Any]] = data["result"]
        return result

    def wait_for(self, expr: str, timeout_s: float = 90.0) -> list[dict[str, Any]]:
        """Until the instant query returns something (Prometheus scrapes every second)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for child in self.children:
                assert child.is_running(), f"{child.log_path.name} exited:\n{child.log()[-4000:]}"
            result = self.query(expr)
            if result:
                return result
            time.sleep(1)
        logs = "\n".join(f"--- {c.log_path.name}\n{c.log()[-3000:]}" for c in self.children)
        raise AssertionError(f"no data for {expr!r} within {timeout_s} s\n{logs}")


def prometheus_config(connector: str, worker: str) -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml with local targets and 1 s intervals; rules and jobs unchanged."""
    config: dict[str, Any] = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    config["global"].update(scrape_interval=SCRAPE_INTERVAL, evaluation_interval=SCRAPE_INTERVAL)
    config["rule_files"] = [str(path) for path in RULE_FILES]
    targets = {"wirewatch-connector": connector, "wirewatch-worker": worker}
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
    return config


def _wait_ready(child: Child, url: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert child.is_running(), child.log()[-4000:]
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - 127.0.0.1
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} not ready:\n{child.log()[-4000:]}")


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    binary = shutil.which("prometheus")
    assert binary, "prometheus not found: run `make system-deps` (Debian package prometheus)"
    workdir = tmp_path_factory.mktemp("observability")
    settings = load_settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=unique_name("wwobs"),
        topic_partitions=2,
        home=workdir / "home",
    )
    ensure_topics(settings)
    add_default_watches(settings)
    children: list[Child] = []
    with FeedServer() as feeds:
        feeds.documents = render_feeds(DEMO_DIR / "feeds", datetime.now(UTC), feeds.base_url)
        feed_list = workdir / "feeds.yaml"
        feed_list.write_text(Template((DEMO_DIR / "feeds.yaml.in").read_text()).substitute(base=feeds.base_url))
        try:
            worker, worker_port = start_worker(settings, workdir)
            children.append(worker)
            connector_port = free_port()
            connector = Child.wirewatch(
                [
                    "connect",
                    "--feeds",
                    str(feed_list),
                    "--allow-private-networks",
                    "--metrics-port",
                    str(connector_port),
                ],
                workdir / "connector.log",
                WIREWATCH_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
                WIREWATCH_TOPIC_PREFIX=settings.topic_prefix,
                WIREWATCH_HOME=str(settings.home),
            )
            children.append(connector)
            config_path = workdir / "prometheus.yml"
            config = prometheus_config(f"127.0.0.1:{connector_port}", f"127.0.0.1:{worker_port}")
            config_path.write_text(yaml.safe_dump(config))
            prometheus_port = free_port()
            prometheus = Child(
                [
                    binary,
                    f"--config.file={config_path}",
                    f"--storage.tsdb.path={workdir / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prometheus_port}",
                    "--log.level=warn",
                ],
                workdir / "prometheus.log",
                child_env(),
            )
            children.append(prometheus)
            prometheus_url = f"http://127.0.0.1:{prometheus_port}"
            _wait_ready(prometheus, f"{prometheus_url}/-/ready")
            wait_healthy(worker, worker_port)
            yield Stack(
                settings,
                f"http://127.0.0.1:{connector_port}",
                f"http://127.0.0.1:{worker_port}",
                prometheus_url,
                children,
            )
        finally:
            for child in reversed(children):
                child.stop()

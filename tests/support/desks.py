"""Helpers for the desk API tests: alerts made up for a desk, a worker with the API settings, an HTTP client
that checks every answer against the served OpenAPI document, and a server-sent events reader."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from streams.core.models import Alert
from streams.infra.settings import Settings
from tests.support.kafka import produce
from tests.support.pipeline import free_port, worker_env
from tests.support.processes import Child

ADMIN_TOKEN = "test-admin-" + uuid.uuid4().hex
KIM, PUTIN = ("Q56226", "Kim Jong Un"), ("Q7747", "Vladimir Putin")


def make_alert(desk: str, n: int, *, watch_id: str = "w-000000000001", title: str | None = None) -> Alert:
    """A made-up alert (the pipeline's own agents are tested elsewhere): unique id per desk and ``n``."""
    return Alert.from_wire(
        {
            "alert_id": f"a-{desk}-{n}-{uuid.uuid4().hex[:8]}",
            "watch_id": watch_id,
            "desk": desk,
            "entities": [{"id": KIM[0], "name": KIM[1]}, {"id": PUTIN[0], "name": PUTIN[1]}],
            "story_id": f"s-{n}",
            "article": {
                "id": f"art-{n}",
                "url": f"https://news.example/{n}",
                "title": title if title is not None else f"Kim Jong Un meets Vladimir Putin, part {n}",
                "source": {"feed_url": "https://news.example/feed", "name": "Example News", "domain": "news.example"},
                "published": datetime.now(UTC).isoformat(),
            },
            "evidence": [f"Kim Jong Un met Vladimir Putin, KCNA said (story {n})."],
            "state_media": {
                "publisher": None,
                "cited": [
                    {
                        "id": "kcna",
                        "name": "KCNA",
                        "country": "KP",
                        "category": "state_controlled",
                        "role": "cited",
                        "evidence": [{"field": "content", "start": 0, "end": 4, "text": "KCNA"}],
                    }
                ],
                "state_sourced": True,
            },
            "fired_at": datetime.now(UTC).isoformat(),
            "latency_s": 0.5,
        }
    )


def produce_alerts(settings: Settings, alerts: list[Alert]) -> None:
    produce(settings.kafka_bootstrap, settings.topics.alerts, [(a.alert_id.encode(), a.to_json()) for a in alerts])


def start_api_worker(settings: Settings, log_dir: Path, name: str = "worker", **env: str) -> tuple[Child, str]:
    """A worker with the admin token and loopback webhooks allowed; returns it and its base URL."""
    port = free_port()
    overrides = {
        **worker_env(settings, port),
        "WIREWATCH_ADMIN_TOKEN": ADMIN_TOKEN,
        "WIREWATCH_ALLOW_PRIVATE_NETWORKS": "true",
        **env,
    }
    child = Child.wirewatch(["worker", "--loglevel", "info"], log_dir / f"{name}.log", **overrides)
    return child, f"http://127.0.0.1:{port}"


def wait_api_ready(child: Child, base: str, timeout_s: float = 90.0) -> None:
    """Until the API answers ``ok`` for the admin token: desks, watches and alert store loaded.

    The polls back off (0.5 s, then up to 3 s apart): each counts against the admin token's rate limit, which a
    test of the limit sets low, and a slow start on a loaded machine must not use it up."""
    deadline = time.monotonic() + timeout_s
    pause = 0.5
    while time.monotonic() < deadline:
        assert child.is_running(), f"worker exited:\n{child.log()[-4000:]}"
        try:
            answer = requests.get(f"{base}/api/v1/health", headers=bearer(ADMIN_TOKEN), timeout=2)
            if answer.status_code == 200 and answer.json()["status"] == "ok":
                return
        except requests.RequestException:
            pass
        time.sleep(pause)
        pause = min(pause * 1.6, 3.0)
    raise AssertionError(f"API not ready within {timeout_s} s:\n{child.log()[-4000:]}")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def desk_token(cli_output: str) -> str:
    """``desk add``/``rotate`` print the token alone on the last line."""
    return cli_output.strip().splitlines()[-1]


def wait_until_accepted(base: str, token: str, timeout_s: float = 15.0) -> None:
    """Workers learn about new desks from the desks topic, a moment after the CLI wrote it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if requests.get(f"{base}/api/v1/health", headers=bearer(token), timeout=5).status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not accept the new token")


class OpenApiClient:
    """``requests`` against the worker; every JSON answer is validated against the served document."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.document: dict[str, Any] = requests.get(f"{base}/api/v1/openapi.json", timeout=10).json()
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource("urn:wirewatch:openapi", resource)
        self._templates = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path) for path in self.document["paths"]
        ]

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = {**(bearer(token) if token else {}), **kwargs.pop("headers", {})}
        timeout = kwargs.pop("timeout", 30)
        response = requests.request(method, self.base + path, headers=headers, timeout=timeout, **kwargs)
        self.check(method, path, response)
        return response

    def template(self, path: str) -> str:
        bare = path.split("?")[0]
        matches = [template for pattern, template in self._templates if pattern.match(bare)]
        assert matches, f"{bare} is not in the OpenAPI document"
        return min(matches, key=lambda t: t.count("{"))  # literal segments win, as in the router

    def check(self, method: str, path: str, response: requests.Response) -> None:
        operation = self.document["paths"][self.template(path)][method.lower()]
        documented = operation["responses"].get(str(response.status_code))
        assert documented is not None, f"{method} {path} answered undocumented {response.status_code}"
        content = documented.get("content", {})
        if not content:
            assert not response.content, f"{method} {path} {response.status_code} should have no body"
            return
        media_type = response.headers["Content-Type"].split(";")[0]
        assert media_type in content, f"{method} {path}: {media_type} not documented for {response.status_code}"
        schema = content[media_type]["schema"]
        if media_type.endswith("json") and "$ref" in schema:
            validator = Draft202012Validator(
                {"$ref": "urn:wirewatch:openapi" + schema["$ref"]}, registry=self._registry
            )
            validator.validate(response.json())


@dataclass
class Event:
    type: str = "message"
    id: str | None = None
    data: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads("\n".join(self.data))


def sse_lines(response: requests.Response) -> Iterator[str]:
    buffer = b""
    for chunk in response.iter_content(chunk_size=None):
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield line.decode().rstrip("\r")


def sse_events(response: requests.Response) -> Iterator[Event]:
    """Parse a ``text/event-stream`` body as the HTML standard says (``retry`` advice as its own event)."""
    event = Event()
    for line in sse_lines(response):
        if not line:
            if event.data or event.type != "message":
                yield event
            event = Event()
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                event.data.append(value)
            elif name == "event":
                event.type = value
            elif name == "id":
                event.id = value
            elif name == "retry":
                yield Event(type="retry", data=[value])

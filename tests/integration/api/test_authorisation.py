"""Every endpoint × {no token, bad token, rotated-away token, another desk's token}: 401 or 404 with no data
(another desk's collections answer with that desk's own, empty, data); a ``desk`` in a body is ignored."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import requests

from tests.integration.api.conftest import ApiWorker
from tests.support.desks import ADMIN_TOKEN, bearer, desk_token, make_alert, produce_alerts

pytestmark = pytest.mark.integration

BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/api/v1/watches"): {"entities": ["Kim Jong Un", "Xi Jinping"], "desk": "{victim}"},
    ("patch", "/api/v1/watches/{watch_id}"): {"cooldown_s": 60, "desk": "{victim}"},
    ("post", "/api/v1/webhooks"): {"url": "http://127.0.0.1:9/hook", "desk": "{victim}"},
    ("patch", "/api/v1/webhooks/{webhook_id}"): {"description": "changed", "desk": "{victim}"},
    ("post", "/api/v1/desks"): {"name": "never-made"},
    ("post", "/api/v1/entities"): {"name": "Bystander Zorkhan Shipping", "type": "organization", "desk": "{victim}"},
    ("post", "/api/v1/watches/{watch_id}/lookback"): {"since": "1h"},
    ("post", "/api/v1/feeds"): {"url": "http://127.0.0.1:9/never-added"},
    ("post", "/api/v1/feeds/{feed_id}/pause"): {"reason": "not by a desk"},
}


@pytest.fixture(scope="module")
def victim(api_worker: ApiWorker) -> dict[str, str]:
    """Desk A with one object of every kind, a rotated-away token, and desk B."""
    client = api_worker.client
    old_token = api_worker.new_desk("victim")
    token = desk_token(api_worker.cli("desk", "rotate", "victim"))
    deadline = time.monotonic() + 15
    while requests.get(f"{api_worker.base}/api/v1/health", headers=bearer(old_token), timeout=5).status_code != 401:
        assert time.monotonic() < deadline, "the rotated-away token still works"
        time.sleep(0.2)
    watch = client.call("POST", "/api/v1/watches", token, json={"entities": ["Kim Jong Un", "Vladimir Putin"]})
    assert watch.status_code == 201, watch.text
    entity = client.call("POST", "/api/v1/entities", token, json={"name": "Tarkhanov Maritime", "type": "organization"})
    assert entity.status_code == 201, entity.text
    hook = client.call("POST", "/api/v1/webhooks", token, json={"url": "http://127.0.0.1:9/victim"})
    assert hook.status_code == 201, hook.text
    alert = make_alert("victim", 1)
    produce_alerts(api_worker.settings, [alert])
    deadline = time.monotonic() + 15
    while client.call("GET", f"/api/v1/alerts/{alert.alert_id}", token).status_code != 200:
        assert time.monotonic() < deadline, "the alert did not reach the API"
        time.sleep(0.2)
    return {
        "token": token,
        "old_token": old_token,
        "other_token": api_worker.new_desk("bystander"),
        "watch_id": watch.json()["watch_id"],
        "webhook_id": hook.json()["webhook_id"],
        "entity_id": entity.json()["id"],
        "feed_id": "f-000000000000",  # feeds are the admin's: a desk gets 403 whatever the id
        "alert_id": alert.alert_id,
        "name": "victim",
    }


def operations(api_worker: ApiWorker) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, spec)
        for path, methods in api_worker.client.document["paths"].items()
        for method, spec in methods.items()
        if spec["security"]
    ]


def fill(path: str, victim: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: victim[m.group(1)], path)


def secret_values(victim: dict[str, str]) -> list[str]:
    return [victim[k] for k in ("watch_id", "webhook_id", "alert_id", "entity_id")]


def request(api_worker: ApiWorker, method: str, path: str, token: str | None, victim: dict[str, str]) -> Any:
    body = BODIES.get((method, path))
    if body is not None:
        body = {k: v.format(victim=victim["name"]) if isinstance(v, str) else v for k, v in body.items()}
    return api_worker.client.call(
        method.upper(), fill(path, victim), token, json=body, stream=path.endswith("/stream"), timeout=10
    )


@pytest.mark.parametrize("who", ["none", "bad", "rotated"])
def test_without_a_valid_token_every_endpoint_answers_401_and_nothing_else(
    api_worker: ApiWorker, victim: dict[str, str], who: str
) -> None:
    token = {"none": None, "bad": "wwd_" + "x" * 43, "rotated": victim["old_token"]}[who]
    checked = 0
    for method, path, _ in operations(api_worker):
        response = request(api_worker, method, path, token, victim)
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.json()["code"] == "unauthorized"
        assert not any(value in response.text for value in secret_values(victim))
        checked += 1
    assert checked >= 20


def test_another_desks_token_sees_nothing_of_this_desk(api_worker: ApiWorker, victim: dict[str, str]) -> None:
    statuses = {}
    for method, path, _ in operations(api_worker):
        response = request(api_worker, method, path, victim["other_token"], victim)
        statuses[(method, path)] = response.status_code
        if path.endswith("/stream"):
            assert response.status_code == 200
            response.close()  # a fresh stream starts at the newest alert: nothing of the victim's past
            continue
        assert not any(value in response.text for value in secret_values(victim)), (method, path)
        if "{" in path and not path.startswith(("/api/v1/desks", "/api/v1/feeds")):  # the admin's: 403
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["code"] == "not_found"
    assert statuses[("get", "/api/v1/watches")] == 200
    assert statuses[("get", "/api/v1/desks")] == 403  # desk tokens do not manage desks
    # The victim's objects are untouched and still there for the victim.
    client = api_worker.client
    assert client.call("GET", f"/api/v1/watches/{victim['watch_id']}", victim["token"]).json()["cooldown_s"] == 21600
    assert client.call("GET", f"/api/v1/webhooks/{victim['webhook_id']}", victim["token"]).json()["description"] == ""
    assert client.call("GET", f"/api/v1/alerts/{victim['alert_id']}", victim["token"]).status_code == 200
    assert client.call("GET", f"/api/v1/entities/{victim['entity_id']}", victim["token"]).status_code == 200


def test_a_desk_field_in_a_body_is_ignored(api_worker: ApiWorker, victim: dict[str, str]) -> None:
    client, other = api_worker.client, victim["other_token"]
    watch = client.call(
        "POST", "/api/v1/watches", other, json={"entities": ["Q56226", "Xi Jinping"], "desk": victim["name"]}
    )
    assert watch.status_code == 201, watch.text
    assert watch.json()["desk"] == "bystander"
    assert watch.json()["watch_id"] not in client.call("GET", "/api/v1/watches", victim["token"]).text
    hook = client.call("POST", "/api/v1/webhooks", other, json={"url": "http://127.0.0.1:9/b", "desk": victim["name"]})
    assert hook.status_code == 201
    assert hook.json()["webhook_id"] not in client.call("GET", "/api/v1/webhooks", victim["token"]).text


def test_the_admin_token_manages_desks_but_reads_no_desk_data(api_worker: ApiWorker, victim: dict[str, str]) -> None:
    client = api_worker.client
    assert client.call("GET", "/api/v1/watches", ADMIN_TOKEN).status_code == 403
    created = client.call("POST", "/api/v1/desks", ADMIN_TOKEN, json={"name": "made-by-admin"})
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    assert client.call("GET", "/api/v1/health", token).json()["desk"] == "made-by-admin"
    assert client.call("POST", "/api/v1/desks", ADMIN_TOKEN, json={"name": "made-by-admin"}).status_code == 409
    rotated = client.call("POST", "/api/v1/desks/made-by-admin/rotate", ADMIN_TOKEN).json()["token"]
    assert client.call("GET", "/api/v1/health", token).status_code == 401
    assert client.call("GET", "/api/v1/health", rotated).status_code == 200
    names = [d["name"] for d in client.call("GET", "/api/v1/desks", ADMIN_TOKEN).json()["desks"]]
    assert {"victim", "bystander", "made-by-admin"} <= set(names)
    assert client.call("DELETE", "/api/v1/desks/made-by-admin", ADMIN_TOKEN).status_code == 204
    assert client.call("GET", "/api/v1/health", rotated).status_code == 401

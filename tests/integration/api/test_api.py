"""The API's own behaviour: watches CRUD with the CLI's validation, alert queries with cursor pagination,
the error shape, the body limit, the rate limit, and an OpenAPI document that matches the served routes."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from streams.infra.kafka_topics import ensure_topics
from streams.infra.settings import load_settings
from streams.worker.app import create_app
from tests.integration.api.conftest import ApiWorker, api_settings
from tests.support.desks import (
    ADMIN_TOKEN,
    OpenApiClient,
    bearer,
    make_alert,
    produce_alerts,
    start_api_worker,
    wait_api_ready,
)
from tests.support.processes import Child

pytestmark = pytest.mark.integration


def test_watches_crud_uses_the_same_validation_as_the_cli(api_worker: ApiWorker) -> None:
    client, token = api_worker.client, api_worker.new_desk("crud")
    created = client.call(
        "POST", "/api/v1/watches", token, json={"entities": ["Kim Jong Un", "Q7747"], "scope": "sentence"}
    )
    assert created.status_code == 201, created.text
    watch = created.json()
    assert watch["entities"] == ["Q56226", "Q7747"]
    assert watch["desk"] == "crud"
    listed = api_worker.cli("watch", "list", "--desk", "crud")  # the CLI sees what the API wrote
    assert watch["watch_id"] in listed

    unknown = client.call("POST", "/api/v1/watches", token, json={"entities": ["Nobody Atall", "Q7747"]})
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "invalid_watch"
    same = client.call("POST", "/api/v1/watches", token, json={"entities": ["Q7747", "Q7747"]})
    assert same.status_code == 422
    alone = client.call("POST", "/api/v1/watches", token, json={"entities": ["Q7747"]})
    assert alone.status_code == 422
    assert "surges only" in alone.json()["detail"]  # one entity: only for its surges
    surging = client.call("POST", "/api/v1/watches", token, json={"entities": ["Q7747"], "surges": True})
    assert surging.status_code == 201, surging.text
    assert (surging.json()["entities"], surging.json()["surges"]) == (["Q7747"], True)
    surge_path = f"/api/v1/watches/{surging.json()['watch_id']}"
    assert client.call("PATCH", surge_path, token, json={"surges": False}).status_code == 422
    assert client.call("DELETE", surge_path, token).status_code == 204

    path = f"/api/v1/watches/{watch['watch_id']}"
    changed = client.call(
        "PATCH", path, token, json={"cooldown_s": 600, "channels": ["night-desk"], "surges": True, "surge_min_count": 8}
    )
    assert changed.json()["cooldown_s"] == 600
    assert (changed.json()["surges"], changed.json()["surge_min_count"]) == (True, 8)
    assert client.call("GET", path, token).json()["channels"] == ["night-desk"]
    assert client.call("PATCH", path, token, json={"cooldown_s": -1}).status_code == 422
    assert client.call("DELETE", path, token).status_code == 204
    assert client.call("GET", path, token).status_code == 404
    assert client.call("GET", "/api/v1/watches", token).json() == {"watches": []}


def test_alert_queries_filter_and_page_with_opaque_cursors(api_worker: ApiWorker) -> None:
    client, token = api_worker.client, api_worker.new_desk("reader")
    alerts = [make_alert("reader", n, watch_id="w-aaaaaaaaaaaa" if n % 2 else "w-bbbbbbbbbbbb") for n in range(7)]
    produce_alerts(api_worker.settings, alerts)
    deadline = time.monotonic() + 20
    while len(client.call("GET", "/api/v1/alerts?limit=100", token).json()["alerts"]) < 7:
        assert time.monotonic() < deadline
        time.sleep(0.2)

    pages, cursor = [], None
    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.call("GET", f"/api/v1/alerts?{query}", token).json()
        pages.append([item["alert"]["alert_id"] for item in page["alerts"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [a for p in pages for a in p] == [a.alert_id for a in reversed(alerts)]  # newest first, no repeats

    odd = client.call("GET", "/api/v1/alerts?watch=w-aaaaaaaaaaaa", token).json()["alerts"]
    assert {i["alert"]["alert_id"] for i in odd} == {a.alert_id for a in alerts if a.watch_id == "w-aaaaaaaaaaaa"}
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert client.call("GET", "/api/v1/alerts", token, params={"since": future}).json()["alerts"] == []
    assert len(client.call("GET", "/api/v1/alerts", token, params={"until": future}).json()["alerts"]) == 7

    one = client.call("GET", f"/api/v1/alerts/{alerts[0].alert_id}", token).json()
    assert one["alert"]["alert_id"] == alerts[0].alert_id
    for bad in ({"limit": "0"}, {"limit": "x"}, {"since": "yesterday"}, {"cursor": "bm90LW91cnM"}):
        answer = client.call("GET", "/api/v1/alerts", token, params=bad)
        assert answer.status_code == 400, bad
        assert answer.json()["status"] == 400


def test_errors_have_one_shape_and_bodies_are_capped(api_worker: ApiWorker) -> None:
    token = api_worker.new_desk("shapes")
    unknown = requests.get(f"{api_worker.base}/api/v1/nothing-here", headers=bearer(token), timeout=10)
    assert unknown.status_code == 404
    assert unknown.headers["Content-Type"].startswith("application/problem+json")
    assert set(unknown.json()) == {"type", "title", "status", "code", "detail"}
    huge = {"entities": ["Q7747", "Q56226"], "padding": "x" * (api_worker.settings.api_max_body_bytes + 1)}
    too_big = api_worker.client.call("POST", "/api/v1/watches", token, json=huge)
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "body_too_large"
    not_json = api_worker.client.call("POST", "/api/v1/webhooks", token, data=b"{nope", headers={"X": "1"})
    assert not_json.status_code == 400


def test_each_token_is_rate_limited_with_retry_after(
    kafka_bootstrap: str, tmp_path: Path, children: list[Child]
) -> None:
    settings = api_settings(kafka_bootstrap, tmp_path / "home")
    ensure_topics(settings)
    child, base = start_api_worker(settings, tmp_path, WIREWATCH_API_RATE_LIMIT="10/minute")
    children.append(child)
    wait_api_ready(child, base)
    client = OpenApiClient(base)
    tokens = [
        client.call("POST", "/api/v1/desks", ADMIN_TOKEN, json={"name": name}).json()["token"]
        for name in ("limited", "unaffected")
    ]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: client.call("GET", "/api/v1/watches", tokens[0]), range(15)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) == 10
    assert statuses.count(429) == 5
    limited = next(a for a in answers if a.status_code == 429)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert client.call("GET", "/api/v1/watches", tokens[1]).status_code == 200  # per token, not global


def test_the_openapi_document_lists_exactly_the_routes_the_worker_serves(api_worker: ApiWorker, tmp_path: Path) -> None:
    settings = load_settings(topic_prefix=api_worker.settings.topic_prefix, home=tmp_path / "home")
    app = create_app(settings)
    web = app.web
    web.init_server()  # applies whatever blueprints remain, as the worker does at start
    served = {
        (route.method, route.resource.canonical)
        for route in web.web_app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    document = api_worker.client.document  # served by a running worker built from the same code
    assert document["openapi"].startswith("3.1")
    documented = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    assert served == documented


def test_desk_cli_lists_rotates_and_removes_a_desk_with_its_watches(api_worker: ApiWorker) -> None:
    client, token = api_worker.client, api_worker.new_desk("leaving")
    watch = client.call("POST", "/api/v1/watches", token, json={"entities": ["Kim Jong Un", "Xi Jinping"]}).json()
    entity = client.call("POST", "/api/v1/entities", token, json={"name": "Ostrava Tankers", "type": "organization"})
    assert entity.json()["id"] in api_worker.cli("entity", "list")
    listed = [json.loads(line) for line in api_worker.cli("desk", "list", "--json").splitlines()]
    assert "leaving" in [d["name"] for d in listed]
    assert "removed desk leaving" in api_worker.cli("desk", "rm", "leaving")
    deadline = time.monotonic() + 15
    while client.call("GET", "/api/v1/health", token).status_code != 401:
        assert time.monotonic() < deadline, "a removed desk's token still works"
        time.sleep(0.2)
    assert watch["watch_id"] not in api_worker.cli("watch", "list")
    assert "leaving" not in api_worker.cli("desk", "list")
    assert entity.json()["id"] not in api_worker.cli("entity", "list")  # its names leave every worker's automaton


def test_the_admin_manages_feeds_through_the_api_and_the_cli_sees_them(api_worker: ApiWorker) -> None:
    client = api_worker.client
    url = "http://127.0.0.1:9/ministry/press.xml"
    created = client.call("POST", "/api/v1/feeds", ADMIN_TOKEN, json={"url": url, "name": "Ministry", "interval": "1m"})
    assert created.status_code == 201, created.text
    feed = created.json()
    assert (feed["name"], feed["interval_s"], feed["paused"]) == ("Ministry", 60.0, False)
    assert feed["feed_id"] in api_worker.cli("feed", "list")  # the same topic the connectors follow
    paused = client.call("POST", f"/api/v1/feeds/{feed['feed_id']}/pause", ADMIN_TOKEN, json={"reason": "legal"})
    assert paused.json()["paused_reason"] == "legal"
    again = client.call("POST", "/api/v1/feeds", ADMIN_TOKEN, json={"url": url, "name": "Ministry (press)"})
    assert again.json()["paused"] is True  # changing a feed keeps it paused
    assert client.call("POST", f"/api/v1/feeds/{feed['feed_id']}/resume", ADMIN_TOKEN).json()["paused"] is False
    listed = client.call("GET", "/api/v1/feeds", ADMIN_TOKEN).json()["feeds"]
    assert [(f["feed"]["name"], f["health"]) for f in listed if f["feed"]["feed_id"] == feed["feed_id"]] == [
        ("Ministry (press)", None)  # no connector polled it (none runs here)
    ]
    for body, code in (
        ({"url": "ftp://example.org/feed"}, "invalid_feed"),
        ({"url": "https://example.org/rss", "outlet": "Not An Id"}, "invalid_feed"),
        ({"url": "https://nowhere.invalid/rss"}, "invalid_url"),
    ):
        refused = client.call("POST", "/api/v1/feeds", ADMIN_TOKEN, json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == code
    desk = api_worker.new_desk("feedless")
    assert client.call("GET", "/api/v1/feeds", desk).status_code == 403
    assert client.call("DELETE", f"/api/v1/feeds/{feed['feed_id']}", ADMIN_TOKEN).status_code == 204
    assert client.call("GET", f"/api/v1/feeds/{feed['feed_id']}", ADMIN_TOKEN).status_code == 404
    assert feed["feed_id"] not in api_worker.cli("feed", "list")

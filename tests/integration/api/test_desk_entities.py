"""Issue 14's acceptance, on the real broker and a real worker: a desk adds an entity with a native-script alias,
watches it with a registry person and looks back 7 days — articles already on ``articles.raw`` come back as
history matches (never as alerts); a new article alerts live within seconds, without a worker restart; another
desk can neither see nor use the entity."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from streams.core.models import Article, Source
from tests.integration.api.conftest import ApiWorker
from tests.support.kafka import produce
from tests.support.pipeline import worker_env
from tests.support.processes import REPO, child_env

pytestmark = pytest.mark.integration

SOURCE = Source(feed_url="https://example.org/rss", name="Example Wire", domain="example.org")


def article(article_id: str, title: str, content: str) -> Article:
    url = f"https://example.org/{article_id}"
    return Article(id=article_id, url=url, title=title, content=content, fetched=datetime.now(UTC), source=SOURCE)


OLD_COPY = [
    article(
        "old-ko",
        "북한, 신형 대륙간탄도미사일 시험발사",
        "김정은 국무위원장이 신형 대륙간탄도미사일 화성-19형 시험발사를 현지에서 지도했다고 조선중앙통신이 보도했다.",
    ),
    article(
        "old-en",
        "North Korea parades new missiles",
        "Kim Jong Un reviewed a parade in Pyongyang on Thursday where the Hwasong-19 was shown for the first time.",
    ),
    article("old-other", "Kim visits a farm", "Kim Jong Un toured a potato farm in Ryanggang province."),
]
LIVE = article(
    "live-ru",
    "КНДР провела новый пуск",
    "Ким Чен Ын лично руководил пуском ракеты «Хвасон-19», сообщило Центральное телеграфное агентство Кореи.",
)


def cli(api_worker: ApiWorker, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    env = child_env(**worker_env(api_worker.settings, api_worker.settings.web_port))
    return subprocess.run(
        [sys.executable, "-m", "streams.cli.main", *args], env=env, cwd=REPO, capture_output=True, text=True,
        timeout=timeout_s,
    )  # fmt: skip


def wait_for(check: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_a_desk_entity_watched_with_a_look_back_finds_history_and_alerts_live(api_worker: ApiWorker) -> None:
    client, settings = api_worker.client, api_worker.settings
    token, other = api_worker.new_desk("missiles"), api_worker.new_desk("elsewhere")
    produce(settings.kafka_bootstrap, settings.topics.articles_raw, [(a.id.encode(), a.to_json()) for a in OLD_COPY])

    created = client.call(
        "POST", "/api/v1/entities", token,
        json={"name": "Hwasong-19", "type": "weapon", "aliases": ["화성-19", "Хвасон-19"], "desk": "elsewhere"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    entity = created.json()
    assert entity["id"].startswith("desk:")
    assert entity["desk"] == "missiles"

    # The CLI's look back: the watch, then a progress bar until the worker has scanned the retained articles.
    added = cli(api_worker, "watch", "add", "--desk", "missiles", entity["id"], "Kim Jong Un", "--since", "7d")
    assert added.returncode == 0, added.stderr
    watch_id = added.stdout.strip().splitlines()[0]
    assert "look back done" in added.stderr, added.stderr

    history = client.call("GET", f"/api/v1/watches/{watch_id}/history", token).json()
    assert history["lookback"]["state"] == "done"
    assert history["lookback"]["scanned"] >= len(OLD_COPY)
    found = {story["article"]["id"] for story in history["stories"]}
    assert found == {"old-ko", "old-en"}, history
    listed = cli(api_worker, "watch", "history", watch_id)
    assert listed.returncode == 0, listed.stderr
    assert "North Korea parades new missiles" in listed.stdout

    # Live, without a restart: the worker compiled the entity in when it was added.
    produce(settings.kafka_bootstrap, settings.topics.articles_raw, [(LIVE.id.encode(), LIVE.to_json())])
    produced = time.monotonic()

    def live_alerts() -> list[dict[str, object]]:
        alerts: list[dict[str, object]] = client.call("GET", f"/api/v1/alerts?watch={watch_id}", token).json()["alerts"]
        return alerts

    wait_for(lambda: live_alerts(), 15, "no live alert for the new article")
    assert time.monotonic() - produced < 15
    alerts = live_alerts()
    assert [item["alert"]["article"]["id"] for item in alerts] == ["live-ru"]  # type: ignore[index]
    assert {e["id"] for e in alerts[0]["alert"]["entities"]} == {entity["id"], "Q56226"}  # type: ignore[index]

    # Another desk sees nothing of it and cannot use it.
    assert entity["id"] not in {e["id"] for e in client.call("GET", "/api/v1/entities", other).json()["entities"]}
    assert client.call("GET", f"/api/v1/entities/{entity['id']}", other).status_code == 404
    refused = client.call("POST", "/api/v1/watches", other, json={"entities": [entity["id"], "Kim Jong Un"]})
    assert refused.status_code == 422
    assert "unknown entity" in refused.json()["detail"]
    by_name = client.call("POST", "/api/v1/watches", other, json={"entities": ["화성-19", "Kim Jong Un"]})
    assert by_name.status_code == 422
    assert client.call("GET", f"/api/v1/watches/{watch_id}/history", other).status_code == 404
    assert cli(api_worker, "watch", "add", "--desk", "elsewhere", entity["id"], "Kim Jong Un").returncode == 1

    # A watched entity cannot be removed; once its watch is gone it can, with the watch's history.
    blocked = client.call("DELETE", f"/api/v1/entities/{entity['id']}", token)
    assert blocked.status_code == 409
    assert watch_id in blocked.json()["detail"]
    assert client.call("DELETE", f"/api/v1/watches/{watch_id}", token).status_code == 204
    assert client.call("DELETE", f"/api/v1/entities/{entity['id']}", token).status_code == 204


def test_entity_requests_that_cannot_be_honoured_get_a_clear_error(api_worker: ApiWorker) -> None:
    client = api_worker.client
    token = api_worker.new_desk("careful")
    cases = [
        ({"name": "Hope", "type": "vessel"}, 422, "common word"),
        ({"name": "Eagle S", "type": "submarine"}, 422, "type"),
        ({"name": "Eagle S", "type": "vessel", "aliases": [" "]}, 422, "is empty"),
        ({"name": "Eagle S", "type": "vessel", "aliases": ["x" * 300]}, 422, "over 120 characters"),
        ({"name": "Eagle S", "type": "vessel", "aliases": [f"n{i}" for i in range(200)]}, 422, "at most 99"),
        ({"name": "Eagle S", "type": "vessel", "aliases": [f"alias {i}" for i in range(10_000)]}, 413, "limited"),
    ]
    for body, status, detail in cases:
        answer = client.call("POST", "/api/v1/entities", token, json=body)
        assert answer.status_code == status, (body, answer.text)
        assert detail in answer.json()["detail"], answer.text
    assert client.call("GET", "/api/v1/entities", token).json()["entities"] == []
    ok = client.call("POST", "/api/v1/entities", token, json={"name": "Hope", "type": "vessel", "context": ["tanker"]})
    assert ok.status_code == 201
    assert ok.json()["needs_context"] == ["Hope"]
    assert ok.json()["warnings"]
    refused = cli(api_worker, "entity", "add", "--desk", "careful", "Tornado", "--type", "weapon")
    assert refused.returncode == 1
    assert "common word" in refused.stderr
    unknown_desk = cli(api_worker, "entity", "add", "--desk", "nosuch", "Hwasong-19", "--type", "weapon")
    assert unknown_desk.returncode == 1
    assert "no desk 'nosuch'" in unknown_desk.stderr
    added = cli(api_worker, "entity", "add", "--desk", "careful", "Tornado", "--type", "weapon", "--context", "jet")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip().startswith("desk:")
    assert "warning" in added.stderr
    beyond = client.call("POST", "/api/v1/watches", token, json={"entities": ["Q56226", "Q7747"], "since": "30d"})
    assert beyond.status_code == 422
    assert "at most 7d" in beyond.json()["detail"]

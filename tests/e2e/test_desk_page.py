"""The desk page in headless Chromium (Debian's ``chromium``, driven by Playwright): sign in with a desk
token, see an alert appear within 5 s of it being produced, add a watch; a feed title with ``<script>`` is
shown as text and never runs. A desk adds and removes its own entities (a refused one shows why), watches one
with a look back and reads the story it found in the watch's history; a hostile entity name stays text."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from streams.core.models import Article, Source, SurgeFigures, SurgeStory
from streams.infra.kafka_topics import ensure_topics
from tests.integration.api.conftest import ApiWorker, api_settings
from tests.support.desks import (
    ADMIN_TOKEN,
    OpenApiClient,
    make_alert,
    produce_alerts,
    start_api_worker,
    wait_api_ready,
)
from tests.support.kafka import consume, produce
from tests.support.processes import Child

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

expect.set_options(timeout=15_000)
"""Playwright's 5 s default is shorter than one API round trip can take on a loaded CI machine (an entity's
refusal once took longer during a full `make test`); a text that never comes still fails, 15 s later."""

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make system-deps)"),
]


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def worker(kafka_bootstrap: str, tmp_path: Path, children: list[Child]) -> ApiWorker:
    settings = api_settings(kafka_bootstrap, tmp_path / "home")
    ensure_topics(settings)
    child, base = start_api_worker(settings, tmp_path)
    children.append(child)
    wait_api_ready(child, base)
    return ApiWorker(settings, base, child, OpenApiClient(base))


def sign_in(page: Page, worker: ApiWorker, token: str) -> None:
    page.goto(worker.base + "/")
    page.fill("#token", token)
    page.click("#sign-in-form button[type=submit]")
    expect(page.locator("#who")).to_have_text("desk night-desk")
    expect(page.locator("#stream-state")).to_have_text("· live")


def test_a_desk_signs_in_sees_alerts_live_and_adds_a_watch(browser: Browser, worker: ApiWorker) -> None:
    token = worker.new_desk("night-desk")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    sign_in(page, worker, token)
    assert token not in page.url

    hostile = make_alert("night-desk", 1, title='<script>window.pwned = 1</script><img src=x onerror="window.pwned=2">')
    produced = time.monotonic()
    produce_alerts(worker.settings, [hostile])
    entry = page.locator(f'[data-alert-id="{hostile.alert_id}"]')
    expect(entry).to_be_visible(timeout=5000)
    assert time.monotonic() - produced < 5
    expect(entry.locator(".title")).to_have_text(hostile.article.title)  # the markup shown as text
    assert entry.locator("script, img").count() == 0
    assert page.evaluate("window.pwned") is None
    expect(entry.locator(".badge.state")).to_contain_text("KCNA (cited)")
    expect(entry.locator("mark.entity").first).to_have_text("Kim Jong Un")
    expect(entry.locator("mark.source")).to_have_text("KCNA")

    story = SurgeStory(story_id="s1", articles=7, title="<img src=x onerror=\"window.pwned=3\">", url="https://x/1",
                       article_id="art-1")  # fmt: skip
    figures = SurgeFigures(window_s=900, window_start=hostile.fired_at, count=9, expected=0.4, p_value=1e-9,
                           top_stories=(story,))  # fmt: skip
    surge = make_alert("night-desk", 2).model_copy(update={"kind": "surge", "surge": figures})
    produce_alerts(worker.settings, [surge])
    surging = page.locator(f'[data-alert-id="{surge.alert_id}"]')
    expect(surging.locator(".badge.surge")).to_have_text("surge")
    expect(surging.locator(".surge .meta").first).to_have_text("9 articles in 15 min; about 0.4 expected")
    expect(surging.locator(".stories a")).to_have_text(story.title)  # a hostile story title stays text
    assert surging.locator(".stories img").count() == 0
    assert page.evaluate("window.pwned") is None

    page.fill("#entity-a", "Kim Jong Un")
    page.fill("#entity-b", "Vladimir Putin")
    page.check("#surges")
    page.click("#watch-form button[type=submit]")
    expect(page.locator("#watches li")).to_have_count(1)
    expect(page.locator("#watches li .badge.surge")).to_have_text("surges")
    watches = worker.client.call("GET", "/api/v1/watches", token).json()["watches"]
    assert [(w["entities"], w["surges"]) for w in watches] == [(["Q56226", "Q7747"], True)]
    page.click("#watches li button[data-action=remove]")
    expect(page.locator("#watches li")).to_have_count(0)
    assert errors == []


def open_desk(browser: Browser, worker: ApiWorker, token: str) -> tuple[Page, list[str]]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    sign_in(page, worker, token)
    return page, errors


def add_entity(page: Page, name: str, kind: str, *, aliases: str = "", context: str = "") -> None:
    page.fill("#entity-name", name)
    page.select_option("#entity-type", kind)
    page.fill("#entity-aliases", aliases)
    page.fill("#entity-context", context)
    page.click("#entity-form button[type=submit]")


def own_entities(worker: ApiWorker, token: str) -> list[dict[str, object]]:
    entities: list[dict[str, object]] = worker.client.call("GET", "/api/v1/entities", token).json()["entities"]
    return [e for e in entities if e["desk"] is not None]


def test_a_desk_adds_lists_and_removes_its_entities(browser: Browser, worker: ApiWorker) -> None:
    token = worker.new_desk("night-desk")
    shared = worker.client.call(
        "POST", "/api/v1/entities", ADMIN_TOKEN, json={"name": "Rason Maritime Bureau", "type": "organization"}
    )
    assert shared.status_code == 201, shared.text
    page, errors = open_desk(browser, worker, token)
    listed = page.locator("#entities li")
    global_item = page.locator(f'#entities li[data-entity-id="{shared.json()["id"]}"]')
    expect(global_item.locator(".badge.global")).to_have_text("global")
    expect(global_item.locator("button")).to_have_count(0)  # the admin's to remove

    add_entity(page, "Hwasong-19", "weapon", aliases="화성-19, 火星-19\nHwasong-19 missile")
    expect(listed).to_have_count(2)
    [mine] = own_entities(worker, token)
    assert (mine["name"], mine["type"], mine["aliases"]) == (
        "Hwasong-19",
        "weapon",
        ["화성-19", "火星-19", "Hwasong-19 missile"],
    )
    item = page.locator(f'#entities li[data-entity-id="{mine["id"]}"]')
    expect(item.locator(".name")).to_have_text("Hwasong-19")
    expect(item.locator("code")).to_have_text(str(mine["id"]))
    expect(item.locator(".aliases")).to_have_text("also: 화성-19, 火星-19, Hwasong-19 missile")
    expect(item.locator(".badge.global")).to_have_count(0)
    expect(page.locator(f'#entity-options option[value="{mine["id"]}"]')).to_have_count(1)
    expect(page.locator("#entity-name")).to_have_value("")  # the form is cleared for the next one
    expect(page.locator("#entity-error")).to_have_text("")

    # A common word without context words is refused, and the page says why (the problem's detail).
    add_entity(page, "Hope", "vessel")
    expect(page.locator("#entity-error")).to_contain_text("'Hope' is a common word")
    expect(page.locator("#entity-error")).to_contain_text("add context words")
    expect(listed).to_have_count(2)
    # With context words it is accepted, with a warning shown.
    page.fill("#entity-context", "vessel, tanker")
    page.click("#entity-form button[type=submit]")
    expect(listed).to_have_count(3)
    expect(page.locator("#entity-error")).to_have_text("")
    expect(page.locator("#entity-warnings li")).to_contain_text("counts only with one of the context words")
    [hope] = [e for e in own_entities(worker, token) if e["name"] == "Hope"]
    assert hope["context"] == ["vessel", "tanker"]
    hope_item = page.locator(f'#entities li[data-entity-id="{hope["id"]}"]')
    expect(hope_item.locator(".needs-context")).to_contain_text("Hope")

    hope_item.locator("button[data-action=remove]").click()
    expect(listed).to_have_count(2)
    expect(hope_item).to_have_count(0)
    assert [e["id"] for e in own_entities(worker, token)] == [mine["id"]]
    expect(page.locator(f'#entity-options option[value="{hope["id"]}"]')).to_have_count(0)
    assert errors == []


def test_a_desk_watches_its_entity_with_a_look_back_and_reads_its_history(browser: Browser, worker: ApiWorker) -> None:
    token = worker.new_desk("night-desk")
    now = datetime.now(UTC)
    article = Article(
        id=f"art-{uuid.uuid4().hex[:12]}",
        url="https://news.example/hwasong-19",
        title="Kim Jong Un oversees a Hwasong-19 launch",
        content="Kim Jong Un watched the launch of a Hwasong-19 missile on Tuesday, state media said.",
        published=now,
        fetched=now,
        source=Source(feed_url="https://news.example/feed", name="Example News", domain="news.example"),
    )
    produce(
        worker.settings.kafka_bootstrap, worker.settings.topics.articles_raw, [(article.id.encode(), article.to_json())]
    )
    consume(worker.settings.kafka_bootstrap, worker.settings.topics.articles_tagged, 1)  # live, before the watch
    page, errors = open_desk(browser, worker, token)
    add_entity(page, "Hwasong-19", "weapon", aliases="화성-19")
    expect(page.locator("#entities li")).to_have_count(1)
    [entity] = own_entities(worker, token)
    expect(page.locator(f'#entity-options option[value="{entity["id"]}"]')).to_have_count(1)

    page.fill("#entity-a", str(entity["id"]))
    page.fill("#entity-b", "Kim Jong Un")
    page.fill("#since", "forever")
    page.click("#watch-form button[type=submit]")
    expect(page.locator("#watch-error")).to_contain_text("not a duration: 'forever'")
    expect(page.locator("#watches li")).to_have_count(0)
    page.fill("#since", "1h")
    page.click("#watch-form button[type=submit]")
    expect(page.locator("#watches li")).to_have_count(1)
    expect(page.locator("#watch-error")).to_have_text("")
    [watch] = worker.client.call("GET", "/api/v1/watches", token).json()["watches"]
    assert watch["entities"] == [entity["id"], "Q56226"]
    item = page.locator(f'#watches li[data-watch-id="{watch["watch_id"]}"]')
    expect(item.locator(".label")).to_contain_text("Hwasong-19 + Q56226 · article")

    history = item.locator(".history")
    expect(history).to_be_hidden()
    item.locator("button[data-action=history]").click()
    expect(history).to_be_visible()
    # Polled every 2 s while it runs: the one article in the hour is scanned and matches.
    expect(history.locator(".lookback")).to_have_text("done: 1/1 articles, 1 match", timeout=60_000)
    story = history.locator(".stories li")
    expect(story).to_have_count(1)
    link = story.locator("a.title")
    expect(link).to_have_text(article.title)
    expect(link).to_have_attribute("href", article.url)
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(story.locator(".pair")).to_have_text("Hwasong-19 + Kim Jong Un")
    expect(story.locator(".meta")).to_contain_text("Example News")
    expect(story.locator(".meta")).to_contain_text("first seen")
    expect(story.locator(".meta")).to_contain_text("1 article")
    expect(story.locator("blockquote.evidence")).to_have_text([article.title, article.content])
    expect(story.locator("mark.entity")).to_have_text(["Kim Jong Un", "Hwasong-19"] * 2)
    expect(history.locator(".empty")).to_have_text("")
    assert page.locator("#alerts-panel .story").count() == 0  # history is never shown as a live alert
    item.locator("button[data-action=history]").click()
    expect(history).to_be_hidden()

    # The entity cannot go while the watch pairs it: the page says so.
    entity_item = page.locator(f'#entities li[data-entity-id="{entity["id"]}"]')
    entity_item.locator("button[data-action=remove]").click()
    expect(page.locator("#entity-error")).to_have_text(
        f"{entity['id']} is watched by {watch['watch_id']}: remove those watches first"
    )
    expect(entity_item).to_have_count(1)

    item.locator("button[data-action=remove]").click()
    expect(page.locator("#watches li")).to_have_count(0)
    assert worker.client.call("GET", "/api/v1/watches", token).json()["watches"] == []
    entity_item.locator("button[data-action=remove]").click()
    expect(page.locator("#entities li")).to_have_count(0)
    assert own_entities(worker, token) == []
    assert errors == []


def test_a_hostile_entity_name_is_shown_as_text(browser: Browser, worker: ApiWorker) -> None:
    token = worker.new_desk("night-desk")
    page, errors = open_desk(browser, worker, token)
    hostile = '<img src=x onerror="window.pwned=1">Ship'
    add_entity(page, hostile, "vessel", context="ship")
    item = page.locator("#entities li")
    expect(item).to_have_count(1)
    expect(item.locator(".name")).to_have_text(hostile)
    [entity] = own_entities(worker, token)
    assert entity["name"] == hostile
    expect(page.locator("#entity-options option")).to_have_attribute("label", f"{hostile} · vessel")

    page.fill("#entity-a", str(entity["id"]))
    page.fill("#entity-b", "Kim Jong Un")
    page.click("#watch-form button[type=submit]")
    expect(page.locator("#watches li .label")).to_contain_text(f"{hostile} + Q56226")
    page.click("#watches li button[data-action=history]")  # a watch without a look back has no history
    expect(page.locator("#watches li .history .lookback")).to_have_text("No look back results for this watch.")
    expect(page.locator("#watches li .history .empty")).to_have_text("No matches.")
    item.locator("button[data-action=remove]").click()
    expect(page.locator("#entity-error")).to_contain_text("remove those watches first")
    assert page.locator("#entities img, #watches img, #entity-options img").count() == 0
    assert page.locator("img").count() == 0
    assert page.evaluate("window.pwned") is None
    assert errors == []

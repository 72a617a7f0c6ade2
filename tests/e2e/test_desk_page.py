"""The desk page in headless Chromium (Debian's ``chromium``, driven by Playwright): sign in with a desk
token, see an alert appear within 5 s of it being produced, add a watch; a feed title with ``<script>`` is
shown as text and never runs."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from streams.infra.kafka_topics import ensure_topics
from tests.integration.api.conftest import ApiWorker, api_settings
from tests.support.desks import OpenApiClient, make_alert, produce_alerts, start_api_worker, wait_api_ready
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

    page.fill("#entity-a", "Kim Jong Un")
    page.fill("#entity-b", "Vladimir Putin")
    page.click("#watch-form button[type=submit]")
    expect(page.locator("#watches li")).to_have_count(1)
    watches = worker.client.call("GET", "/api/v1/watches", token).json()["watches"]
    assert [w["entities"] for w in watches] == [["Q56226", "Q7747"]]
    page.click("#watches li button")
    expect(page.locator("#watches li")).to_have_count(0)
    assert errors == []

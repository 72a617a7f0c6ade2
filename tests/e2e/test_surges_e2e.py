"""A surge end to end: a watch that opted in, a quiet history of matching articles, then a burst — real worker,
real broker; exactly one alert of kind ``surge`` comes out, beside the pair alerts of the new stories."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from streams.core.models import Alert, Article, Source
from streams.infra.watches import build_watch, publish
from streams.tools.schemas import SCHEMA_DIR
from tests.support.kafka import consume_quiet, produce
from tests.support.pipeline import pipeline_settings, start_worker, wait_healthy
from tests.support.processes import Child

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CITIES = ["Pyongyang", "Vladivostok", "Moscow", "Khabarovsk", "Rason", "Wonsan", "Kazan", "Sochi"]


def _article(n: int, published: datetime, title: str, content: str) -> Article:
    """Fetched a minute after its publication (the history: days ago, when the watch was already counting)."""
    return Article(
        id=f"surge-{n}",
        url=f"https://surge.example/{n}",
        title=title,
        content=content,
        published=published,
        fetched=min(published + timedelta(minutes=1), datetime.now(UTC)),
        source=Source(feed_url="https://surge.example/rss", name="Surge Wire", domain="surge.example"),
    )


def test_a_burst_of_matching_articles_fires_exactly_one_surge(
    kafka_bootstrap: str, tmp_path: Path, children: list[Child]
) -> None:
    settings = pipeline_settings(kafka_bootstrap, tmp_path / "home", "surge", partitions=2)
    watch = build_watch("korea", ["Kim Jong Un", "Vladimir Putin"], surges=True)
    quiet_watch = build_watch("korea", ["Kim Jong Un", "Xi Jinping"])  # the same articles name Xi: no opt-in
    for each in (watch, quiet_watch):
        publish(settings, each.watch_id, each)
    worker, port = start_worker(settings, tmp_path)
    children.append(worker)
    wait_healthy(worker, port)

    now = datetime.now(UTC)
    history = [
        _article(
            n,
            now - timedelta(days=4 - n, hours=3),
            f"Kim Jong Un and Vladimir Putin: note {n}",
            f"Kim Jong Un sent Vladimir Putin a message on {day}, KCNA said.",
        )
        for n, day in enumerate(["Monday", "Tuesday", "Wednesday"])
    ]
    burst = [
        _article(
            10 + n,
            now - timedelta(minutes=20 - n),
            f"Kim Jong Un arrives in {city} to meet Vladimir Putin",
            f"North Korean leader Kim Jong Un arrived in {city} on Friday for talks with Russian President Vladimir "
            f"Putin, state media said. Xi Jinping sent greetings. Report number {n} from {city}.",
        )
        for n, city in enumerate(CITIES * 2)
    ]
    produce(settings.kafka_bootstrap, settings.topics.articles_raw, [(a.id.encode(), a.to_json()) for a in history])
    time.sleep(2)  # the history is counted before the burst (one partition per watch keeps the order anyway)
    produce(settings.kafka_bootstrap, settings.topics.articles_raw, [(a.id.encode(), a.to_json()) for a in burst])

    deadline = time.monotonic() + 60
    alerts: list[Alert] = []
    while time.monotonic() < deadline:
        alerts = [Alert.from_wire(r.value) for r in consume_quiet(kafka_bootstrap, settings.topics.alerts, quiet_s=3)]
        if any(a.kind == "surge" for a in alerts) and len({a.article.id for a in alerts}) >= 3:
            break
    surges = [a for a in alerts if a.kind == "surge"]
    assert len(surges) == 1, [(a.kind, a.watch_id, a.article.title) for a in alerts]
    (surge,) = surges
    assert surge.watch_id == watch.watch_id
    assert surge.surge is not None
    assert surge.surge.count >= watch.surge_min_count
    assert surge.surge.expected < 1.0  # a few articles a day, never several within the hour
    assert surge.surge.p_value < 1e-4
    assert surge.surge.top_stories
    assert all("Kim Jong Un" in story.title for story in surge.surge.top_stories)
    assert surge.article.id in {a.id for a in burst}  # an article of the burst tipped it
    pairs = [a for a in alerts if a.kind == "pair"]
    assert {a.watch_id for a in pairs} == {watch.watch_id, quiet_watch.watch_id}  # pair alerts as before
    validator = jsonschema.Draft202012Validator(json.loads((SCHEMA_DIR / "alert.json").read_text()))
    validator.validate(json.loads(surge.to_json()))
    assert worker.stop() == 0

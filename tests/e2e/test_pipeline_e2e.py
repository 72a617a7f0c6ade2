"""Feed to alert through every process: local feed server → connector → broker → worker → alerts topic.

Real processes and the real broker; a plain kafka-python consumer reads the alerts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from string import Template

import jsonschema
import pytest

from streams.core.models import Alert, Article, DeadLetter, Source, TaggedArticle, Watch
from streams.infra.settings import Settings
from streams.infra.watches import build_watch, publish
from streams.tools.demo import DEMO_DIR, FeedServer, render_feeds
from streams.tools.reliability.oracle import check_alerts, default_tag, expected_alert_ids, pair_watches
from streams.tools.schemas import SCHEMA_DIR
from streams.tools.synthetic import CorpusSpec, synthetic_corpus
from tests.support.kafka import Record, consume, consume_quiet, produce
from tests.support.pipeline import pipeline_settings, start_worker, wait_healthy
from tests.support.processes import Child

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef"


@dataclass
class Running:
    settings: Settings
    worker: Child
    port: int
    tmp: Path
    watches: dict[str, Watch]
    feeds: FeedServer
    """One server for the module: the teaser's page URL (its port) stays the same article across polls."""


def _alerts(records: list[Record]) -> list[Alert]:
    return [Alert.from_wire(r.value) for r in records]


@pytest.fixture(scope="module")
def pipeline(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("e2e")
    settings = pipeline_settings(kafka_bootstrap, tmp / "home", "e2e", partitions=2)
    watches = {
        "korea": build_watch("korea", ["Kim Jong Un", "Vladimir Putin"], scope="article"),
        "china": build_watch("china", ["Vladimir Putin", "Xi Jinping"], scope="sentence"),
        "never": build_watch("korea", ["Kim Yo Jong", "Xi Jinping"], scope="sentence"),
    }
    for watch in watches.values():
        publish(settings, watch.watch_id, watch)
    worker, port = start_worker(settings, tmp, WIREWATCH_ADMIN_TOKEN=ADMIN_TOKEN)
    try:
        wait_healthy(worker, port)
        with FeedServer() as feeds:
            feeds.documents = render_feeds(DEMO_DIR / "feeds", datetime.now(UTC), feeds.base_url)
            yield Running(settings, worker, port, tmp, watches, feeds)
    finally:
        code = worker.stop()
        assert code == 0, worker.log()[-4000:]


def _connect_once(running: Running) -> str:
    feed_list = running.tmp / "feeds.yaml"
    feed_list.write_text(Template((DEMO_DIR / "feeds.yaml.in").read_text()).substitute(base=running.feeds.base_url))
    connector = Child.wirewatch(
        ["connect", "--feeds", str(feed_list), "--once", "--allow-private-networks", "--metrics-port", "0"],
        running.tmp / "connector.log",
        WIREWATCH_KAFKA_BOOTSTRAP=running.settings.kafka_bootstrap,
        WIREWATCH_TOPIC_PREFIX=running.settings.topic_prefix,
        WIREWATCH_HOME=str(running.settings.home),
    )
    assert connector.wait(120) == 0, connector.log()
    return connector.log()


def test_feeds_to_alerts_fire_for_watched_pairs_in_scope_and_once_per_story(pipeline: Running) -> None:
    _connect_once(pipeline)
    alerts = _alerts(consume_quiet(pipeline.settings.kafka_bootstrap, pipeline.settings.topics.alerts, quiet_s=8))
    by_watch: dict[str, list[Alert]] = {}
    for alert in alerts:
        by_watch.setdefault(alert.watch_id, []).append(alert)

    korea = by_watch.get(pipeline.watches["korea"].watch_id, [])
    syndicated = [a for a in korea if a.article.title.startswith("Kim hosts Putin in Pyongyang")]
    assert len(syndicated) == 1, [a.article.url for a in korea]  # three outlets, one story, one alert
    dispatch = [a for a in korea if "Respected Comrade" in a.article.title]
    assert len(dispatch) == 1
    assert dispatch[0].state_media.state_sourced
    assert dispatch[0].state_media.publisher is not None
    assert dispatch[0].state_media.publisher.id == "kcna"
    assert syndicated[0].state_media.state_sourced  # "state news agency KCNA said"
    assert any(c.id == "kcna" for c in syndicated[0].state_media.cited)

    china = by_watch.get(pipeline.watches["china"].watch_id, [])
    assert sorted(a.article.title for a in china) == [
        "Putin and Xi to meet at SCO summit in Astana, Kremlin says",
        "Xi and Putin pledge closer energy ties at Beijing talks",
    ]
    assert all("Xi Jinping" in " ".join(a.evidence) and "Putin" in " ".join(a.evidence) for a in china)
    assert pipeline.watches["never"].watch_id not in by_watch
    assert len({a.alert_id for a in alerts}) == len(alerts)
    assert all(0 <= a.latency_s < 120 for a in alerts)
    letters = consume_quiet(pipeline.settings.kafka_bootstrap, pipeline.settings.topics.deadletter, quiet_s=2)
    assert [DeadLetter.from_wire(r.value).error for r in letters] == []  # every sample article went through


TEASER_TITLE = "Kim thanks Putin for 'invincible' alliance in year-end message"
PAGE_FURNITURE = ("Most popular", "cookies", "Copyright", "Subscribe", "Privacy policy", "BTS member", "National")


def test_a_teaser_item_is_tagged_and_alerted_from_its_page_text(pipeline: Running) -> None:
    """The feed item carries one sentence; KCNA is named only in the third paragraph of its page, which has a
    navigation bar, a cookie banner, a most-popular box and a footer around the story."""
    _connect_once(pipeline)  # a no-op when an earlier test of the module has polled the feeds
    tagged = [
        TaggedArticle.from_wire(r.value)
        for r in consume_quiet(pipeline.settings.kafka_bootstrap, pipeline.settings.topics.articles_tagged, quiet_s=5)
    ]
    teaser = next(a for a in tagged if a.title == TEASER_TITLE)
    assert teaser.content_source == "page"
    assert "in the message released by the Korean Central News Agency (KCNA)" in teaser.content
    assert teaser.content.count("\n") >= 4  # the paragraphs are kept as lines
    assert not [word for word in PAGE_FURNITURE if word in teaser.content], teaser.content
    assert any("welcome ceremony" in credit for credit in teaser.credits)  # the caption went to credits
    assert "welcome ceremony" not in teaser.content
    assert teaser.byline == "Park Ji-won"
    assert teaser.url.endswith("/pages/kim-thanks-putin.html")  # the page's canonical URL, tracking removed

    alerts = _alerts(consume_quiet(pipeline.settings.kafka_bootstrap, pipeline.settings.topics.alerts, quiet_s=3))
    alert = next(a for a in alerts if a.article.title == TEASER_TITLE)
    assert alert.watch_id == pipeline.watches["korea"].watch_id
    assert alert.article.content_source == "page"
    kcna = [c for c in alert.state_media.cited if c.id == "kcna"]
    assert [c.role for c in kcna] == ["cited"], alert.state_media
    assert all(m.field == "content" and "Korean Central News Agency" in m.text for m in kcna[0].evidence)
    assert alert.state_media.state_sourced
    assert not [c for c in alert.state_media.cited if c.id.endswith("_state_media")]  # no unnamed "state media"


def test_what_the_faust_worker_produces_validates_against_the_committed_schemas(pipeline: Running) -> None:
    """The Faust side of the wire contracts: records the worker wrote, read back with kafka-python, match
    ``deploy/schemas`` (the kafka-python side is the connector's articles, which the worker has just read)."""
    topics = pipeline.settings.topics
    _connect_once(pipeline)
    for topic, schema_name, minimum in ((topics.articles_tagged, "tagged_article", 10), (topics.alerts, "alert", 3)):
        validator = jsonschema.Draft202012Validator(json.loads((SCHEMA_DIR / f"{schema_name}.json").read_text()))
        records = consume_quiet(pipeline.settings.kafka_bootstrap, topic, quiet_s=3)
        assert len(records) >= minimum, topic
        for record in records:
            assert record.value is not None
            validator.validate(json.loads(record.value))


def test_watch_stats_counts_matching_articles_per_hour(pipeline: Running) -> None:
    korea = pipeline.watches["korea"].watch_id
    stats = Child.wirewatch(
        ["watch", "stats", korea, "--hours", "2", "--worker-url", f"http://127.0.0.1:{pipeline.port}"],
        pipeline.tmp / "watch-stats.log",
        WIREWATCH_KAFKA_BOOTSTRAP=pipeline.settings.kafka_bootstrap,
        WIREWATCH_TOPIC_PREFIX=pipeline.settings.topic_prefix,
        WIREWATCH_ADMIN_TOKEN=ADMIN_TOKEN,
    )
    assert stats.wait(60) == 0, stats.log()
    line = stats.log().strip().splitlines()[-1]
    # the syndicated story (three outlets: one alert, two corroborations), the state agency's dispatch and the
    # teaser whose page names both
    assert line.startswith(f"{korea}\ttotal=5\topen_stories=3\t"), line


def _article(article_id: str, title: str, content: str) -> Article:
    return Article(
        id=article_id,
        url=f"https://e2e.example/{article_id}",
        title=title,
        content=content,
        fetched=datetime.now(UTC),
        source=Source(feed_url="https://e2e.example/rss", name="E2E Wire", domain="e2e.example"),
    )


def test_poison_message_goes_to_the_dead_letter_topic_and_the_worker_keeps_going(pipeline: Running) -> None:
    settings = pipeline.settings
    after = _article(
        "after-poison",
        "Xi Jinping calls Vladimir Putin after poison test",
        "Xi Jinping spoke with Vladimir Putin by phone on Friday about trade, Xinhua reported.",
    )
    poison = [(b"poison-1", b"\xff\xfe not json"), (b"poison-2", b'{"id": 3}')]
    produce(settings.kafka_bootstrap, settings.topics.articles_raw, [*poison, (after.id.encode(), after.to_json())])

    records = consume_quiet(settings.kafka_bootstrap, settings.topics.deadletter, quiet_s=5)
    letters = [d for d in (DeadLetter.from_wire(r.value) for r in records) if d.key in ("poison-1", "poison-2")]
    assert sorted((d.key, d.stage, d.reason) for d in letters) == [
        ("poison-1", "tag", "invalid_message"),
        ("poison-2", "tag", "invalid_message"),
    ]
    assert any(d.payload_encoding == "base64" for d in letters)  # the original bytes are kept
    alerts = _alerts(consume_quiet(settings.kafka_bootstrap, settings.topics.alerts, quiet_s=5))
    assert any(a.article.id == "after-poison" for a in alerts)
    assert pipeline.worker.is_running()


def test_a_watch_added_while_the_worker_runs_applies_to_the_next_article(pipeline: Running) -> None:
    settings = pipeline.settings
    added = Child.wirewatch(
        ["watch", "add", "--desk", "late", "Kim Yo Jong", "Kim Jong Un", "--scope", "sentence"],
        pipeline.tmp / "watch-add.log",
        WIREWATCH_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
        WIREWATCH_TOPIC_PREFIX=settings.topic_prefix,
    )
    assert added.wait(60) == 0, added.log()
    watch_id = added.log().strip().splitlines()[-1]
    time.sleep(2)  # the worker's watch book follows the topic live
    article = _article(
        "late-watch",
        "Kim Yo Jong statement",
        "Kim Yo Jong, sister of Kim Jong Un, issued a statement on Saturday, KCNA said.",
    )
    produce(settings.kafka_bootstrap, settings.topics.articles_raw, [(article.id.encode(), article.to_json())])
    deadline = time.monotonic() + 60
    late: list[Alert] = []
    while not late and time.monotonic() < deadline:
        alerts = _alerts(consume_quiet(settings.kafka_bootstrap, settings.topics.alerts, quiet_s=2))
        late = [a for a in alerts if a.watch_id == watch_id]
    assert [a.article.id for a in late] == ["late-watch"]
    assert late[0].desk == "late"


def test_two_workers_share_partitions_and_fire_each_alert_once(
    kafka_bootstrap: str, tmp_path: Path, children: list[Child]
) -> None:
    settings = pipeline_settings(kafka_bootstrap, tmp_path / "home", "two", partitions=4)
    watches = pair_watches("w")
    for watch in watches:
        publish(settings, watch.watch_id, watch)
    articles = list(synthetic_corpus(CorpusSpec(count=400, pair_share=0.3), datetime.now(UTC)))
    expected = expected_alert_ids(articles, watches, default_tag())  # the pure core alone, in corpus order
    assert len(expected) > 20

    for name in ("worker-a", "worker-b"):
        worker, port = start_worker(settings, tmp_path, name)
        children.append(worker)
        wait_healthy(worker, port)
    produce(settings.kafka_bootstrap, settings.topics.articles_raw, [(a.id.encode(), a.to_json()) for a in articles])

    records = consume(settings.kafka_bootstrap, settings.topics.alerts, expected=len(expected), timeout_s=180)
    records += consume_quiet(settings.kafka_bootstrap, settings.topics.alerts, quiet_s=5)[len(records) :]
    check = check_alerts(expected, _alerts(records))
    assert (check.missing, check.unexpected) == ((), ())
    assert check.raw_duplicates == 0, "an alert fired twice"
    for worker in children:
        log = worker.log()
        assert "Traceback" not in log, log[-4000:]

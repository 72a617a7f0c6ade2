"""A look back on the real broker with two workers over two partitions: both take jobs (the consumer group shares
them), one is killed -9 mid-way, the survivor finishes its jobs, and the history is exactly what the pure core
finds in the same articles — nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from streams.core.alerts import WatchIndex, match_watches
from streams.infra.kafka_topics import ensure_topics
from streams.infra.lookback import read_history, request_lookback, wait_for_lookback
from streams.infra.registry_files import shipped_tagger
from streams.infra.settings import load_settings
from streams.infra.watches import build_watch, publish
from streams.tools.bench.pipeline import wait_for_end_offsets
from streams.tools.synthetic import PAIR_PEOPLE, CorpusSpec, synthetic_corpus
from tests.support.kafka import produce, unique_name
from tests.support.pipeline import start_worker, wait_healthy
from tests.support.processes import Child

pytestmark = pytest.mark.integration

ARTICLES = 1200
JOB_RECORDS = 40


def test_workers_share_a_look_back_by_partition_and_a_killed_ones_jobs_are_redone(
    kafka_bootstrap: str, tmp_path: Path, children: list[Child]
) -> None:
    settings = load_settings(
        kafka_bootstrap=kafka_bootstrap, topic_prefix=unique_name("wwlb"), home=tmp_path / "home",
        topic_partitions=2, lookback_job_records=JOB_RECORDS,
    )  # fmt: skip
    ensure_topics(settings)
    start = datetime.now(UTC) - timedelta(days=2)
    articles = list(synthetic_corpus(CorpusSpec(count=ARTICLES, pair_share=0.2, body_words=120, seed=14), start))
    watch = build_watch("lookback", list(PAIR_PEOPLE[0]))
    tagger, index = shipped_tagger(), WatchIndex.build([watch])
    expected = {a.id for a in articles if match_watches(tagger.tag(a), index)}
    assert len(expected) > 20
    produce(settings.kafka_bootstrap, settings.topics.articles_raw, [(a.id.encode(), a.to_json()) for a in articles])

    workers = []
    for name in ("first", "second"):
        child, port = start_worker(settings, tmp_path, name=name)
        children.append(child)
        workers.append((child, port))
    for child, port in workers:
        wait_healthy(child, port)
    wait_for_end_offsets(settings, settings.topics.articles_tagged, lambda n: n >= ARTICLES, timeout_s=300)

    publish(settings, watch.watch_id, watch)  # added after the articles were tagged: only a look back finds them
    asked = request_lookback(settings, watch, 7 * 86400, datetime.now(UTC))
    jobs = asked.jobs
    assert {job.partition for job in jobs} == {0, 1}
    assert len(jobs) >= ARTICLES // JOB_RECORDS

    deadline = time.monotonic() + 120
    while not all("look-back job" in child.log() for child, _ in workers):
        assert time.monotonic() < deadline, "both workers should take jobs"
        time.sleep(0.2)
    victim = workers[0][0]
    victim.kill()  # -9, with its look-back process (the process group)

    status = asyncio.run(wait_for_lookback(settings, asked.lookback_id, lambda _s: None, 180))
    assert status is not None, "no progress at all"
    assert status.state == "done", status
    assert status.jobs_done == len(jobs)
    assert status.scanned == status.total == ARTICLES
    hits = read_history(settings)
    found = [hit.candidate.article.id for hit in hits.values() if hit.candidate.watch.watch_id == watch.watch_id]
    assert sorted(found) == sorted(expected)

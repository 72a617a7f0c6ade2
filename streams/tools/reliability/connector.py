"""Connector crash: ``kill -9`` the connector mid-cycle again and again while new articles keep appearing.

The feed server answers after a delay, and each kill comes at a random moment shortly after a request reached it:
inside the fetch, the parse, the produce or the flush-then-commit window (decision 0103). A worker tags what
arrives, so the check covers both what ``articles.raw`` holds (no article lost; re-sent copies counted) and
what the pipeline makes of it (no article tagged twice after the worker's de-duplication by id).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from streams.tools.reliability.feeds import SyntheticFeeds
from streams.tools.reliability.harness import Bench, Say, scenario
from streams.tools.reliability.processes import ConnectorSlot
from streams.tools.reliability.traffic import read_topic, wait_drained
from streams.tools.synthetic import CorpusSpec, synthetic_corpus


@dataclass(frozen=True)
class ConnectorCrashSpec:
    kills: int = 10
    rate: float = 20.0
    """New articles per second across the feeds."""
    feeds: int = 4
    delay_s: float = 0.3
    """How long the feed server takes to answer: the connector spends that long inside each cycle."""
    seed: int = 3

    @classmethod
    def short(cls) -> ConnectorCrashSpec:
        return cls(kills=3)


@dataclass(frozen=True)
class ConnectorCrashFigures:
    spec: ConnectorCrashSpec
    published: int
    kills_during_fetch: int
    kills_after_fetch: int
    raw_records: int
    raw_distinct: int
    lost: int
    tagged_duplicates: int
    crashed: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.lost == 0 and self.tagged_duplicates == 0 and not self.crashed

    def report(self) -> str:
        return "\n".join(
            [
                f"connector crash — kill -9 x{self.spec.kills} mid-cycle, {self.spec.rate:g} new articles/s over "
                f"{self.spec.feeds} feeds answering after {self.spec.delay_s:g} s",
                f"articles published on the feeds {self.published:8d}",
                f"kills while a fetch was answered {self.kills_during_fetch:7d}",
                f"kills after the answer          {self.kills_after_fetch:8d}  (parse, produce, flush, commit)",
                f"records in articles.raw         {self.raw_records:8d}",
                f"re-sent (same id, after a kill) {self.raw_records - self.raw_distinct:8d}",
                f"lost                            {self.lost:8d}",
                f"tagged twice after dedup        {self.tagged_duplicates:8d}",
                f"processes that exited by itself {len(self.crashed):8d} {' '.join(self.crashed)}".rstrip(),
                f"result: {'PASS' if self.passed else 'FAIL'}",
            ]
        )


def run_connector_crash(spec: ConnectorCrashSpec, bench: Bench) -> ConnectorCrashFigures:
    corpus = synthetic_corpus(CorpusSpec(count=1_000_000, body_words=40, seed=spec.seed), datetime.now(UTC))
    window = int(spec.rate / spec.feeds * 60)  # a minute of items per feed: more than any restart takes
    with (
        scenario(bench.bootstrap, "conn", bench.workdir, bench.say, keep_topics=bench.keep_topics) as run,
        SyntheticFeeds(corpus, spec.feeds, spec.rate, window, spec.delay_s) as feeds,
    ):
        from streams.infra.kafka_topics import ensure_topics

        ensure_topics(run.settings)
        run.start_workers(run.worker("a"))
        connector = run.connector(feeds.write_feed_list(run.workdir / "feeds.yaml"))
        feeds.start_publishing()
        during, after = _kill_repeatedly(connector, feeds, spec, bench.say)
        time.sleep(1.0)  # articles published just before the stop are polled too
        feeds.stop_publishing()
        published = feeds.published_ids()
        raw = run.wait_for_articles(published, timeout_s=120)
        connector.stop()
        wait_drained(run.settings, 120, bench.say)
        tagged = Counter(r.key for r in read_topic(bench.bootstrap, run.settings.topics.articles_tagged))
        return ConnectorCrashFigures(
            spec=spec,
            published=len(published),
            kills_during_fetch=during,
            kills_after_fetch=after,
            raw_records=sum(raw.values()),
            raw_distinct=len(raw),
            lost=len(published - raw.keys()),
            tagged_duplicates=sum(count - 1 for count in tagged.values()),
            crashed=tuple(run.crashed()),
        )


def _kill_repeatedly(
    connector: ConnectorSlot, feeds: SyntheticFeeds, spec: ConnectorCrashSpec, say: Say
) -> tuple[int, int]:
    rng = random.Random(spec.seed)  # noqa: S311 - a reproducible schedule, not a secret
    during = after = 0
    for number in range(spec.kills):
        connector.start()
        seen = feeds.requests
        deadline = time.monotonic() + 60
        while feeds.requests == seen:  # the restarted connector's first request: a cycle has begun
            if time.monotonic() > deadline or not connector.is_running():
                raise RuntimeError(f"the connector made no request:\n{connector.current.log()[-3000:]}")
            time.sleep(0.01)
        pause = rng.uniform(0.0, spec.delay_s + 0.4)
        time.sleep(pause)
        connector.kill()
        during, after = (during + 1, after) if pause < spec.delay_s else (during, after + 1)
        say(f"kill -9 connector #{number + 1}, {pause:.2f} s after a request ({len(feeds.published)} published)")
        time.sleep(rng.uniform(0.0, 1.0))
    connector.start()
    return during, after

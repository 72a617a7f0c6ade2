"""Broker restart: a private dev broker is stopped mid-stream (SIGTERM, then separately SIGKILL) and started again.

The connector polls synthetic feeds that keep publishing, the workers process what arrives, and nobody restarts
them: they must recover by themselves. The broker is a second dev broker on its own port and data directory
(the shared one on 9092 is never touched); its jars come from the shared cache. Afterwards every published
article must be in ``articles.raw`` and the alerts must be exactly what the oracle computes from those articles.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from connectors.core.normalize import DEFAULT_PARSE_LIMITS
from streams.infra.processes import free_port
from streams.infra.settings import load_settings
from streams.tools.devbroker import KAFKA_VERSION, DevBroker
from streams.tools.reliability.feeds import SyntheticFeeds
from streams.tools.reliability.harness import Bench, Outcome, Say, publish_watches, scenario
from streams.tools.reliability.oracle import expected_alert_ids
from streams.tools.synthetic import CorpusSpec, synthetic_corpus


@dataclass(frozen=True)
class BrokerRestartSpec:
    outage_s: float = 30.0
    warmup_s: float = 15.0
    recovery_s: float = 30.0
    """Running time after each restart, before the next outage or the end of publishing."""
    rate: float = 5.0
    feeds: int = 4
    workers: int = 2
    seed: int = 4

    @classmethod
    def short(cls) -> BrokerRestartSpec:
        return cls(outage_s=3.0, warmup_s=2.0, recovery_s=2.0, workers=1)


@dataclass(frozen=True)
class Outage:
    signal: str
    stopped_in_s: float
    down_s: float
    restarted_in_s: float


@dataclass(frozen=True)
class BrokerRestartFigures:
    spec: BrokerRestartSpec
    outages: tuple[Outage, ...]
    published: int
    lost: int
    recovered_in_s: float
    outcome: Outcome

    @property
    def passed(self) -> bool:
        return self.lost == 0 and self.outcome.passed

    def report(self) -> str:
        return "\n".join(
            [
                f"broker restart — {self.spec.rate:g} articles/s through the connector, {self.spec.workers} "
                f"worker(s), broker down {self.spec.outage_s:g} s twice",
                *(
                    f"  {o.signal}: stopped in {o.stopped_in_s:.1f} s, down {o.down_s:.1f} s, "
                    f"answering again {o.restarted_in_s:.1f} s after the start"
                    for o in self.outages
                ),
                f"articles published on the feeds {self.published:8d}",
                f"lost before articles.raw        {self.lost:8d}",
                f"all articles in raw after       {self.recovered_in_s:7.1f} s (from the end of publishing)",
                *self.outcome.lines(),
                f"result: {'PASS' if self.passed else 'FAIL'}",
            ]
        )


@contextmanager
def private_broker(workdir: Path, say: Say) -> Iterator[DevBroker]:
    """A dev broker on a free port under ``workdir``, with the Kafka jars linked from the shared cache."""
    home = workdir / "broker-home"
    home.mkdir(parents=True, exist_ok=True)
    jars = load_settings().home / f"kafka-{KAFKA_VERSION}"
    if jars.is_dir() and not (home / jars.name).exists():
        (home / jars.name).symlink_to(jars)
    broker = DevBroker(home, port=free_port())
    say(broker.start(timeout_s=180, progress=say))
    try:
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(broker.data_dir, ignore_errors=True)


def run_broker_restart(spec: BrokerRestartSpec, bench: Bench) -> BrokerRestartFigures:
    corpus = synthetic_corpus(CorpusSpec(count=1_000_000, body_words=40, seed=spec.seed), datetime.now(UTC))
    # While Kafka is away the connector polls nothing, for longer than the outage (each attempt waits up to 60 s
    # for metadata): the feeds must still list what was published meanwhile, within the entries one poll reads.
    window = int(spec.rate / spec.feeds * (2 * spec.outage_s + 120))
    if window > DEFAULT_PARSE_LIMITS.max_entries:
        raise ValueError(
            f"{spec.rate:g} articles/s over {spec.feeds} feeds would roll items off a feed before the connector "
            f"can read them again ({window} > {DEFAULT_PARSE_LIMITS.max_entries} entries): add feeds"
        )
    with (
        private_broker(bench.workdir, bench.say) as broker,
        scenario(broker.bootstrap, "broker", bench.workdir, bench.say, keep_topics=bench.keep_topics) as run,
        SyntheticFeeds(corpus, spec.feeds, spec.rate, window) as feeds,
    ):
        watches = publish_watches(run)
        run.start_workers(*(run.worker(name) for name in "ab"[: spec.workers]))
        run.connector(feeds.write_feed_list(run.workdir / "feeds.yaml")).start()
        feeds.start_publishing()
        time.sleep(spec.warmup_s)
        outages = []
        for signal in ("SIGTERM", "SIGKILL"):
            outages.append(_outage(broker, signal, spec.outage_s, bench.say))
            time.sleep(spec.recovery_s)
        feeds.stop_publishing()
        published = feeds.published_ids()
        ended = time.monotonic()
        arrived = run.wait_for_articles(published, timeout_s=300)
        recovered_in = time.monotonic() - ended
        outcome = run.finish(expected_alert_ids(run.raw_articles(), watches, bench.tag), drain_timeout_s=300)
        return BrokerRestartFigures(
            spec, tuple(outages), len(published), len(published - arrived.keys()), recovered_in, outcome
        )


def _outage(broker: DevBroker, signal: str, outage_s: float, say: Say) -> Outage:
    say(f"stopping the broker with {signal} for {outage_s:g} s")
    began = time.monotonic()
    if signal == "SIGTERM":
        broker.stop()
    else:
        broker.kill()
    stopped = time.monotonic()
    time.sleep(max(0.0, began + outage_s - time.monotonic()))
    restarting = time.monotonic()
    say(broker.start(timeout_s=180))
    answering = time.monotonic()
    return Outage(signal, stopped - began, restarting - began, answering - restarting)

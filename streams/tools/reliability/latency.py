"""Publication → alert latency by kind of feed: simulated publishers post new articles at random (seeded) moments to
local feeds of three kinds — normal (the adaptive schedule), ``priority: high`` (polled every 60 s) and WebSub
(pushed through the local hub) — and a real connector and a real worker turn them into alerts.

Every article names a watched pair, so each gives one alert; the publication moment is this bench's wall clock
when it put the article in the feed (and, for WebSub, handed it to the hub), the alert's moment is when a consumer
of the alerts topic saw it (matched by article id). Each kind is printed beside its floor: the wait a poll implies
(a publication uniformly placed in a poll interval waits on average half of it and at the 95th percentile 0.95 of
it; for WebSub none), and the pipeline's own share, fetched → fired (the alerts' ``latency_s``).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from aiohttp import web
from kafka import KafkaConsumer

from streams.core.models import Alert, Article
from streams.infra.processes import WIREWATCH, free_port, process_env
from streams.tools.figures import percentile
from streams.tools.reliability.feeds import LoopbackFarm, connector_article_id, render_rss
from streams.tools.reliability.harness import Bench, publish_watches, scenario
from streams.tools.reliability.hub import LocalHub, with_hub
from streams.tools.reliability.processes import Slot
from streams.tools.synthetic import CorpusSpec, synthetic_corpus

KINDS = ("websub", "high", "normal")
HIGH_INTERVAL_S = 60.0
"""``SchedulePolicy.high_priority_interval``, the high-priority floor's interval."""


@dataclass(frozen=True)
class LatencySpec:
    duration_s: float = 600.0
    """Publications happen at random moments in this window."""
    feeds_per_kind: int = 3
    articles_per_kind: int = 40
    drain_s: float = 420.0
    """After the last publication, how long alerts are waited for (normal feeds may be a poll interval away)."""
    seed: int = 16

    @classmethod
    def short(cls) -> LatencySpec:
        return cls(duration_s=180.0, feeds_per_kind=2, articles_per_kind=12, drain_s=150.0)


class FeedFarm(LoopbackFarm):
    """Each feed on a loopback host of its own (per-host spacing never delays one feed for another); requests
    logged as (name, time)."""

    def __init__(self, names: list[str], hub: LocalHub, websub: set[str]) -> None:
        self.host_of = dict(zip(names, self.loopback_hosts(len(names)), strict=True))
        super().__init__(list(self.host_of.values()), "/{name}", self._feed)
        self.log: list[tuple[str, float]] = []
        self._hub = hub
        self._websub = websub
        self._items: dict[str, list[Article]] = {name: [] for name in names}

    def url(self, name: str) -> str:
        host = self.host_of[name]
        return f"http://{host}:{self.ports[host]}/{name}"

    def document(self, name: str) -> bytes:
        body = render_rss(name, self._items[name][-20:])
        return with_hub(body, self._hub.hub_url, self.url(name)) if name in self._websub else body

    def publish(self, name: str, article: Article) -> None:
        self._items[name].append(article)

    async def _feed(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.log.append((name, time.monotonic()))
        if name not in self._items:
            raise web.HTTPNotFound()
        body = self.document(name)
        etag = f'"{len(self._items[name])}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type="application/rss+xml", headers={"ETag": etag})


class AlertWatcher:
    """Reads the alerts topic as it grows and notes when each alert was first seen (this process's clock)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.seen: dict[str, tuple[float, Alert]] = {}
        self._consumer = KafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest", fetch_max_wait_ms=50
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-watcher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for messages in self._consumer.poll(timeout_ms=200).values():
                now = time.time()
                for message in messages:
                    alert = Alert.from_wire(message.value)
                    self.seen.setdefault(alert.article.id, (now, alert))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._consumer.close()


@dataclass(frozen=True)
class KindFigures:
    kind: str
    published: int
    latencies: tuple[float, ...]
    pipeline: tuple[float, ...]
    """fetched → fired of the same alerts (``Alert.latency_s``)."""
    poll_gap_s: float | None
    """Mean gap between two polls of this kind's feeds during the run (None: never polled twice)."""

    @property
    def missing(self) -> int:
        return self.published - len(self.latencies)

    def floor(self) -> str:
        pipeline = f"pipeline p95 {_s(percentile(self.pipeline, 0.95))}"
        if self.kind == "websub":
            return f"no poll to wait for; {pipeline}"
        gap = HIGH_INTERVAL_S if self.kind == "high" else self.poll_gap_s
        if gap is None:
            return f"polled once; {pipeline}"
        measured = f", measured {self.poll_gap_s:.0f} s" if self.kind == "high" and self.poll_gap_s else ""
        return f"poll every {gap:.0f} s{measured}: p50 ≈ {gap / 2:.0f} s, p95 ≈ {0.95 * gap:.0f} s; {pipeline}"


@dataclass(frozen=True)
class LatencyFigures:
    spec: LatencySpec
    kinds: tuple[KindFigures, ...]
    crashed: tuple[str, ...] = field(default=())

    def of(self, kind: str) -> KindFigures:
        return next(k for k in self.kinds if k.kind == kind)

    @property
    def passed(self) -> bool:
        websub, high = self.of("websub"), self.of("high")
        return (
            not self.crashed and websub.missing == 0 and high.missing == 0
            and percentile(websub.latencies, 0.95) <= 5.0 and percentile(high.latencies, 0.95) <= 70.0
        )  # fmt: skip

    def report(self) -> str:
        spec = self.spec
        head = (
            f"publication → alert — {spec.articles_per_kind} articles per kind at random moments over "
            f"{spec.duration_s:.0f} s, {spec.feeds_per_kind} feeds per kind, seed {spec.seed}"
        )
        rows = [f"{'kind':<8} {'count':>5} {'p50':>7} {'p95':>7} {'max':>7} {'missing':>8}  floor"]
        for k in self.kinds:
            p50, p95 = (_s(percentile(k.latencies, q)) for q in (0.5, 0.95))
            top = _s(max(k.latencies, default=math.nan))
            rows.append(f"{k.kind:<8} {len(k.latencies):5d} {p50:>7} {p95:>7} {top:>7} {k.missing:8d}  {k.floor()}")
        targets = "targets: websub p95 ≤ 5 s, high p95 ≤ 70 s, none missing"
        crashed = f"processes that exited by themselves: {len(self.crashed)} {' '.join(self.crashed)}".rstrip()
        return "\n".join([head, *rows, targets, crashed, f"result: {'PASS' if self.passed else 'FAIL'}"])


def _s(seconds: float) -> str:
    if math.isnan(seconds):
        return "—"
    return f"{seconds:.2f}s" if seconds < 10 else f"{seconds:.1f}s"  # a push's latency is under a second


def _feed_list(path: Path, farm: FeedFarm, kinds: dict[str, str]) -> Path:
    lines = ["feeds:"]
    for name, kind in kinds.items():
        lines += [f"  - url: {farm.url(name)}", f"    name: {name}", "    language: en", "    fulltext: never"]
        if kind == "high":
            lines.append("    priority: high")
    path.write_text("\n".join(lines) + "\n")
    return path


def _schedule(spec: LatencySpec, feeds: dict[str, list[str]]) -> list[tuple[float, str, str]]:
    """(moment, kind, feed) of every publication, seeded."""
    rng = random.Random(spec.seed)  # noqa: S311 - a reproducible schedule, not a secret
    moments = [
        (rng.uniform(0, spec.duration_s), kind, rng.choice(names))
        for kind, names in feeds.items()
        for _ in range(spec.articles_per_kind)
    ]
    return sorted(moments)


def run_latency(spec: LatencySpec, bench: Bench) -> LatencyFigures:
    feeds = {kind: [f"{kind}-{n}" for n in range(spec.feeds_per_kind)] for kind in KINDS}
    kind_of = {name: kind for kind, names in feeds.items() for name in names}
    corpus = synthetic_corpus(
        CorpusSpec(count=len(KINDS) * spec.articles_per_kind, pair_share=1.0, syndication=1, body_words=60,
                   seed=spec.seed),
        datetime.now(UTC),
    )  # fmt: skip
    with (
        scenario(bench.bootstrap, "lat", bench.workdir, bench.say, keep_topics=bench.keep_topics) as run,
        LocalHub().running() as hub,
        FeedFarm(list(kind_of), hub, set(feeds["websub"])) as farm,
    ):
        publish_watches(run)
        worker = run.worker("a")
        port = free_port()
        argv = [*WIREWATCH, "connect", "--feeds", str(_feed_list(run.workdir / "feeds.yaml", farm, kind_of)),
                "--allow-private-networks", "--metrics-port", "0", "--websub-listen", f"127.0.0.1:{port}"]  # fmt: skip
        connector = Slot("connector", argv, process_env(run.settings), run.workdir / "logs")
        run.slots.append(connector)
        with run.starting(worker):
            connector.start()
        topics = [farm.url(name) for name in feeds["websub"]]
        _wait(lambda: all(hub.subscribed(t) for t in topics), 120, "the WebSub feeds' subscriptions")
        _wait(lambda: {name for name, _ in farm.log} >= set(kind_of), 120, "a first poll of every feed")
        bench.say(f"{len(kind_of)} feeds polled once, {len(topics)} subscribed at the hub; publishing")
        watcher = AlertWatcher(bench.bootstrap, run.settings.topics.alerts)
        published: dict[str, tuple[str, float]] = {}
        started = time.monotonic()
        farm_log_from = len(farm.log)
        for (moment, kind, name), article in zip(_schedule(spec, feeds), corpus, strict=True):
            time.sleep(max(0.0, started + moment - time.monotonic()))
            farm.publish(name, article)
            published[connector_article_id(article)] = (kind, time.time())
            if kind == "websub":
                hub.publish(farm.url(name), farm.document(name))
        bench.say(f"{len(published)} articles published; waiting up to {spec.drain_s:.0f} s for their alerts")
        _wait(lambda: published.keys() <= watcher.seen.keys(), spec.drain_s, None)
        watcher.close()
        crashed = tuple(run.crashed())
        log = farm.log[farm_log_from:]
    return LatencyFigures(spec, tuple(_kind(kind, published, watcher.seen, log, kind_of) for kind in KINDS), crashed)


def _kind(
    kind: str,
    published: dict[str, tuple[str, float]],
    seen: dict[str, tuple[float, Alert]],
    log: list[tuple[str, float]],
    kind_of: dict[str, str],
) -> KindFigures:
    ids = [article_id for article_id, (of, _) in published.items() if of == kind]
    alerted = [article_id for article_id in ids if article_id in seen]
    by_feed: dict[str, list[float]] = defaultdict(list)
    for name, at in log:
        if kind_of.get(name) == kind:
            by_feed[name].append(at)
    gaps = [b - a for moments in by_feed.values() for a, b in pairwise(sorted(moments))]
    return KindFigures(
        kind=kind,
        published=len(ids),
        latencies=tuple(seen[i][0] - published[i][1] for i in alerted),
        pipeline=tuple(seen[i][1].latency_s for i in alerted),
        poll_gap_s=sum(gaps) / len(gaps) if gaps else None,
    )


def _wait(condition: Callable[[], bool], timeout_s: float, what: str | None) -> None:
    """Until ``condition()`` holds; after ``timeout_s`` raise (``what`` named) or, without ``what``, return."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            if what is None:
                return
            raise TimeoutError(f"{what} did not happen within {timeout_s:.0f} s")
        time.sleep(0.2)

"""The Faust application: created by ``create_app(settings)``, never at import time.

    articles.raw ──tag + match──► articles.tagged (for downstream readers)
                          └─────► pairs (key = watch id) ──decide──► alerts

Agents are thin loops: ``run_stage`` decodes each record and hands it to a ``Pipeline`` method, which calls the
pure core, sends and counts. A poison message goes to the dead-letter topic with its stage, reason and original
bytes, and the worker keeps going (Faust acknowledges the record of an agent that raised, so letting the error
out would pass the record silently). Processing is at-least-once; alert ids are deterministic so redelivered
alerts are recognisable.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import faust
from faust.types import TP, EventT, StreamT, TopicT
from kafka.errors import KafkaError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from streams import __version__
from streams.api.install import install_desk_api
from streams.core.alerts import (
    HOURLY_WINDOWS_KEPT,
    OpenStory,
    Outcome,
    PairCandidate,
    StoryBook,
    decide_pair,
    match_watches,
    watch_summary,
)
from streams.core.deadletters import Origin
from streams.core.deadletters import dead_letter as build_dead_letter
from streams.core.delivery import delivery_mark, is_duplicate, is_expired
from streams.core.models import Article, Wire, WireError, decode
from streams.core.registry import Registries
from streams.core.surges import SurgeSeries
from streams.core.tagger import Tagger
from streams.infra.compacted import OnInvalid
from streams.infra.entities import EntityBook
from streams.infra.inflection import name_forms
from streams.infra.lookback import history_view, progress_view
from streams.infra.observability import ConsumerLagProbe
from streams.infra.registry_files import load_registries, shipped_tagger
from streams.infra.settings import Settings
from streams.infra.watches import WatchBook
from streams.worker.lookback import LookbackRunner
from streams.worker.membership import leave_group_on_stop, membership_options
from streams.worker.metrics import LAG_INTERVAL_S, WorkerMetrics
from streams.worker.offsets import guard_offsets

log = logging.getLogger(__name__)

EXIT_PROCESSING_ERROR = 70
"""The exit code of a worker ended by an unexpected processing error (``worker_on_processing_error=crash``)."""


def _end_process_now(code: int) -> None:
    """End the process without Faust's shutdown (which would acknowledge and commit the failed record)."""
    logging.shutdown()
    os._exit(code)


class Pipeline:
    """The per-message work of each stage, between a Faust stream and the pure core."""

    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        metrics: WorkerMetrics,
        registries: Registries,
        end_process: Callable[[int], None] | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self._tagger: Tagger | None = None
        self._registries = registries
        self.tagger_ready = asyncio.Event()
        """Set once the tagger is compiled: before, the tag agent reads nothing and cannot be stuck."""
        self._on_processing_error = settings.worker_on_processing_error
        self._end_process = end_process or _end_process_now
        self.processed_before: Callable[[TP, int], bool] = lambda tp, offset: False
        """Whether a record is a re-read of one this worker already processed (set by the offsets guard)."""
        names = settings.topics
        self.tagged: TopicT = app.topic(names.articles_tagged)
        self.pairs: TopicT = app.topic(names.pairs)
        self.alerts: TopicT = app.topic(names.alerts)
        self.deadletter: TopicT = app.topic(names.deadletter)
        partitions = settings.topic_partitions
        # article id → the mark of its first delivery (streams.core.delivery)
        self.seen = app.Table("seen-articles", partitions=partitions, key_type=bytes, value_type=bytes)
        # per watch: "<watch>␟stories" → story ids, "<watch>␟story␟<id>" → OpenStory, "<watch>␟hourly" → counts
        self.watch_state = app.Table("watch-state", partitions=partitions, key_type=bytes, value_type=bytes)
        self._books: dict[str, StoryBook] = {}
        self.watchbook = WatchBook(
            settings.kafka_bootstrap, names.watches, self.invalid_record("watches"), metrics.observe_watches
        )
        self.entities = EntityBook(
            settings.kafka_bootstrap, names.entities, self.invalid_record("entities"), metrics.observe_entity_rebuild,
            name_forms,
        )  # fmt: skip
        self.lookback_progress = progress_view(settings, self.invalid_record("lookback"))
        self.history = history_view(settings, self.invalid_record("history"))
        self.lookbacks = LookbackRunner(settings, self.entities, self.lookback_progress, metrics, self.dead_letter)

    # ------------------------------------------------------------------ stages
    async def tag_one(self, event: EventT[bytes], article: Article) -> None:
        key = article.id.encode()
        partition, offset = event.message.partition, event.message.offset
        if is_duplicate(self.seen.get(key), partition, offset):
            self.metrics.duplicates.inc()
            return
        self.seen[key] = delivery_mark(partition, offset, time.time())
        assert self._tagger is not None, "prepare_tagger runs before the tag stage"
        tagged = self._tagger.tag(article, self.entities.matcher)
        self.metrics.observe_tagged(tagged)
        await self.tagged.send(key=key, value=tagged.to_json())
        # Matching runs here rather than in an agent on articles.tagged: a Faust event costs about as much as
        # tagging, and one event per article instead of two nearly doubles throughput (decision 0005).
        for candidate in match_watches(tagged, self.watchbook.index):
            self.metrics.candidates.labels(candidate.watch.desk, candidate.watch.watch_id).inc()
            await self.pairs.send(key=candidate.watch.watch_id.encode(), value=candidate.to_json())

    async def decide_one(self, event: EventT[bytes], candidate: PairCandidate) -> None:
        watch = candidate.watch
        surges = self.surge_series(watch.watch_id) if watch.surges else None
        effects = decide_pair(
            self.story_book(watch.watch_id), self.hourly(watch.watch_id), candidate, datetime.now(UTC), surges
        )
        self._persist(watch.watch_id, effects.outcome)
        if effects.surge_series is not None:
            self.watch_state[_state_key(watch.watch_id, "surge")] = effects.surge_series.to_json()
        labels = (watch.desk, watch.watch_id)
        if effects.hourly is not None:
            self.watch_state[_state_key(watch.watch_id, "hourly")] = json.dumps(effects.hourly).encode()
            self.metrics.watch_hour_articles.labels(*labels).set(effects.hour_count or 0)
        if effects.decision.outcome == "corroborate":
            self.metrics.corroborations.labels(*labels).inc()
        if effects.alert is not None:
            await self.alerts.send(key=effects.alert.alert_id.encode(), value=effects.alert.to_json())
            if effects.decision.is_new_alert:
                self.metrics.observe_alert(effects.alert)
        if effects.surge_alert is not None:
            await self.alerts.send(key=effects.surge_alert.alert_id.encode(), value=effects.surge_alert.to_json())
            self.metrics.surges.labels(*labels).inc()

    async def prepare_tagger(self) -> None:
        """Compile the tagger off the event loop before the first article (about a second, several on a loaded
        machine): an agent busy compiling would look stuck to the offset guard, and heartbeats keep going."""
        if self._tagger is None:
            registries = self._registries
            self._tagger = await asyncio.to_thread(shipped_tagger, registries)
        self.tagger_ready.set()

    # ------------------------------------------------------------------ per-watch state
    def story_book(self, watch_id: str) -> StoryBook:
        """The watch's open stories: cached in memory, loaded from the table after a start or a rebalance."""
        book = self._books.get(watch_id)
        if book is None:
            ids = json.loads(self.watch_state.get(_state_key(watch_id, "stories")) or b"[]")
            raws = (self.watch_state.get(_state_key(watch_id, "story", story_id)) for story_id in ids)
            book = self._books[watch_id] = StoryBook(OpenStory.from_wire(raw) for raw in raws if raw)
        return book

    def surge_series(self, watch_id: str) -> SurgeSeries:
        raw = self.watch_state.get(_state_key(watch_id, "surge"))
        return SurgeSeries.from_wire(raw) if raw else SurgeSeries()

    def hourly(self, watch_id: str) -> dict[str, int]:
        counts: dict[str, int] = json.loads(self.watch_state.get(_state_key(watch_id, "hourly")) or b"{}")
        return counts

    def _persist(self, watch_id: str, outcome: Outcome) -> None:
        """Write only what changed: one story per key, the id list when stories opened or expired."""
        for story_id in outcome.expired:
            self.watch_state.pop(_state_key(watch_id, "story", story_id), None)
        if outcome.upserted is not None:
            story = outcome.upserted
            self.watch_state[_state_key(watch_id, "story", story.story_id)] = story.to_json()
        if outcome.stories_changed:
            ids = self.story_book(watch_id).story_ids
            self.watch_state[_state_key(watch_id, "stories")] = json.dumps(ids).encode()

    async def forget_story_books(self, *_args: object, **_kwargs: object) -> None:
        """After a rebalance the partitions (and so the watches) this worker owns change: reload lazily."""
        self._books.clear()

    # ------------------------------------------------------------------ failure handling
    async def run_stage(
        self,
        stage: str,
        stream: StreamT[bytes],
        model: type[Wire],
        handle: Callable[[EventT[bytes], Wire], Awaitable[None]],
    ) -> None:
        """Decode each record as ``model`` and hand it to ``handle``; what does not decode is dead-lettered as
        ``invalid_message``, and an unexpected error follows ``worker_on_processing_error``."""
        handled, seconds = self.metrics.messages.labels(stage), self.metrics.stage_seconds.labels(stage)
        async for event in stream.events():
            if self.processed_before(event.message.tp, event.message.offset):
                continue  # read again with a dropped record before it (offsets guard): acknowledged, not redone
            started = time.perf_counter()
            try:
                decoded = decode(model, event.value)
                if isinstance(decoded, WireError):
                    await self.dead_letter(stage, "invalid_message", str(decoded), event.key, event.value, event)
                else:
                    await handle(event, decoded)
            except WireError as err:  # a contract broken further in (a record built from the decoded one)
                await self.dead_letter(stage, "invalid_message", str(err), event.key, event.value, event)
            except Exception as err:
                log.exception("%s stage failed on %s", stage, event.message.tp)
                if self._on_processing_error == "crash":
                    self._end_process(EXIT_PROCESSING_ERROR)
                    return
                await self.dead_letter(stage, "processing_error", repr(err), event.key, event.value, event)
            handled.inc()
            seconds.observe(time.perf_counter() - started)

    async def dead_letter(
        self,
        stage: str,
        reason: str,
        error: str,
        key: bytes | None,
        value: bytes | None,
        event: EventT[bytes] | None = None,
    ) -> None:
        self.metrics.deadletters.labels(stage, reason).inc()
        message = event.message if event is not None else None
        origin = Origin(message.topic, message.partition, message.offset) if message is not None else None
        key, letter = build_dead_letter(stage, reason, error, key, value, origin, failed_at=datetime.now(UTC))
        log.warning("dead letter %s/%s key=%r: %s", stage, reason, letter.key, letter.error)
        await self.deadletter.send(key=key, value=letter.to_json())

    def invalid_record(self, stage: str) -> OnInvalid:
        """Dead-letters what a compacted-topic view (watches, desks, webhooks) could not read."""

        def dead_letter(key: bytes | None, value: bytes | None, error: str) -> None:
            self.app.loop.create_task(self.dead_letter(stage, "invalid_message", error, key, value))

        return dead_letter

    def forget_old_articles(self, now: float) -> int:
        expired = [key for key, mark in list(self.seen.items()) if is_expired(mark, now)]
        for key in expired:
            del self.seen[key]
        return len(expired)


def create_app(settings: Settings, registry: CollectorRegistry | None = None) -> faust.App:
    datadir = settings.home / "worker" / settings.app_id
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store=settings.store,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        processing_guarantee="at_least_once",
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        key_serializer="raw",
        value_serializer="raw",
        web_port=settings.web_port,
        web_bind=settings.web_bind,
        web_host=settings.web_host,
        datadir=str(datadir),
        # Articles are a few KB: with the 1 MiB default a fetch brings ~250 per partition and the worker waits on
        # fetches; 8 MiB lets one fetch fill the stream buffer (≈1.2k → 2.1k records/s in a bare Faust relay).
        consumer_max_fetch_size=8 * 1024 * 1024,
        # A standby replica that becomes active can wait forever for its changelog (seen in the reliability scale
        # test); without standbys a new owner reads the compacted changelog from the start (decision 0602).
        table_standby_replicas=0,
        **membership_options(settings),
    )
    if settings.worker_leave_group_on_stop:
        leave_group_on_stop()
    metrics = WorkerMetrics(registry or CollectorRegistry(), __version__)
    registries = load_registries()  # read once: the metrics' known labels and the tagger share them
    metrics.know_registries(registries)
    pipeline = Pipeline(app, settings, metrics, registries)
    app.pipeline = pipeline  # type: ignore[attr-defined]

    @app.agent(app.topic(settings.topics.articles_raw))
    async def tag_articles(stream: StreamT[bytes]) -> None:
        await pipeline.watchbook.ready.wait()
        await pipeline.entities.built.wait()
        await pipeline.prepare_tagger()
        await pipeline.run_stage("tag", stream, Article, pipeline.tag_one)

    app.on_partitions_revoked.connect(pipeline.forget_story_books)

    @app.agent(pipeline.pairs)
    async def decide_alerts(stream: StreamT[bytes]) -> None:
        await pipeline.run_stage("decide", stream, PairCandidate, pipeline.decide_one)

    @app.task
    async def follow_watches() -> None:
        await pipeline.watchbook.run()

    @app.task
    async def follow_entities() -> None:
        await pipeline.entities.run()

    @app.task
    async def follow_lookback_progress() -> None:
        await pipeline.lookback_progress.run()

    @app.task
    async def follow_history() -> None:
        await pipeline.history.run()

    @app.task
    async def run_lookbacks() -> None:
        await pipeline.lookbacks.run()

    @app.on_before_shutdown.connect
    async def stop_lookbacks(*_args: object, **_kwargs: object) -> None:
        pipeline.lookbacks.close()

    @app.timer(interval=600.0)
    async def expire_seen_articles() -> None:
        pipeline.forget_old_articles(time.time())

    lag_probe = ConsumerLagProbe(settings.kafka_bootstrap, settings.app_id)

    @app.timer(interval=LAG_INTERVAL_S)
    async def measure_consumer_lag() -> None:
        topics = {name for agent in app.agents.values() for name in agent.get_topic_names()}
        try:
            metrics.observe_lag(await asyncio.to_thread(lag_probe.measure, topics))
        except KafkaError as err:
            log.warning("consumer lag not measured: %s", err)

    @app.page("/health")
    async def health(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        ready = pipeline.watchbook.ready.is_set()
        body = {"status": "ok" if ready else "starting", "watches": len(pipeline.watchbook.watches)}
        return web.json(body, status=200 if ready else 503)

    @app.page("/metrics")
    async def metrics_page(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        return web.bytes(generate_latest(metrics.registry), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/api/v1/watches/{watch_id}/stats")
    @app.table_route(table=pipeline.watch_state, match_info="watch_id")
    async def watch_stats(web: faust.web.View, request: faust.web.Request, watch_id: str) -> faust.web.Response:
        hours = min(max(int(request.query.get("hours", "24") or 24), 1), HOURLY_WINDOWS_KEPT)
        summary = watch_summary(pipeline.hourly(watch_id), pipeline.story_book(watch_id), hours, datetime.now(UTC))
        return web.json(summary)

    api = install_desk_api(app, settings, pipeline)
    # The agents start reading once the watches and webhooks are loaded and the tagger compiled: until then nothing
    # is stuck.
    offsets = guard_offsets(
        app,
        is_ready=lambda: all(
            e.is_set()
            for e in (pipeline.watchbook.ready, pipeline.entities.built, api.webhooks.ready, pipeline.tagger_ready)
        ),
    )
    pipeline.processed_before = offsets.processed_before
    return app


def _state_key(watch_id: str, *parts: str) -> bytes:
    """Keys of one watch's state share its id as a prefix (the table is co-partitioned with ``pairs``)."""
    return "\x1f".join((watch_id, *parts)).encode()

"""Prometheus metrics of the stream worker, in one place, on an injected registry.

Names carry the ``wirewatch_`` prefix and base units (seconds, counts); labels are bounded (stage, reason,
desk, watch id, country code, outlet category — never article ids or URLs). Known label values are created
up front so dashboards show 0 instead of "no data".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
)

from streams.core.models import sources_content
from streams.core.surges import article_moment
from streams.infra.observability import add_process_collectors

if TYPE_CHECKING:
    from streams.core.models import Alert, Outlet, TaggedArticle, Watch
    from streams.core.registry import Registries

log = logging.getLogger(__name__)

STAGES = ("tag", "decide", "webhook")
"""Every ``run_stage`` name (the desk API's webhook agent included): their series exist at 0 from the start."""
DEADLETTER_REASONS = ("invalid_message", "processing_error")
LOOKBACK_OUTCOMES = ("done", "failed", "skipped")
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)


LAG_INTERVAL_S = 15.0
"""How often a worker measures its consumer group's lag (cheap: three admin requests)."""


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry, version: str) -> None:
        self._state_outlets: frozenset[str] = frozenset()
        """Ids of the outlets the registry flags as state media (``know_registries``)."""
        self.registry = registry
        add_process_collectors(registry)
        self.build = Info("wirewatch_worker_build", "Build of the running worker.", registry=registry)
        self.build.info({"version": version})
        self.messages = Counter(
            "wirewatch_messages_processed_total", "Messages handled per pipeline stage.", ["stage"], registry=registry
        )
        self.stage_seconds = Histogram(
            "wirewatch_stage_duration_seconds",
            "Time to handle one message per stage (core work plus sends).",
            ["stage"],
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1),
            registry=registry,
        )
        self.duplicates = Counter(
            "wirewatch_duplicate_articles_total",
            "Articles skipped because their id was seen before.",
            registry=registry,
        )
        self.tagged = Counter("wirewatch_articles_tagged_total", "Articles tagged.", registry=registry)
        self.actors_per_article = Histogram(
            "wirewatch_article_actors",
            "Actors found per tagged article.",
            buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34),
            registry=registry,
        )
        self.topics_per_article = Histogram(
            "wirewatch_article_topics",
            "Topics found per tagged article.",
            buckets=(0, 1, 2, 3, 5, 8),
            registry=registry,
        )
        self.topic_articles = Counter(
            "wirewatch_topic_articles_total",
            "Tagged articles per topic (registry topic id).",
            ["topic"],
            registry=registry,
        )
        self.state_sourced = Counter(
            "wirewatch_state_sourced_articles_total",
            "Articles published by or citing state media, by the outlet's country and category.",
            ["country", "category"],
            registry=registry,
        )
        self.candidates = Counter(
            "wirewatch_pair_matches_total",
            "Articles in which a watched pair co-occurred, by watch.",
            ["desk", "watch"],
            registry=registry,
        )
        self.alerts = Counter(
            "wirewatch_alerts_fired_total",
            "Alerts fired (new stories), by desk and watch.",
            ["desk", "watch"],
            registry=registry,
        )
        self.surges = Counter(
            "wirewatch_surges_fired_total",
            "Surge alerts fired (a watch's articles growing fast against its recent days), by desk and watch.",
            ["desk", "watch"],
            registry=registry,
        )
        self.corroborations = Counter(
            "wirewatch_alert_corroborations_total",
            "Articles that joined an already alerted story instead of firing again.",
            ["desk", "watch"],
            registry=registry,
        )
        self.watch_hour_articles = Gauge(
            "wirewatch_watch_articles_current_hour",
            "Articles matching a watch in the current hourly window (by article fetch time).",
            ["desk", "watch"],
            registry=registry,
        )
        self.fetch_to_alert = Histogram(
            "wirewatch_alert_fetch_latency_seconds",
            "Time from the connector fetching an article to its alert being fired.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.publish_to_alert = Histogram(
            "wirewatch_alert_publication_latency_seconds",
            "Time from an article's publication (its feed date; the first fetch when it has none or a later one)"
            " to its alert being fired.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.deadletters = Counter(
            "wirewatch_deadletters_total",
            "Messages sent to the dead-letter topic.",
            ["stage", "reason"],
            registry=registry,
        )
        self.watches = Gauge("wirewatch_watches", "Watches loaded in this worker.", registry=registry)
        self.watch_info = Gauge(
            "wirewatch_watch_info",
            "One series per loaded watch (value 1): its desk and the two entity ids, for joins in dashboards.",
            ["desk", "watch", "entities"],
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "wirewatch_consumer_lag_messages",
            "Records not yet processed by the worker group: end offset minus committed offset, per partition "
            "of every topic an agent consumes (every worker reports the whole group: aggregate with max).",
            ["topic", "partition"],
            registry=registry,
        )
        self.desk_entities = Gauge(
            "wirewatch_desk_entities", "Desk entities in this worker's compiled automaton.", registry=registry
        )
        self.entity_rebuild_seconds = Histogram(
            "wirewatch_desk_entity_rebuild_seconds",
            "Time to compile the desk-entity automaton after a change (off the event loop).",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
            registry=registry,
        )
        self.lookback_articles = Counter(
            "wirewatch_lookback_articles_total", "Retained articles re-tagged by look backs.", registry=registry
        )
        self.lookback_jobs = Counter(
            "wirewatch_lookback_jobs_total",
            "Look-back jobs finished, by outcome (done, failed, skipped: already done before).",
            ["outcome"],
            registry=registry,
        )
        self.history_matches = Counter(
            "wirewatch_history_matches_total", "Retained articles a look back found matching its watch.",
            registry=registry,
        )  # fmt: skip
        for outcome in LOOKBACK_OUTCOMES:
            self.lookback_jobs.labels(outcome)
        self._watch_labels: dict[str, tuple[str, str, str]] = {}
        for stage in STAGES:
            self.messages.labels(stage)
            self.stage_seconds.labels(stage)
            for reason in DEADLETTER_REASONS:
                self.deadletters.labels(stage, reason)

    def know_registries(self, registries: Registries) -> None:
        """Create the topic and state-outlet series at 0, so desk panels show 0 rather than "no data"."""
        for topic in registries.topics:
            self.topic_articles.labels(topic.id)
        self._state_outlets = frozenset(outlet.id for outlet in registries.outlets if outlet.state)
        for outlet in registries.outlets:
            if outlet.state:
                self.state_sourced.labels(outlet.country or "unknown", outlet.category)

    def observe_watches(self, watches: Mapping[str, Watch]) -> None:
        """Follow the watch book: per-watch series exist (at 0) while a watch does, and go with it."""
        self.watches.set(len(watches))
        current = {w.watch_id: (w.desk, w.watch_id, "+".join(sorted(w.entities))) for w in watches.values()}
        per_watch = (self.candidates, self.alerts, self.surges, self.corroborations, self.watch_hour_articles)
        for watch_id, labels in self._watch_labels.items():
            if current.get(watch_id) != labels:
                self.watch_info.remove(*labels)
                for metric in per_watch:
                    metric.remove(*labels[:2])
        for labels in current.values():
            self.watch_info.labels(*labels).set(1)
            for metric in per_watch:
                metric.labels(*labels[:2])
        self._watch_labels = current

    def observe_entity_rebuild(self, count: int, seconds: float) -> None:
        self.desk_entities.set(count)
        self.entity_rebuild_seconds.observe(seconds)

    def observe_lag(self, lag: Mapping[tuple[str, int], int]) -> None:
        """Replace the lag series with a new measurement (partitions gone since are dropped)."""
        self.consumer_lag.clear()
        for (topic, partition), value in lag.items():
            self.consumer_lag.labels(topic, str(partition)).set(value)

    def observe_tagged(self, tagged: TaggedArticle) -> None:
        self.tagged.inc()
        self.actors_per_article.observe(len(tagged.actors))
        self.topics_per_article.observe(len(tagged.topics))
        for topic in tagged.topics:
            self.topic_articles.labels(topic.id).inc()
        if tagged.state_media.state_sourced:
            # the registry's own flag decides what is state media
            sources: list[Outlet] = [c for c in tagged.state_media.cited if sources_content(c.role)]
            sources += [tagged.state_media.publisher] if tagged.state_media.publisher else []
            for country, category in {
                (o.country or "unknown", o.category) for o in sources if o.id in self._state_outlets
            }:
                self.state_sourced.labels(country, category).inc()

    def observe_alert(self, alert: Alert) -> None:
        self.alerts.labels(alert.desk, alert.watch_id).inc()
        self.fetch_to_alert.observe(alert.latency_s)
        fetched = alert.fired_at - timedelta(seconds=alert.latency_s)
        published = article_moment(alert.article.published, fetched)
        self.publish_to_alert.observe(max((alert.fired_at - published).total_seconds(), 0.0))

"""Prometheus metrics of the stream worker, in one place, on an injected registry.

Names carry the ``wirewatch_`` prefix and base units (seconds, counts); labels are bounded (stage, reason,
desk, watch id, country code, outlet category — never article ids or URLs). Known label values are created
up front so dashboards show 0 instead of "no data".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

if TYPE_CHECKING:
    from streams.core.models import Alert, TaggedArticle

STAGES = ("tag", "match", "decide")
DEADLETTER_REASONS = ("invalid_message", "processing_error")
STATE_CATEGORIES = ("state_controlled", "state_affiliated")
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry, version: str) -> None:
        self.registry = registry
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
            "Time from an article's publication (feed date) to its alert being fired.",
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
        for stage in STAGES:
            self.messages.labels(stage)
            self.stage_seconds.labels(stage)
            for reason in DEADLETTER_REASONS:
                self.deadletters.labels(stage, reason)

    def observe_tagged(self, tagged: TaggedArticle) -> None:
        self.tagged.inc()
        self.actors_per_article.observe(len(tagged.actors))
        self.topics_per_article.observe(len(tagged.topics))
        state_outlets = {
            (outlet.country or "unknown", outlet.category)
            for outlet in (*tagged.state_media.cited, tagged.state_media.publisher)
            if outlet is not None
            and outlet.category in STATE_CATEGORIES
            and getattr(outlet, "role", "publisher") != "photo_credit"
        }
        if tagged.state_media.state_sourced:
            for country, category in state_outlets:
                self.state_sourced.labels(country, category).inc()

    def observe_alert(self, alert: Alert) -> None:
        self.alerts.labels(alert.desk, alert.watch_id).inc()
        self.fetch_to_alert.observe(alert.latency_s)
        if alert.article.published is not None:
            self.publish_to_alert.observe(max((alert.fired_at - alert.article.published).total_seconds(), 0.0))

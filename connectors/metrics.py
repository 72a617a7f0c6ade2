"""The connector's Prometheus metrics, in one place, on an injected registry.

Labels are bounded: outcomes and failure reasons are fixed sets, and feeds are labelled by their
*name* from the feed list (operator-controlled, finite), never by URL. Known label values are created
up front so every series exists (at 0) from the first scrape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from connectors.core.fulltext import PAGE_OUTCOMES
from connectors.core.schedule import FAILURE_REASONS
from streams import __version__
from streams.infra.observability import add_process_collectors

FETCH_OUTCOMES = ("fetched", "not_modified", "unchanged", "failed")
"""``unchanged``: a 200 whose body hashes like the last one (a server with stale validators)."""


UNLISTED_OUTLET = "unknown"
"""The ``outlet`` label of feeds whose entry in the feed list names no outlet."""


class ConnectorMetrics:
    def __init__(
        self,
        registry: CollectorRegistry,
        feed_names: Iterable[str],
        feed_outlets: Mapping[str, str | None] | None = None,
    ) -> None:
        add_process_collectors(registry)
        self.build = Info("wirewatch_connector_build", "Build of the running connector.", registry=registry)
        self.build.info({"version": __version__})
        self.fetches = Counter("wirewatch_connector_fetches", "Feed polls by outcome.", ["outcome"], registry=registry)
        self.fetch_duration = Histogram(
            "wirewatch_connector_fetch_duration_seconds",
            "Wall-clock time of one feed fetch (redirects and body included).",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60),
            registry=registry,
        )
        self.articles_produced = Counter(
            "wirewatch_connector_articles_produced", "New articles sent to Kafka.", ["feed"], registry=registry
        )
        self.duplicates_skipped = Counter(
            "wirewatch_connector_duplicates_skipped",
            "Entries not produced because the article was already produced (any feed, any earlier poll).",
            ["feed"],
            registry=registry,
        )
        self.errors = Counter("wirewatch_connector_errors", "Failed polls by reason.", ["reason"], registry=registry)
        self.feed_failures = Counter(
            "wirewatch_connector_feed_failures",
            "Failed polls by feed (reasons: ..._errors_total).",
            ["feed"],
            registry=registry,
        )
        self.feed_info = Gauge(
            "wirewatch_connector_feed_info",
            "One series per listed feed (value 1) naming its outlet, to sum feed series by outlet.",
            ["feed", "outlet"],
            registry=registry,
        )
        self.last_success = Gauge(
            "wirewatch_connector_feed_last_success_timestamp_seconds",
            "Unix time of the feed's last successful poll (0: none yet).",
            ["feed"],
            registry=registry,
        )
        self.paused_feeds = Gauge(
            "wirewatch_connector_paused_feeds", "Feeds paused after repeated failures.", registry=registry
        )
        self.commit_window = Histogram(
            "wirewatch_connector_commit_window_seconds",
            "Time between the producer's flush and the seen-state commit: a crash inside it re-sends "
            "the cycle's articles (same keys) on restart.",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
            registry=registry,
        )
        self.page_fetches = Counter(
            "wirewatch_page_fetches",
            "Article pages by outcome: 'extracted' when the page's text is the article's content; every other "
            "outcome still produces the article, with the feed's text.",
            ["outcome"],
            registry=registry,
        )
        self.page_queue = Gauge(
            "wirewatch_page_queue", "Articles waiting for their pages (in the connector's state).", registry=registry
        )
        self.page_wait = Histogram(
            "wirewatch_page_wait_seconds",
            "Time from an article's queueing for its page to its production (bounded by the page deadline).",
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300),
            registry=registry,
        )
        self.page_extract_duration = Histogram(
            "wirewatch_page_extract_duration_seconds",
            "CPU-bound main-text extraction of one page.",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=registry,
        )
        for outcome in PAGE_OUTCOMES:
            self.page_fetches.labels(outcome)
        for outcome in FETCH_OUTCOMES:
            self.fetches.labels(outcome)
        for reason in FAILURE_REASONS:
            self.errors.labels(reason)
        outlets = feed_outlets or {}
        for name in feed_names:
            self.articles_produced.labels(name)
            self.duplicates_skipped.labels(name)
            self.last_success.labels(name)
            self.feed_failures.labels(name)
            self.feed_info.labels(name, outlets.get(name) or UNLISTED_OUTLET).set(1)

    def observe_failure(self, feed: str, reason: str) -> None:
        self.errors.labels(reason).inc()
        self.feed_failures.labels(feed).inc()

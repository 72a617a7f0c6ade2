"""The connector's Prometheus metrics, in one place, on an injected registry.

Labels are bounded: outcomes, failure reasons and feed health are fixed sets, and articles are counted by the
outlet (a registry id) their feed names. Nothing is labelled by feed — a group of connectors may poll a hundred
thousand of them —: which feeds fail or are stale is what ``wirewatch feed list --health`` and the API answer
(from the feed-state topic), the metrics say how many. Known label values are created up front so every series
exists (at 0) from the first scrape.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from connectors.core.fulltext import PAGE_OUTCOMES
from connectors.core.schedule import FAILURE_REASONS, FEED_HEALTH, FeedState, feed_health
from connectors.core.websub import STATUSES, Subscription
from streams import __version__
from streams.core.models import Article
from streams.infra.observability import add_process_collectors

FETCH_OUTCOMES = ("fetched", "not_modified", "unchanged", "failed")
"""``unchanged``: a 200 whose body hashes like the last one (a server with stale validators)."""


PUSH_OUTCOMES = ("accepted", "bad_signature", "unknown_callback", "too_large", "not_a_feed", "failed")
"""A WebSub content distribution: produced like a poll, or refused (counted, logged, never an exception)."""
VERIFICATION_OUTCOMES = ("echoed", "refused", "denied")
"""A hub's verification of intent: ``echoed`` (it matched a request of ours), ``refused`` (404), ``denied`` (the
hub refused the subscription)."""
HUB_REQUEST_OUTCOMES = ("accepted", "failed")

UNLISTED_OUTLET = "unknown"
"""The ``outlet`` label of feeds whose entry in the feed list names no outlet."""


class ConnectorMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
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
            "wirewatch_connector_articles_produced",
            f"New articles sent to Kafka, by the outlet their feed names ('{UNLISTED_OUTLET}': none).",
            ["outlet"],
            registry=registry,
        )
        self.duplicates_skipped = Counter(
            "wirewatch_connector_duplicates_skipped",
            "Entries not produced because the article was already produced (any feed, any earlier poll).",
            registry=registry,
        )
        self.errors = Counter("wirewatch_connector_errors", "Failed polls by reason.", ["reason"], registry=registry)
        self.feeds = Gauge(
            "wirewatch_connector_feeds",
            "The feeds this connector polls, by health: ok, failing (last poll failed), stale (no success for "
            "over the longest interval), paused, new (never polled); `wirewatch feed list --health` names them.",
            ["health"],
            registry=registry,
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
        self.websub_pushes = Counter(
            "wirewatch_websub_pushes",
            "WebSub content distributions by outcome (every one but 'too_large' and 'unknown_callback' answered 2xx).",
            ["outcome"],
            registry=registry,
        )
        self.websub_verifications = Counter(
            "wirewatch_websub_verifications",
            "Hubs' verifications of intent by outcome.",
            ["outcome"],
            registry=registry,
        )
        self.websub_requests = Counter(
            "wirewatch_websub_hub_requests",
            "Subscribe and unsubscribe requests sent to hubs, by mode and outcome (the hub's answer to the POST).",
            ["mode", "outcome"],
            registry=registry,
        )
        self.websub_subscriptions = Gauge(
            "wirewatch_websub_subscriptions",
            "This connector's WebSub subscriptions by status (active ones are pushed, the others polled as usual).",
            ["status"],
            registry=registry,
        )
        for outcome in PUSH_OUTCOMES:
            self.websub_pushes.labels(outcome)
        for outcome in VERIFICATION_OUTCOMES:
            self.websub_verifications.labels(outcome)
        for mode in ("subscribe", "unsubscribe"):
            for outcome in HUB_REQUEST_OUTCOMES:
                self.websub_requests.labels(mode, outcome)
        for status in STATUSES:
            self.websub_subscriptions.labels(status)
        for outcome in PAGE_OUTCOMES:
            self.page_fetches.labels(outcome)
        for outcome in FETCH_OUTCOMES:
            self.fetches.labels(outcome)
        for reason in FAILURE_REASONS:
            self.errors.labels(reason)
        for health in FEED_HEALTH:
            self.feeds.labels(health)

    def add_outlets(self, outlets: Iterable[str | None]) -> None:
        """Create the produced-articles series of these outlets (at 0 until their first article)."""
        for outlet in outlets:
            self.articles_produced.labels(outlet or UNLISTED_OUTLET)

    def produced(self, articles: Iterable[Article]) -> None:
        for outlet, count in Tally(article.source.outlet or UNLISTED_OUTLET for article in articles).items():
            self.articles_produced.labels(outlet).inc(count)

    def count_subscriptions(self, subs: Iterable[Subscription]) -> None:
        counts = Tally(sub.status for sub in subs)
        for status in STATUSES:
            self.websub_subscriptions.labels(status).set(counts[status])

    def count_health(self, states: Iterable[FeedState], now: datetime) -> None:
        counts = Tally(feed_health(state, now) for state in states)
        for health in FEED_HEALTH:
            self.feeds.labels(health).set(counts[health])

"""Prometheus metrics of the desk API, the live stream and webhook delivery, on the worker's registry.

Labels stay bounded: desk (desks are few and named by operators), the route *template* (never a path with
ids), the status class, an outcome from a fixed list. Unauthenticated requests count under desk ``-``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

WEBHOOK_ATTEMPT_OUTCOMES = ("delivered", "http_error", "redirect", "gone", "timeout", "connection_error", "refused")
WEBHOOK_RESULTS = ("delivered", "exhausted", "gone", "dropped")
AUTH_FAILURES = ("missing", "invalid")


class ApiMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "wirewatch_api_requests_total",
            "API requests by desk, route template, method and status class.",
            ["desk", "route", "method", "status_class"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "wirewatch_api_request_duration_seconds",
            "Time to answer an API request (live streams are not timed: they last as long as the client).",
            ["route", "method"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=registry,
        )
        self.auth_failures = Counter(
            "wirewatch_api_auth_failures_total",
            "Requests refused for a missing or invalid token.",
            ["reason"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "wirewatch_api_rate_limited_total", "Requests answered 429, by desk.", ["desk"], registry=registry
        )
        self.streams = Gauge("wirewatch_sse_streams", "Open live alert streams.", ["desk"], registry=registry)
        self.stream_events = Counter(
            "wirewatch_sse_events_total", "Alert events sent on live streams, by desk.", ["desk"], registry=registry
        )
        self.stream_resets = Counter(
            "wirewatch_sse_resets_total",
            "Streams that could not resume gap-free, by reason.",
            ["reason"],
            registry=registry,
        )
        self.store_alerts = Counter(
            "wirewatch_api_store_alerts_total", "Alerts added to this worker's alert store.", registry=registry
        )
        self.store_invalid = Counter(
            "wirewatch_api_store_invalid_total", "Alerts-topic records the store skipped as invalid.", registry=registry
        )
        self.webhook_attempts = Counter(
            "wirewatch_webhook_attempts_total",
            "Webhook delivery attempts by desk and outcome.",
            ["desk", "outcome"],
            registry=registry,
        )
        self.webhook_seconds = Histogram(
            "wirewatch_webhook_attempt_duration_seconds",
            "Time of one webhook delivery attempt.",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        )
        self.webhook_results = Counter(
            "wirewatch_webhook_deliveries_total",
            "Finished webhook deliveries by desk and result.",
            ["desk", "result"],
            registry=registry,
        )
        self.webhook_pending = Gauge(
            "wirewatch_webhook_pending",
            "Webhook deliveries waiting for their next attempt on this worker.",
            registry=registry,
        )
        for reason in AUTH_FAILURES:
            self.auth_failures.labels(reason)

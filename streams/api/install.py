"""Installs desk delivery on the worker: the authenticated HTTP API, the live alert stream and signed webhooks.

``install_desk_api`` is the one call ``create_app`` makes: it adds the routes and middleware to the worker's
aiohttp application, and the tasks and agent that keep the desk records, the alert store and webhook
delivery going.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from faust.types import StreamT
from faust.web.base import BlueprintManager
from faust.web.drivers.aiohttp import Web as AiohttpWeb

from connectors.core.feedlist import FeedRecord, feed_key
from connectors.core.feedstate import FeedStateRecord
from streams.api.delivery import WebhookDispatcher
from streams.api.host import WorkerHost
from streams.api.metrics import ApiMetrics
from streams.api.records import desk_view, webhook_view
from streams.api.service import DeskApi
from streams.api.store import AlertFollower, AlertStore
from streams.core.models import Alert
from streams.infra.compacted import CompactedView
from streams.infra.settings import Settings

if TYPE_CHECKING:
    import faust


def install_desk_api(app: faust.App, settings: Settings, pipeline: WorkerHost) -> DeskApi:
    metrics = ApiMetrics(pipeline.metrics.registry)
    desks = desk_view(settings, pipeline.invalid_record("desks"))
    webhooks = webhook_view(settings, pipeline.invalid_record("webhooks"))
    store = AlertStore(settings.home / "api" / f"{settings.app_id}-{settings.web_port}" / "alerts.sqlite3")

    def ingested(added: int, invalid: int) -> None:
        metrics.store_alerts.inc(added)
        metrics.store_invalid.inc(invalid)

    follower = AlertFollower(settings.kafka_bootstrap, settings.topics.alerts, store, ingested)
    feeds = CompactedView(
        settings.kafka_bootstrap, settings.topics.feeds, FeedRecord, lambda r: r.key, pipeline.invalid_record("feeds")
    )
    feed_states = CompactedView(
        settings.kafka_bootstrap, settings.topics.feed_state, FeedStateRecord, lambda r: feed_key(r.url),
        pipeline.invalid_record("feed_state"),
    )  # fmt: skip
    api = DeskApi(
        settings, pipeline.watchbook, pipeline.entities, pipeline.lookback_progress, pipeline.history, feeds,
        feed_states, desks, webhooks, store, follower, metrics,
    )  # fmt: skip
    dispatcher = WebhookDispatcher(app, settings, pipeline, webhooks, metrics)

    # Faust's own blueprints (/router, /table, and a "/" index) would expose table contents without a token
    # and take the desk page's path: this worker serves only what the OpenAPI document declares.
    web = cast(AiohttpWeb, app.web)
    web.blueprints = BlueprintManager()
    api.install(web.web_app)

    @app.task
    async def follow_desks() -> None:
        await desks.run()

    @app.task
    async def follow_feeds() -> None:
        await feeds.run()

    @app.task
    async def follow_feed_states() -> None:
        await feed_states.run()

    @app.task
    async def follow_webhooks() -> None:
        await webhooks.run()

    @app.task
    async def follow_alerts() -> None:
        await follower.run()

    @app.task
    async def send_webhooks() -> None:
        await dispatcher.run()

    @app.agent(pipeline.alerts)
    async def deliver_webhooks(stream: StreamT[bytes]) -> None:
        await webhooks.ready.wait()
        await pipeline.run_stage("webhook", stream, Alert, dispatcher.accept)

    return api

"""The desk API on the worker's aiohttp application: handlers, and one middleware for errors, access,
rate limits and metrics. Handlers get the caller's desk from the token only, and answer 404 for objects of
other desks exactly as for objects that do not exist."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import math
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any, TypeVar

from aiohttp import web
from limits import parse as parse_rate
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from pydantic import BaseModel, ValidationError

from connectors.core.errors import FeedListError
from connectors.core.feedlist import FeedRecord, feed_key, feed_spec, partition_by_host
from connectors.core.feedstate import FeedStateRecord
from streams import __version__
from streams.api.desks import (
    DeskExists,
    DeskObjects,
    NoSuchDesk,
    add_desk,
    check_known_desk,
    desk_for_token,
    is_admin_token,
    remove_desk,
    rotate_desk,
)
from streams.api.metrics import ApiMetrics
from streams.api.records import CompactedView, DeskRecord, SigningSecret, WebhookRecord, publish
from streams.api.schemas import (
    AlertItem,
    AlertPage,
    AlertQuery,
    ApiHealth,
    DeskCreate,
    DeskCreated,
    DeskList,
    DeskView,
    EntityCreate,
    EntityCreated,
    EntityList,
    EntityView,
    FeedCreate,
    FeedHealth,
    FeedList,
    FeedPause,
    FeedView,
    LookbackCreate,
    Problem,
    SecretRotated,
    StatsQuery,
    StoreStatus,
    WatchCreate,
    WatchHistory,
    WatchList,
    WatchStats,
    WatchUpdate,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookUpdate,
    WebhookView,
    WorkerHealth,
)
from streams.api.spec import PROBLEM_TYPE, STATUS_TITLES, Operation, openapi_document
from streams.api.store import AlertFollower, AlertStore, event_id, parse_event_id
from streams.core.entities import EntityError
from streams.core.errors import BrokerUnavailable
from streams.core.history import HistoryHit, LookbackProgress, LookbackStatus
from streams.core.models import DeskEntity, Watch, WireError, _one_line
from streams.infra import entities as desk_entities
from streams.infra.compacted import publish_many
from streams.infra.entities import EntityBook, build_entity, check_removable, is_visible, visible_entities
from streams.infra.lookback import check_since, forget_history, request_lookback, watch_history, watch_status
from streams.infra.settings import Settings
from streams.infra.watches import WatchBook, WatchError, build_watch, parse_duration
from streams.infra.watches import publish as publish_watch

log = logging.getLogger(__name__)

Body = TypeVar("Body", bound=BaseModel)
Result = TypeVar("Result")
STREAM_RETRY_MS = 3000
STREAM_BATCH = 200
MAX_WEBHOOKS_PER_DESK = 20
VISIBLE_WITHIN_S = 5.0
"""How long a write waits for the worker's own copy of the topic to show it (read-your-writes)."""
STATIC_FILES = {"desk.js": "text/javascript", "desk.css": "text/css"}
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class ApiProblem(Exception):
    """An error answer: raised anywhere in a handler, turned into a problem document by the middleware."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers or {}

    def response(self) -> web.Response:
        problem = Problem(
            type=f"urn:wirewatch:problem:{self.code}",
            title=STATUS_TITLES.get(self.status, "Error"),
            status=self.status,
            code=self.code,
            detail=self.detail,
        )
        return web.Response(
            status=self.status, body=problem.model_dump_json().encode(), content_type=PROBLEM_TYPE, headers=self.headers
        )


def not_found(what: str) -> ApiProblem:
    return ApiProblem(404, "not_found", f"no such {what}")


class Principal:
    """Who is calling: a desk, or the admin (``desk`` is ``None``)."""

    def __init__(self, desk: str | None) -> None:
        self.desk = desk

    @property
    def label(self) -> str:
        return self.desk or "admin"


class DeskApi:
    def __init__(
        self,
        settings: Settings,
        watchbook: WatchBook,
        entities: EntityBook,
        progress: CompactedView[LookbackProgress],
        history: CompactedView[HistoryHit],
        feeds: CompactedView[FeedRecord],
        feed_states: CompactedView[FeedStateRecord],
        desks: CompactedView[DeskRecord],
        webhooks: CompactedView[WebhookRecord],
        store: AlertStore,
        follower: AlertFollower,
        metrics: ApiMetrics,
    ) -> None:
        self.settings = settings
        self.watchbook = watchbook
        self.entities = entities
        self.progress = progress
        self.history = history
        self.feeds = feeds
        self.feed_states = feed_states
        self.desks = desks
        self.webhooks = webhooks
        self.store = store
        self.follower = follower
        self.metrics = metrics
        self.operations = self._operations()
        self._by_route = {(op.method, op.path): op for op in self.operations}
        self._rate = parse_rate(settings.api_rate_limit)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._closing = False
        self._static = {
            name: (resources.files("streams.api") / "static" / name).read_bytes()
            for name in [*STATIC_FILES, "index.html"]
        }
        self.document = openapi_document(self.operations, __version__)
        """The OpenAPI document this API serves (``docs/reference/openapi.json`` is a copy, checked by lint)."""

    # ------------------------------------------------------------------ wiring
    def install(self, web_app: web.Application) -> None:
        """Add our routes and middleware; routes served elsewhere in the worker are only declared."""
        for op in self.operations:
            if op.handler is not None:
                web_app.router.add_route(op.method, op.path, op.handler)
        web_app.middlewares.append(self.middleware)
        web_app.on_shutdown.append(self._close_streams)

    def _operations(self) -> list[Operation]:
        watch_owner: Callable[[web.Request], str | None] = lambda request: (  # noqa: E731
            w.desk if (w := self.watchbook.watches.get(request.match_info.get("watch_id", ""))) else None
        )
        return [
            Operation("GET", "/", "deskPage", "The desk page.", "public", self.page, response="text/html"),
            Operation("GET", "/assets/{name}", "deskAsset", "Scripts and styles of the desk page.", "public",
                      self.asset, response="text/plain", errors=(404,)),
            Operation("GET", "/health", "workerHealth", "Worker liveness (no token).", "public", None,
                      response=WorkerHealth, errors=(503,)),
            Operation("GET", "/metrics", "metrics", "Prometheus metrics (no token).", "public", None,
                      response="text/plain"),
            Operation("GET", "/api/v1/openapi.json", "openapi", "This document.", "public", self.openapi,
                      response="application/json"),
            Operation("GET", "/api/v1/health", "apiHealth", "Who the token is and how this endpoint is doing.",
                      "desk_or_admin", self.health, response=ApiHealth),
            Operation("GET", "/api/v1/watches", "listWatches", "The desk's watches.", "desk", self.list_watches,
                      response=WatchList),
            Operation("POST", "/api/v1/watches", "createWatch",
                      "Watch two entities appearing together (asking again updates it).", "desk", self.create_watch,
                      ok=201, response=Watch, body=WatchCreate, errors=(503,)),
            Operation("GET", "/api/v1/watches/{watch_id}", "getWatch", "One watch.", "desk", self.get_watch,
                      response=Watch),
            Operation("PATCH", "/api/v1/watches/{watch_id}", "updateWatch", "Change a watch's cooldown or channels.",
                      "desk", self.update_watch, response=Watch, body=WatchUpdate, errors=(503,)),
            Operation("DELETE", "/api/v1/watches/{watch_id}", "deleteWatch", "Remove a watch.", "desk",
                      self.delete_watch, ok=204, errors=(503,)),
            Operation("GET", "/api/v1/watches/{watch_id}/history", "watchHistory",
                      "What the watch's look backs found in the retained articles, by story (never sent as alerts).",
                      "desk", self.watch_history, response=WatchHistory),
            Operation("POST", "/api/v1/watches/{watch_id}/lookback", "lookBack",
                      "Look back over the retained articles for this watch (progress in its history).", "desk",
                      self.look_back, ok=202, response=LookbackStatus, body=LookbackCreate, errors=(503,)),
            Operation("GET", "/api/v1/entities", "listEntities",
                      "The desk's own entities and the global ones (the admin: every entity).", "desk_or_admin",
                      self.list_entities, response=EntityList),
            Operation("POST", "/api/v1/entities", "createEntity",
                      "Add an entity the registry lacks (the admin adds a global one); adding it again updates it.",
                      "desk_or_admin", self.create_entity, ok=201, response=EntityCreated, body=EntityCreate,
                      errors=(503,)),
            Operation("GET", "/api/v1/entities/{entity_id}", "getEntity", "One entity.", "desk_or_admin",
                      self.get_entity, response=EntityView),
            Operation("DELETE", "/api/v1/entities/{entity_id}", "deleteEntity",
                      "Remove an entity no watch pairs any more.", "desk_or_admin", self.delete_entity, ok=204,
                      errors=(409, 503)),
            Operation("GET", "/api/v1/watches/{watch_id}/stats", "watchStats", "Matching articles per hourly window.",
                      "desk_or_admin", None, response=WatchStats, query=StatsQuery, owner=watch_owner, errors=(503,)),
            Operation("GET", "/api/v1/alerts", "listAlerts", "The desk's alerts, newest first.", "desk",
                      self.list_alerts, response=AlertPage, query=AlertQuery),
            Operation("GET", "/api/v1/alerts/stream", "streamAlerts",
                      "Live alerts as server-sent events (`id` = cursor; send `Last-Event-ID` to resume).", "desk",
                      self.stream_alerts, response="text/event-stream", errors=(503,)),
            Operation("GET", "/api/v1/alerts/{alert_id}", "getAlert", "One alert.", "desk", self.get_alert,
                      response=AlertItem),
            Operation("GET", "/api/v1/webhooks", "listWebhooks", "The desk's webhooks.", "desk", self.list_webhooks,
                      response=WebhookList),
            Operation("POST", "/api/v1/webhooks", "createWebhook", "Add a webhook; its secret is shown once.", "desk",
                      self.create_webhook, ok=201, response=WebhookCreated, body=WebhookCreate, errors=(409, 503)),
            Operation("GET", "/api/v1/webhooks/{webhook_id}", "getWebhook", "One webhook.", "desk", self.get_webhook,
                      response=WebhookView),
            Operation("PATCH", "/api/v1/webhooks/{webhook_id}", "updateWebhook",
                      "Change a webhook (`enabled: true` re-enables one disabled by a 410).", "desk",
                      self.update_webhook, response=WebhookView, body=WebhookUpdate, errors=(503,)),
            Operation("DELETE", "/api/v1/webhooks/{webhook_id}", "deleteWebhook", "Remove a webhook.", "desk",
                      self.delete_webhook, ok=204, errors=(503,)),
            Operation("POST", "/api/v1/webhooks/{webhook_id}/rotate-secret", "rotateWebhookSecret",
                      "A new signing secret; the old one keeps signing beside it for the overlap.", "desk",
                      self.rotate_webhook_secret, response=SecretRotated, errors=(503,)),
            Operation("GET", "/api/v1/feeds", "listFeeds", "The feeds connectors poll from the feeds topic (admin).",
                      "admin", self.list_feeds, response=FeedList),
            Operation("POST", "/api/v1/feeds", "createFeed",
                      "Add (or change) a feed: polled within one connector cycle (admin).", "admin",
                      self.create_feed, ok=201, response=FeedRecord, body=FeedCreate, errors=(503,)),
            Operation("GET", "/api/v1/feeds/{feed_id}", "getFeed", "One feed (admin).", "admin", self.get_feed,
                      response=FeedRecord),
            Operation("DELETE", "/api/v1/feeds/{feed_id}", "deleteFeed", "Stop polling a feed and remove it (admin).",
                      "admin", self.delete_feed, ok=204, errors=(503,)),
            Operation("POST", "/api/v1/feeds/{feed_id}/pause", "pauseFeed", "Stop polling a feed, with a reason.",
                      "admin", self.pause_feed, response=FeedRecord, body=FeedPause, errors=(503,)),
            Operation("POST", "/api/v1/feeds/{feed_id}/resume", "resumeFeed", "Poll a paused feed again (admin).",
                      "admin", self.resume_feed, response=FeedRecord, errors=(503,)),
            Operation("GET", "/api/v1/desks", "listDesks", "All desks (admin).", "admin", self.list_desks,
                      response=DeskList),
            Operation("POST", "/api/v1/desks", "createDesk", "Add a desk; its token is shown once (admin).", "admin",
                      self.create_desk, ok=201, response=DeskCreated, body=DeskCreate, errors=(409, 503)),
            Operation("DELETE", "/api/v1/desks/{name}", "deleteDesk",
                      "Remove a desk, its watches and webhooks (admin).", "admin", self.delete_desk, ok=204,
                      errors=(503,)),
            Operation("POST", "/api/v1/desks/{name}/rotate", "rotateDeskToken",
                      "A new token for a desk; the old one stops working (admin).", "admin", self.rotate_desk,
                      response=DeskCreated, errors=(503,)),
        ]  # fmt: skip

    # ------------------------------------------------------------------ middleware
    @web.middleware
    async def middleware(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        op = self._operation(request)
        if op is None:
            if request.path.startswith("/api/"):
                status = request.match_info.http_exception.status if request.match_info.http_exception else 404
                return ApiProblem(status, "no_route", f"no {request.method} {request.path}").response()
            response: web.StreamResponse = await handler(request)
            return response
        started = time.perf_counter()
        desk_label = "-"
        try:
            principal = await self._admit(request, op)
            desk_label = principal.label if principal else "-"
            response = await handler(request)
        except ApiProblem as problem:
            response = problem.response()
        except web.HTTPException as err:
            response = ApiProblem(err.status, "http_error", err.reason).response()
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            response = ApiProblem(500, "internal_error", "unexpected error; it has been logged").response()
        self.metrics.requests.labels(desk_label, op.path, op.method, f"{response.status // 100}xx").inc()
        if op.response != "text/event-stream":
            self.metrics.request_seconds.labels(op.path, op.method).observe(time.perf_counter() - started)
        return response

    def _operation(self, request: web.Request) -> Operation | None:
        if request.match_info.http_exception is not None:
            return None
        route = request.match_info.route
        method = "GET" if route.method == "HEAD" else route.method
        return self._by_route.get((method, route.resource.canonical if route.resource else ""))

    async def _admit(self, request: web.Request, op: Operation) -> Principal | None:
        """Authenticate, authorise and rate-limit; raise ``ApiProblem`` to refuse."""
        if op.access == "public":
            return None
        principal = self._principal(request)
        if principal is None:
            await self._limit(f"addr:{request.remote}", "-")
            raise ApiProblem(401, "unauthorized", "a valid token is needed", {"WWW-Authenticate": "Bearer"})
        await self._limit(f"token:{principal.label}", principal.label)
        if principal.desk is None and op.access == "desk":
            raise ApiProblem(403, "desk_only", "this needs a desk token; the admin token manages desks")
        if principal.desk is not None and op.access == "admin":
            raise ApiProblem(403, "admin_only", "this needs the admin token")
        if op.owner is not None and principal.desk is not None and op.owner(request) != principal.desk:
            raise not_found("watch")
        request["principal"] = principal
        if op.query is not None:
            try:
                request["query"] = op.query.model_validate(dict(request.query))
            except ValidationError as err:
                raise ApiProblem(400, "invalid_query", _one_line(err)) from err
        if op.body is not None:
            request["body"] = await self._read_body(request)
        return principal

    def _principal(self, request: web.Request) -> Principal | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            self.metrics.auth_failures.labels("missing").inc()
            return None
        token = token.strip()
        if is_admin_token(self.settings, token):
            return Principal(None)
        desk = desk_for_token(self.desks.records.values(), token)
        if desk is None:
            self.metrics.auth_failures.labels("invalid").inc()
            return None
        return Principal(desk.name)

    async def _limit(self, key: str, desk_label: str) -> None:
        if await self._limiter.hit(self._rate, key):
            return
        reset_at, _ = await self._limiter.get_window_stats(self._rate, key)
        self.metrics.rate_limited.labels(desk_label).inc()
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise ApiProblem(
            429, "rate_limited", f"limit is {self.settings.api_rate_limit}", {"Retry-After": str(retry_after)}
        )

    async def _read_body(self, request: web.Request) -> bytes:
        limit = self.settings.api_max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise ApiProblem(413, "body_too_large", f"request bodies are limited to {limit} bytes")
        body = bytearray()
        async for chunk in request.content.iter_chunked(16384):
            body += chunk
            if len(body) > limit:
                raise ApiProblem(413, "body_too_large", f"request bodies are limited to {limit} bytes")
        return bytes(body)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _desk(request: web.Request) -> str:
        principal: Principal = request["principal"]
        assert principal.desk is not None  # guaranteed by the operation's access
        return principal.desk

    @staticmethod
    def _parse(request: web.Request, model: type[Body]) -> Body:
        try:
            data = json.loads(request["body"] or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ApiProblem(400, "invalid_json", f"the body is not JSON: {err}") from err
        if not isinstance(data, dict):
            raise ApiProblem(400, "invalid_json", "the body must be a JSON object")
        try:
            return model.model_validate(data)
        except ValidationError as err:
            raise ApiProblem(422, "invalid_body", _one_line(err)) from err

    @staticmethod
    def _json(model: BaseModel | dict[str, Any], status: int = 200) -> web.Response:
        text = model.model_dump_json() if isinstance(model, BaseModel) else json.dumps(model)
        return web.Response(status=status, text=text, content_type="application/json")

    @staticmethod
    async def _write(write: Callable[[], Result]) -> Result:
        """Run a blocking Kafka write off the event loop; a broker problem is a 503."""
        try:
            return await asyncio.to_thread(write)
        except BrokerUnavailable as err:
            raise ApiProblem(503, "broker_unavailable", str(err)) from err

    @staticmethod
    async def _visible(check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + VISIBLE_WITHIN_S
        while not check() and time.monotonic() < deadline:  # noqa: ASYNC110 - the watch book has no change event
            await asyncio.sleep(0.05)

    def _own_watch(self, request: web.Request) -> Watch:
        watch = self.watchbook.watches.get(request.match_info["watch_id"])
        if watch is None or watch.desk != self._desk(request):
            raise not_found("watch")
        return watch

    def _own_webhook(self, request: web.Request) -> WebhookRecord:
        hook = self.webhooks.records.get(request.match_info["webhook_id"])
        if hook is None or hook.desk != self._desk(request):
            raise not_found("webhook")
        return hook

    # ------------------------------------------------------------------ page and document
    async def page(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=self._static["index.html"], content_type="text/html", headers=PAGE_HEADERS)

    async def asset(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC_FILES:
            raise ApiProblem(404, "not_found", "no such asset")
        return web.Response(body=self._static[name], content_type=STATIC_FILES[name], headers=PAGE_HEADERS)

    async def openapi(self, request: web.Request) -> web.StreamResponse:
        return self._json(self.document)

    async def health(self, request: web.Request) -> web.StreamResponse:
        desk = request["principal"].desk
        watches = [w for w in self.watchbook.watches.values() if desk in (None, w.desk)]
        ready = self.watchbook.ready.is_set() and self.desks.ready.is_set() and self.follower.caught_up.is_set()
        store = StoreStatus(
            generation=self.store.generation,
            head=event_id(self.store.generation, self.store.head()),
            caught_up=self.follower.caught_up.is_set(),
        )
        return self._json(ApiHealth(status="ok" if ready else "starting", desk=desk, watches=len(watches), store=store))

    # ------------------------------------------------------------------ watches
    async def list_watches(self, request: web.Request) -> web.StreamResponse:
        desk = self._desk(request)
        watches = sorted((w for w in self.watchbook.watches.values() if w.desk == desk), key=lambda w: w.watch_id)
        return self._json(WatchList(watches=watches))

    async def create_watch(self, request: web.Request) -> web.StreamResponse:
        desk, spec = self._desk(request), self._parse(request, WatchCreate)
        try:
            since_s = self._since(spec.since) if spec.since is not None else None
            watch = await asyncio.to_thread(
                build_watch,
                desk,
                spec.entities,
                scope=spec.scope,
                topics=spec.topics,
                state_sourced_only=spec.state_sourced_only,
                cooldown_s=spec.cooldown_s,
                channels=spec.channels,
                desk_entities=visible_entities(self.entities.records, desk),
                surges=spec.surges,
                surge_min_count=spec.surge_min_count,
            )
        except WatchError as err:
            raise ApiProblem(422, "invalid_watch", str(err)) from err
        await self._write(lambda: publish_watch(self.settings, watch.watch_id, watch))
        await self._visible(lambda: self.watchbook.watches.get(watch.watch_id) == watch)
        if since_s is not None:
            await self._write(lambda: request_lookback(self.settings, watch, since_s, datetime.now(UTC)))
        return self._json(watch, status=201)

    @staticmethod
    def _since(text: str) -> int:
        """A look-back duration, checked against the retention (``WatchError`` when it cannot be honoured)."""
        since_s = parse_duration(text)
        check_since(since_s)
        return since_s

    async def look_back(self, request: web.Request) -> web.StreamResponse:
        watch, spec = self._own_watch(request), self._parse(request, LookbackCreate)
        try:
            since_s = self._since(spec.since)
        except WatchError as err:
            raise ApiProblem(422, "invalid_lookback", str(err)) from err
        asked = await self._write(lambda: request_lookback(self.settings, watch, since_s, datetime.now(UTC)))
        status = LookbackStatus(
            lookback_id=asked.lookback_id, state="running" if asked.jobs else "done", jobs=max(len(asked.jobs), 1),
            jobs_done=0 if asked.jobs else 1, scanned=0, total=asked.total, matches=0,
        )  # fmt: skip
        return self._json(status, status=202)

    async def watch_history(self, request: web.Request) -> web.StreamResponse:
        watch = self._own_watch(request)
        stories = watch_history(self.history.records, watch.watch_id)
        status = watch_status(self.progress.records, watch.watch_id)
        return self._json(WatchHistory(watch_id=watch.watch_id, lookback=status, stories=stories))

    async def get_watch(self, request: web.Request) -> web.StreamResponse:
        return self._json(self._own_watch(request))

    async def update_watch(self, request: web.Request) -> web.StreamResponse:
        watch, change = self._own_watch(request), self._parse(request, WatchUpdate)
        try:
            updated = Watch.from_wire({**watch.to_wire(), **change.model_dump(exclude_none=True)})
        except WireError as err:
            raise ApiProblem(422, "invalid_watch", str(err)) from err
        await self._write(lambda: publish_watch(self.settings, updated.watch_id, updated))
        await self._visible(lambda: self.watchbook.watches.get(updated.watch_id) == updated)
        return self._json(updated)

    async def delete_watch(self, request: web.Request) -> web.StreamResponse:
        watch = self._own_watch(request)
        await self._write(lambda: publish_watch(self.settings, watch.watch_id, None))
        hits, progress = self.history.records, self.progress.records
        await self._write(lambda: forget_history(self.settings, watch.watch_id, hits, progress))
        await self._visible(lambda: watch.watch_id not in self.watchbook.watches)
        return web.Response(status=204)

    # ------------------------------------------------------------------ desk entities
    def _visible_entity(self, request: web.Request) -> DeskEntity:
        """An entity the caller may see (its own or a global one; the admin: any), else 404."""
        entity = self.entities.records.get(request.match_info["entity_id"])
        if entity is None or not is_visible(entity, self._caller(request)):
            raise not_found("entity")
        return entity

    @staticmethod
    def _caller(request: web.Request) -> str | None:
        principal: Principal = request["principal"]
        return principal.desk

    async def list_entities(self, request: web.Request) -> web.StreamResponse:
        visible = visible_entities(self.entities.records, self._caller(request))
        ordered = sorted(visible.values(), key=lambda e: (e.desk or "", e.name.casefold(), e.entity_id))
        return self._json(EntityList(entities=[EntityView.of(e) for e in ordered]))

    async def get_entity(self, request: web.Request) -> web.StreamResponse:
        return self._json(EntityView.of(self._visible_entity(request)))

    async def create_entity(self, request: web.Request) -> web.StreamResponse:
        desk, spec = self._caller(request), self._parse(request, EntityCreate)
        try:
            plan = await asyncio.to_thread(
                build_entity, desk, spec.name, spec.type, spec.aliases, context=spec.context,
                wikidata_id=spec.wikidata_id, case_sensitive=spec.case_sensitive, now=datetime.now(UTC),
            )  # fmt: skip
        except EntityError as err:
            raise ApiProblem(422, "invalid_entity", str(err)) from err
        entity = plan.entity
        await self._write(lambda: desk_entities.publish(self.settings, entity.entity_id, entity))
        self.entities.apply(entity.entity_id.encode(), entity.to_json())
        created = EntityCreated(**EntityView.of(entity).model_dump(), warnings=list(plan.warnings))
        return self._json(created, status=201)

    async def delete_entity(self, request: web.Request) -> web.StreamResponse:
        entity = self._visible_entity(request)
        if entity.desk != self._caller(request) and self._caller(request) is not None:
            raise ApiProblem(403, "global_entity", "a global entity is removed with the admin token")
        try:
            check_removable(entity, ((w.watch_id, w.entities) for w in self.watchbook.watches.values()))
        except EntityError as err:
            raise ApiProblem(409, "entity_watched", str(err)) from err
        await self._write(lambda: desk_entities.publish(self.settings, entity.entity_id, None))
        self.entities.apply(entity.entity_id.encode(), None)
        return web.Response(status=204)

    # ------------------------------------------------------------------ alerts
    async def list_alerts(self, request: web.Request) -> web.StreamResponse:
        desk, query = self._desk(request), request["query"]
        assert isinstance(query, AlertQuery)
        before = self._page_cursor(query.cursor) if query.cursor else None
        rows = self.store.query(
            desk, since=query.since, until=query.until, watch_id=query.watch, before=before, limit=query.limit,
            kind=query.kind,
        )  # fmt: skip
        generation = self.store.generation
        next_cursor = _encode_cursor(event_id(generation, rows[-1].cursor)) if len(rows) == query.limit else None
        page = {
            "alerts": [row.item(generation) for row in rows],
            "next_cursor": next_cursor,
            "stream_cursor": event_id(generation, self.store.head()),
        }
        return self._json(AlertPage.model_validate(page))

    def _page_cursor(self, cursor: str) -> int:
        try:
            text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            text = ""
        parsed = parse_event_id(self.store.generation, text)
        if parsed is None:
            raise ApiProblem(400, "invalid_cursor", "the cursor is not one of this endpoint's (query again without it)")
        return parsed

    async def get_alert(self, request: web.Request) -> web.StreamResponse:
        row = self.store.get(self._desk(request), request.match_info["alert_id"])
        if row is None:
            raise not_found("alert")
        return self._json(row.item(self.store.generation))

    async def stream_alerts(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: ``alert`` events with the cursor as id, heartbeats, a ``reset`` event when the
        requested ``Last-Event-ID`` cannot be resumed gap-free (then the stream goes on from the newest alert)."""
        desk = self._desk(request)
        try:
            await asyncio.wait_for(self.follower.caught_up.wait(), 30)
        except TimeoutError as err:
            raise ApiProblem(503, "starting", "the alert store is still catching up; retry shortly") from err
        generation = self.store.generation
        cursor, reset = self._stream_start(desk, request.headers.get("Last-Event-ID"))
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )
        await response.prepare(request)
        self.metrics.streams.labels(desk).inc()
        try:
            await response.write(f"retry: {STREAM_RETRY_MS}\n\n".encode())
            if reset is not None:
                self.metrics.stream_resets.labels(reset).inc()
                data = json.dumps({"reason": reset, "cursor": event_id(generation, cursor)})
                await response.write(f"id: {event_id(generation, cursor)}\nevent: reset\ndata: {data}\n\n".encode())
            last_write = time.monotonic()
            while not self._closing:
                rows = self.store.after(desk, cursor, STREAM_BATCH)
                for row in rows:
                    data = json.dumps(row.item(generation), ensure_ascii=False)
                    await response.write(
                        f"id: {event_id(generation, row.cursor)}\nevent: alert\ndata: {data}\n\n".encode()
                    )
                    cursor = row.cursor
                if rows:
                    self.metrics.stream_events.labels(desk).inc(len(rows))
                    last_write = time.monotonic()
                    continue
                heartbeat = self.settings.sse_heartbeat_s
                await self.store.wait_for_new(max(0.0, heartbeat - (time.monotonic() - last_write)))
                if time.monotonic() - last_write >= heartbeat:
                    await response.write(b": heartbeat\n\n")
                    last_write = time.monotonic()
        except (ConnectionResetError, asyncio.CancelledError):
            pass  # the client went away
        finally:
            self.metrics.streams.labels(desk).dec()
        return response

    def _stream_start(self, desk: str, last_event_id: str | None) -> tuple[int, str | None]:
        """Where a stream starts, and why it could not resume where asked (``None``: it can)."""
        head = self.store.head()
        if last_event_id is None:
            return head, None
        cursor = parse_event_id(self.store.generation, last_event_id)
        if cursor is None:
            return head, "unknown_cursor"
        problem = self.store.resume_problem(desk, cursor, time.time(), self.settings.sse_retention_s)
        return (head, problem) if problem else (cursor, None)

    async def _close_streams(self, app: web.Application) -> None:
        """On shutdown, end live streams at once instead of holding the worker's stop for a minute."""
        self._closing = True
        self.store.wake_all()

    # ------------------------------------------------------------------ webhooks
    async def list_webhooks(self, request: web.Request) -> web.StreamResponse:
        desk = self._desk(request)
        hooks = sorted((h for h in self.webhooks.records.values() if h.desk == desk), key=lambda h: h.created_at)
        return self._json(WebhookList(webhooks=[WebhookView.of(h) for h in hooks]))

    def _check_target(self, url: str) -> None:
        from streams.infra.url_guard import UrlGuard, UrlRefused

        try:
            parsed = UrlGuard(allow_private_networks=self.settings.allow_private_networks).check_url(url)
        except (UrlRefused, ValueError) as err:
            raise ApiProblem(422, "invalid_url", str(err)) from err
        if parsed.scheme != "https" and not self.settings.allow_private_networks:
            raise ApiProblem(422, "invalid_url", "webhook URLs must use https")

    async def _save_webhook(self, record: WebhookRecord | None, webhook_id: str) -> None:
        await self._write(lambda: publish(self.settings, self.settings.topics.webhooks, webhook_id, record))
        self.webhooks.apply(webhook_id.encode(), record.to_json() if record else None)

    async def create_webhook(self, request: web.Request) -> web.StreamResponse:
        desk, spec = self._desk(request), self._parse(request, WebhookCreate)
        self._check_target(spec.url)
        if sum(1 for h in self.webhooks.records.values() if h.desk == desk) >= MAX_WEBHOOKS_PER_DESK:
            raise ApiProblem(409, "too_many_webhooks", f"a desk has at most {MAX_WEBHOOKS_PER_DESK} webhooks")
        now = datetime.now(UTC)
        secret = new_signing_secret()
        record = WebhookRecord(
            webhook_id=f"wh-{secrets.token_hex(8)}",
            desk=desk,
            url=spec.url,
            format=spec.format,
            description=spec.description,
            secrets=(SigningSecret(secret=secret),),
            created_at=now,
            updated_at=now,
        )
        await self._save_webhook(record, record.webhook_id)
        created = WebhookCreated(**WebhookView.of(record).model_dump(), secret=secret)
        return self._json(created, status=201)

    async def get_webhook(self, request: web.Request) -> web.StreamResponse:
        return self._json(WebhookView.of(self._own_webhook(request)))

    async def update_webhook(self, request: web.Request) -> web.StreamResponse:
        hook, change = self._own_webhook(request), self._parse(request, WebhookUpdate)
        if change.url is not None:
            self._check_target(change.url)
        update: dict[str, Any] = {**change.model_dump(exclude_none=True), "updated_at": datetime.now(UTC)}
        if change.enabled:
            update["disabled_reason"] = None
        elif change.enabled is False:
            update["disabled_reason"] = "disabled by the desk"
        updated = hook.model_copy(update=update)
        await self._save_webhook(updated, hook.webhook_id)
        return self._json(WebhookView.of(updated))

    async def delete_webhook(self, request: web.Request) -> web.StreamResponse:
        hook = self._own_webhook(request)
        await self._save_webhook(None, hook.webhook_id)
        return web.Response(status=204)

    async def rotate_webhook_secret(self, request: web.Request) -> web.StreamResponse:
        hook = self._own_webhook(request)
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=self.settings.webhook_secret_overlap_s)
        kept = [s.model_copy(update={"expires_at": expires}) for s in hook.secrets if s.expires_at is None]
        secret = new_signing_secret()
        updated = hook.model_copy(update={"secrets": (SigningSecret(secret=secret), *kept), "updated_at": now})
        await self._save_webhook(updated, hook.webhook_id)
        return self._json(SecretRotated(secret=secret, previous_secret_expires_at=expires))

    # ------------------------------------------------------------------ feeds (admin)
    def _feed(self, request: web.Request) -> FeedRecord:
        feed_id = request.match_info["feed_id"]
        found = next((r for r in self.feeds.records.values() if r.feed_id == feed_id), None)
        if found is None:
            raise not_found("feed")
        return found

    async def _save_feed(self, key: str, record: FeedRecord | None) -> None:
        await self._write(
            lambda: publish_many(self.settings, self.settings.topics.feeds, [(key, record)], partition_by_host)
        )
        self.feeds.apply(key.encode(), record.to_json() if record is not None else None)

    async def list_feeds(self, request: web.Request) -> web.StreamResponse:
        health, now = self.feed_states.records, datetime.now(UTC)
        views = [
            FeedView(feed=record, health=FeedHealth.of(health[key], now) if key in health else None)
            for key, record in sorted(self.feeds.records.items())
        ]
        return self._json(FeedList(feeds=views))

    async def get_feed(self, request: web.Request) -> web.StreamResponse:
        return self._json(self._feed(request))

    async def create_feed(self, request: web.Request) -> web.StreamResponse:
        from streams.infra.url_guard import UrlGuard, UrlRefused

        spec_in = self._parse(request, FeedCreate)
        try:
            spec = feed_spec(
                spec_in.url, spec_in.name, outlet=spec_in.outlet, language=spec_in.language,
                interval=spec_in.interval, tags=tuple(spec_in.tags), fulltext=spec_in.fulltext,
                priority=spec_in.priority,
            )  # fmt: skip
            guard = UrlGuard(allow_private_networks=self.settings.allow_private_networks)
            await asyncio.to_thread(guard.check_resolved, spec.url)
        except FeedListError as err:
            raise ApiProblem(422, "invalid_feed", str(err)) from err
        except UrlRefused as err:
            raise ApiProblem(422, "invalid_url", str(err)) from err
        known = self.feeds.records.get(feed_key(spec.url))
        record = FeedRecord.of(spec, datetime.now(UTC))
        if known is not None:  # a changed feed keeps its paused state
            record = record.model_copy(update={"paused": known.paused, "paused_reason": known.paused_reason})
        await self._save_feed(record.key, record)
        return self._json(record, status=201)

    async def delete_feed(self, request: web.Request) -> web.StreamResponse:
        record = self._feed(request)
        await self._save_feed(record.key, None)
        return web.Response(status=204)

    async def pause_feed(self, request: web.Request) -> web.StreamResponse:
        record, pause = self._feed(request), self._parse(request, FeedPause)
        update = {"paused": True, "paused_reason": pause.reason, "updated_at": datetime.now(UTC)}
        paused = record.model_copy(update=update)
        await self._save_feed(record.key, paused)
        return self._json(paused)

    async def resume_feed(self, request: web.Request) -> web.StreamResponse:
        record = self._feed(request)
        resumed = record.model_copy(update={"paused": False, "paused_reason": None, "updated_at": datetime.now(UTC)})
        await self._save_feed(record.key, resumed)
        return self._json(resumed)

    # ------------------------------------------------------------------ desks (admin)
    async def list_desks(self, request: web.Request) -> web.StreamResponse:
        desks = sorted(self.desks.records.values(), key=lambda d: d.name)
        return self._json(DeskList(desks=[_desk_view(d) for d in desks]))

    async def create_desk(self, request: web.Request) -> web.StreamResponse:
        name = self._parse(request, DeskCreate).name
        try:
            desk, token = await self._desk_write(
                lambda: add_desk(self.settings, name, self.desks.records, datetime.now(UTC))
            )
        except DeskExists as err:  # add_desk checks before it publishes anything
            raise ApiProblem(409, "desk_exists", str(err)) from err
        return self._json(DeskCreated(**_desk_view(desk).model_dump(), token=token), status=201)

    async def rotate_desk(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        current = self._known_desk(name)
        desk, token = await self._desk_write(lambda: rotate_desk(self.settings, current, name, datetime.now(UTC)))
        return self._json(DeskCreated(**_desk_view(desk).model_dump(), token=token))

    def _known_desk(self, name: str) -> DeskRecord:
        try:
            check_known_desk(name, self.desks.records)
        except NoSuchDesk as err:
            raise not_found("desk") from err
        return self.desks.records[name]

    async def _desk_write(self, write: Callable[[], tuple[DeskRecord, str]]) -> tuple[DeskRecord, str]:
        desk, token = await self._write(write)
        self.desks.apply(desk.name.encode(), desk.to_json())
        return desk, token

    async def delete_desk(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self._known_desk(name)
        owned = DeskObjects(
            watches=[w.watch_id for w in self.watchbook.watches.values() if w.desk == name],
            webhooks=[h.webhook_id for h in self.webhooks.records.values() if h.desk == name],
            entities=[e.entity_id for e in self.entities.records.values() if e.desk == name],
            history=[key for key, hit in self.history.records.items() if hit.candidate.watch.desk == name],
            progress=[key for key, p in self.progress.records.items() if p.desk == name],
        )
        await self._write(lambda: remove_desk(self.settings, name, owned))
        self.desks.apply(name.encode(), None)
        for webhook_id in owned.webhooks:
            self.webhooks.apply(webhook_id.encode(), None)
        for entity_id in owned.entities:
            self.entities.apply(entity_id.encode(), None)
        return web.Response(status=204)


def new_signing_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _desk_view(desk: DeskRecord) -> DeskView:
    return DeskView(name=desk.name, created_at=desk.created_at, rotated_at=desk.rotated_at)


def _encode_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

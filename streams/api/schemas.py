"""Request and response bodies of the desk API: pydantic models that validate requests, shape responses and
generate the OpenAPI document (one definition each). Request models ignore unknown fields, so a ``desk`` in
a body has no effect (mass assignment): the desk always comes from the token."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from connectors.core.feedlist import FeedRecord
from connectors.core.feedstate import FeedStateRecord
from connectors.core.schedule import FeedHealth as FeedHealthStatus
from connectors.core.schedule import feed_health
from streams.api.records import DESK_NAME_PATTERN, WebhookFormat, WebhookRecord
from streams.core.alerts import HOURLY_WINDOWS_KEPT
from streams.core.entities import MAX_CONTEXT, MAX_NAMES
from streams.core.history import HistoryStory, LookbackStatus
from streams.core.models import Alert, AlertKind, DeskEntity, EntityType, Watch, WatchScope

MAX_ALERTS_PAGE = 500
Label = Annotated[str, Field(min_length=1, max_length=100)]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WatchCreate(RequestModel):
    entities: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(min_length=1, max_length=2)]
    """Two registry or desk-entity ids or names (the same resolution as ``wirewatch watch add``); one, with
    ``surges``, to be told of that entity's surges only."""
    scope: WatchScope = "article"
    topics: Annotated[list[Label], Field(max_length=20)] = []
    state_sourced_only: bool = False
    cooldown_s: Annotated[int, Field(ge=0, le=30 * 86400)] = 6 * 3600
    channels: Annotated[list[Label], Field(max_length=20)] = []
    surges: bool = False
    """Also alert (kind ``surge``) when the pair's articles grow fast against its recent days."""
    surge_min_count: Annotated[int, Field(ge=2, le=10_000)] = 5
    since: Annotated[str, Field(min_length=1, max_length=20)] | None = None
    """Also look back this far over the retained articles (``7d``): the matches become the watch's history."""


class LookbackCreate(RequestModel):
    since: Annotated[str, Field(min_length=1, max_length=20)] = "7d"
    """How far back: ``12h``, ``7d`` (at most the articles' retention)."""


class EntityCreate(RequestModel):
    """A desk's own entity. The desk comes from the token; the admin token makes a global one."""

    name: Annotated[str, Field(min_length=1, max_length=500)]
    type: EntityType
    aliases: Annotated[list[Annotated[str, Field(max_length=500)]], Field(max_length=MAX_NAMES - 1)] = []
    """Other names, in any script (at most 99: the name and its aliases make at most 100)."""
    wikidata_id: Annotated[str, Field(pattern=r"^Q[1-9][0-9]*$")] | None = None
    context: Annotated[list[Annotated[str, Field(max_length=60)]], Field(max_length=MAX_CONTEXT)] = []
    """Words one of which must be near a short or common name for it to count."""
    case_sensitive: bool = False


class FeedCreate(RequestModel):
    """A feed, checked by the feed list's rules and the URL guard (admin)."""

    url: Annotated[str, Field(min_length=1, max_length=2048)]
    name: Annotated[str, Field(max_length=200)] | None = None
    outlet: Annotated[str, Field(max_length=64)] | None = None
    language: Annotated[str, Field(max_length=35)] | None = None
    interval: Annotated[str, Field(max_length=20)] | None = None
    """A fixed poll interval (``15m``) instead of the adaptive one."""
    tags: Annotated[list[Label], Field(max_length=20)] = []
    fulltext: Literal["auto", "always", "never"] | None = None
    priority: Literal["normal", "high"] | None = None
    """``high``: polled every 60 s (breaking news), whatever the adaptive schedule says."""


class FeedPause(RequestModel):
    reason: Annotated[str, Field(min_length=1, max_length=200)] = "paused by an operator"


class WatchUpdate(RequestModel):
    """What can change without changing what the watch matches (that would be another watch id)."""

    cooldown_s: Annotated[int, Field(ge=0, le=30 * 86400)] | None = None
    channels: Annotated[list[Label], Field(max_length=20)] | None = None
    surges: bool | None = None
    surge_min_count: Annotated[int, Field(ge=2, le=10_000)] | None = None


class WebhookCreate(RequestModel):
    url: Annotated[str, Field(min_length=1, max_length=2048)]
    format: WebhookFormat = "standard"
    description: Annotated[str, Field(max_length=200)] = ""


class WebhookUpdate(RequestModel):
    url: Annotated[str, Field(min_length=1, max_length=2048)] | None = None
    format: WebhookFormat | None = None
    description: Annotated[str, Field(max_length=200)] | None = None
    enabled: bool | None = None


class DeskCreate(RequestModel):
    name: Annotated[str, Field(pattern=DESK_NAME_PATTERN)]


class AlertQuery(RequestModel):
    since: AwareDatetime | None = None
    """Alerts fired at or after this time (ISO-8601 with a time zone)."""
    until: AwareDatetime | None = None
    """Alerts fired before this time."""
    watch: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    kind: AlertKind | None = None
    """Only ``pair`` alerts (a watched pair in a new story) or only ``surge`` alerts."""
    limit: Annotated[int, Field(ge=1, le=MAX_ALERTS_PAGE)] = 50
    cursor: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """``next_cursor`` of the previous page (send the same filters with it)."""


class StatsQuery(RequestModel):
    hours: Annotated[int, Field(ge=1, le=HOURLY_WINDOWS_KEPT)] = 24


# --------------------------------------------------------------------------- responses
class ResponseModel(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)


class Problem(ResponseModel):
    """Every error (RFC 9457 problem details): ``code`` is stable, ``detail`` is for people."""

    type: str
    title: str
    status: int
    code: str
    detail: str


class WatchList(ResponseModel):
    watches: list[Watch]


class FeedHealth(ResponseModel):
    """A feed's polling state as its connector last recorded it."""

    status: FeedHealthStatus
    """One word: ok, failing (its last poll failed), stale (no success for over the longest interval: nobody
    polled it in time), paused, new (never polled)."""
    last_polled: AwareDatetime | None
    last_success: AwareDatetime | None
    next_poll: AwareDatetime | None
    consecutive_failures: int
    last_error: str | None
    paused_reason: str | None
    """Set when the connector paused the feed itself (it is gone, or failed too often)."""

    @classmethod
    def of(cls, state: FeedStateRecord, now: datetime) -> FeedHealth:
        return cls(
            status=feed_health(state.state(), now), last_polled=state.last_polled, last_success=state.last_success,
            next_poll=state.next_poll,
            consecutive_failures=state.consecutive_failures, last_error=state.last_error,
            paused_reason=state.paused_reason,
        )  # fmt: skip


class FeedView(ResponseModel):
    feed: FeedRecord
    health: FeedHealth | None
    """``null`` until a connector polled it."""


class FeedList(ResponseModel):
    feeds: list[FeedView]


class EntityView(ResponseModel):
    id: str
    """Use it wherever a registry id is (a watch's ``entities``)."""
    desk: str | None
    """The owning desk; ``null`` for a global entity."""
    name: str
    type: EntityType
    aliases: list[str]
    wikidata_id: str | None
    context: list[str]
    case_sensitive: bool
    needs_context: list[str]
    """The names that count only with a context word in their sentence (short or common words)."""
    updated_at: AwareDatetime

    @classmethod
    def of(cls, entity: DeskEntity) -> EntityView:
        return cls(
            id=entity.entity_id, desk=entity.desk, name=entity.name, type=entity.type, aliases=list(entity.aliases),
            wikidata_id=entity.wikidata_id, context=list(entity.context), case_sensitive=entity.case_sensitive,
            needs_context=list(entity.needs_context), updated_at=entity.updated_at,
        )  # fmt: skip


class EntityCreated(EntityView):
    warnings: list[str]
    """What the desk should know: names already in the registry (with their ids), weak names."""


class EntityList(ResponseModel):
    entities: list[EntityView]


class WatchHistory(ResponseModel):
    watch_id: str
    lookback: LookbackStatus | None
    """The newest look back's progress (``null``: none asked for)."""
    stories: list[HistoryStory]
    """Matches found by look backs, grouped by story as alerts are, newest first."""


class AlertItem(ResponseModel):
    cursor: str
    """This alert's live-stream event id on this API endpoint."""
    alert: Alert


class AlertPage(ResponseModel):
    alerts: list[AlertItem]
    """Newest first."""
    next_cursor: str | None
    """Pass as ``cursor`` for the next (older) page; ``null`` on the last page."""
    stream_cursor: str
    """Send as ``Last-Event-ID`` to the live stream to continue after this page without a gap."""


class WebhookView(ResponseModel):
    webhook_id: str
    url: str
    format: WebhookFormat
    description: str
    enabled: bool
    disabled_reason: str | None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    previous_secret_expires_at: AwareDatetime | None
    """While a rotated-away secret still signs deliveries beside the new one."""

    @classmethod
    def of(cls, record: WebhookRecord) -> WebhookView:
        overlapping = [s.expires_at for s in record.secrets if s.expires_at is not None]
        return cls(
            webhook_id=record.webhook_id,
            url=record.url,
            format=record.format,
            description=record.description,
            enabled=record.enabled,
            disabled_reason=record.disabled_reason,
            created_at=record.created_at,
            updated_at=record.updated_at,
            previous_secret_expires_at=max(overlapping, default=None),
        )


class WebhookCreated(WebhookView):
    secret: str
    """The signing secret (``whsec_…``): shown only in this response."""


class WebhookList(ResponseModel):
    webhooks: list[WebhookView]


class SecretRotated(ResponseModel):
    secret: str
    previous_secret_expires_at: AwareDatetime


class DeskView(ResponseModel):
    name: str
    created_at: AwareDatetime
    rotated_at: AwareDatetime | None


class DeskCreated(DeskView):
    token: str
    """The desk's API token: shown only in this response."""


class DeskList(ResponseModel):
    desks: list[DeskView]


class StoreStatus(ResponseModel):
    generation: str
    head: str
    """Event id of the newest alert this endpoint has stored (of any desk)."""
    caught_up: bool


class ApiHealth(ResponseModel):
    status: Literal["ok", "starting"]
    desk: str | None
    """The caller's desk (``null`` for the admin token)."""
    watches: int
    """The caller's watches (all watches for the admin token)."""
    store: StoreStatus


class WorkerHealth(ResponseModel):
    status: Literal["ok", "starting"]
    watches: int


class WatchStats(ResponseModel):
    hourly: dict[str, int]
    total: int
    open_stories: int
    corroborations: int

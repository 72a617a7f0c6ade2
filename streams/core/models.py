"""The wire contracts (docs/concepts/pipeline.md, "Topics and contracts"), defined once for every side.

Each model is a frozen pydantic model: the same class validates incoming JSON (``from_wire``), writes
outgoing JSON (``to_wire``) and generates ``deploy/schemas/*.json`` (``wirewatch schemas``), so the
three cannot drift apart. Datetimes are UTC-aware and serialised as ISO-8601.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from streams.core.errors import WirewatchError

SCHEMA_VERSION = 1
"""The version of every contract that has not changed since the first release."""
ARTICLE_SCHEMA_VERSION = 2
"""Articles since full text (decision 0901): ``content`` may come from the article's page (``content_source``)."""

TAGGED_SCHEMA_VERSION = 3
"""Tagged articles since desk entities (issue 14): an actor may be one of a desk's own kinds (vessel, weapon…)."""
ALERT_SCHEMA_VERSION = 2
"""Alerts since surges (issue 16): ``kind`` is ``pair`` (a watched pair in a new story) or ``surge``."""

EntityType = Literal["person", "organization", "country", "vessel", "weapon", "place", "other"]
"""What a desk-defined entity is (``DeskEntity.type``)."""
ActorType = Literal["person", "organization", "country", "outlet", "vessel", "weapon", "place", "other"]
CitationRole = Literal[
    "publisher", "dateline", "cited", "interview", "photo_credit", "descriptor", "republished", "headline"
]
WatchScope = Literal["article", "paragraph", "sentence"]
TextField = Literal["title", "summary", "content", "credits"]


def sources_content(role: CitationRole) -> bool:
    """Whether a citation in this role sources the article's content: a photo credit alone does not."""
    return role != "photo_credit"


class WireError(WirewatchError):
    """A message does not match its contract (a poison message): the reason is one line."""


def _one_line(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "message"
    more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


class WireModel(BaseModel):
    """Base of every contract: frozen, unknown fields ignored on input, JSON in and out."""

    model_config = ConfigDict(frozen=True, extra="ignore", json_schema_serialization_defaults_required=True)

    @classmethod
    def from_wire(cls, data: Any) -> Self:
        """Validate a decoded JSON object (or raw JSON bytes/str); raise ``WireError`` with one line."""
        try:
            if isinstance(data, bytes | bytearray | str):
                return cls.model_validate_json(data)
            return cls.model_validate(data)
        except ValidationError as err:
            raise WireError(f"not a valid {cls.__name__}: {_one_line(err)}") from err

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


Wire = TypeVar("Wire", bound=WireModel)


def decode(model: type[Wire], raw: bytes | None) -> Wire | WireError:
    """A record's value, or the ``WireError`` that says why it does not match ``model``'s contract — a value,
    not a raise: the stage that read it dead-letters it and goes on."""
    try:
        return model.from_wire(raw if raw is not None else b"null")
    except WireError as err:
        return err


class VersionedModel(WireModel):
    """A top-level topic payload: carries ``schema_version`` so consumers can tell contracts apart.

    A contract reads every version in ``READS`` (older records stay on the topics through an upgrade, and
    their missing fields take the defaults) and refuses the rest, naming what it reads.
    """

    schema_version: int = SCHEMA_VERSION
    TOPIC: ClassVar[str] = ""
    READS: ClassVar[frozenset[int]] = frozenset({SCHEMA_VERSION})

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value not in cls.READS:
            readable = ", ".join(str(v) for v in sorted(cls.READS))
            raise ValueError(f"unsupported schema_version {value} (this build reads {readable})")
        return value


# --------------------------------------------------------------------------- articles
class Source(WireModel):
    feed_url: str
    name: str
    domain: str
    outlet: str | None = None
    """Registry id of the publishing outlet when the feed list names it (publisher detection)."""


ContentSource = Literal["feed", "page"]


class Article(VersionedModel):
    """A normalised feed entry (``articles.raw``, key = ``id``); ``content`` is the page's main text when
    ``content_source == "page"`` (version 2), else the feed's own content."""

    TOPIC: ClassVar[str] = "articles.raw"
    # A tagged article (version 3) is an article too: its article fields are those of version 2.
    READS: ClassVar[frozenset[int]] = frozenset({1, ARTICLE_SCHEMA_VERSION, TAGGED_SCHEMA_VERSION})

    schema_version: int = ARTICLE_SCHEMA_VERSION
    id: Annotated[str, Field(min_length=1, max_length=128)]
    url: str
    title: str = ""
    summary: str = ""
    content: str = ""
    published: AwareDatetime | None = None
    fetched: AwareDatetime
    language: str | None = None
    source: Source
    credits: tuple[str, ...] = ()
    """Photo credits and figure captions (from the feed's media tags and captions, or the page's)."""
    content_source: ContentSource = "feed"
    byline: str | None = None
    """The page's byline, when its text was extracted."""


class Mention(WireModel):
    """Evidence: ``text == article.<field>[start:end]``.

    For ``field == "credits"`` the offsets address ``"\n".join(article.credits)``.
    """

    field: TextField
    start: Annotated[int, Field(ge=0)]
    end: Annotated[int, Field(ge=0)]
    text: str


class ActorTag(WireModel):
    id: str
    name: str
    type: ActorType
    country: str | None = None
    mentions: tuple[Mention, ...] = ()


class TopicTag(WireModel):
    id: str
    label: str
    score: float
    evidence: tuple[str, ...] = ()


class Outlet(WireModel):
    id: str
    name: str
    country: str | None = None
    category: str


class Citation(Outlet):
    """An outlet a text relies on, how (``role``) and where (``evidence``)."""

    role: CitationRole
    evidence: tuple[Mention, ...] = ()


class StateMedia(WireModel):
    publisher: Outlet | None = None
    cited: tuple[Citation, ...] = ()
    state_sourced: bool = False


class TaggedArticle(Article):
    """An Article plus its tags (``articles.tagged``, key = ``id``); version 3 may tag desk entities, whose
    ``type`` is one of ``EntityType``."""

    TOPIC: ClassVar[str] = "articles.tagged"
    READS: ClassVar[frozenset[int]] = frozenset({1, ARTICLE_SCHEMA_VERSION, TAGGED_SCHEMA_VERSION})

    schema_version: int = TAGGED_SCHEMA_VERSION

    actors: tuple[ActorTag, ...] = ()
    topics: tuple[TopicTag, ...] = ()
    state_media: StateMedia = StateMedia()


# --------------------------------------------------------------------------- watches and alerts
class Watch(VersionedModel):
    """A desk's standing request (``watches``, compacted, key = ``watch_id``; tombstone deletes)."""

    TOPIC: ClassVar[str] = "watches"

    watch_id: Annotated[str, Field(min_length=1, max_length=64)]
    desk: Annotated[str, Field(min_length=1, max_length=64)]
    entities: tuple[str, str] | tuple[str]
    """Two entities: a pair, alerted when they appear together in a new story. One: an entity watched for
    surges only (``surges`` must be set)."""
    scope: WatchScope = "article"
    topics: tuple[str, ...] = ()
    state_sourced_only: bool = False
    cooldown_s: Annotated[int, Field(ge=0, le=30 * 86400)] = 6 * 3600
    channels: tuple[str, ...] = ()
    surges: bool = False
    """Also alert (kind ``surge``) when the pair's articles grow fast against its recent days."""
    surge_min_count: Annotated[int, Field(ge=2, le=10_000)] = 5
    """The fewest articles in a window that can be a surge, however quiet the watch was."""

    @field_validator("entities")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("a watch needs two different entities")
        return value

    @model_validator(mode="after")
    def _one_entity_for_surges(self) -> Self:
        if not self.is_pair and not self.surges:
            raise ValueError("a watch of one entity alerts on its surges only: set surges")
        return self

    @property
    def is_pair(self) -> bool:
        return len(self.entities) == 2


DESK_ENTITY_ID_PATTERN = r"^desk:[0-9a-f]{12}$"
"""Desk entity ids: a prefix no registry id can have (registry ids are QIDs or ``ww:<kind>:<slug>``)."""
AliasText = Annotated[str, Field(min_length=1, max_length=120)]


class DeskEntity(VersionedModel):
    """A name a desk watches that the shipped registry lacks (``entities``, compacted, key = ``entity_id``;
    tombstone deletes). ``desk`` is None for a global entity (made by the admin, visible to every desk)."""

    TOPIC: ClassVar[str] = "entities"

    entity_id: Annotated[str, Field(pattern=DESK_ENTITY_ID_PATTERN)]
    desk: Annotated[str, Field(min_length=1, max_length=64)] | None
    name: Annotated[str, Field(min_length=1, max_length=120)]
    type: EntityType
    aliases: Annotated[tuple[AliasText, ...], Field(max_length=100)] = ()
    """Other names, in any script; the name itself always matches too."""
    wikidata_id: Annotated[str, Field(pattern=r"^Q[1-9][0-9]*$")] | None = None
    context: Annotated[tuple[Annotated[str, Field(min_length=1, max_length=60)], ...], Field(max_length=50)] = ()
    """Words one of which must be near a weak name (``needs_context``); each matches any word it starts."""
    case_sensitive: bool = False
    """Names match only as written (acronyms: "ISIS" the group, not "Isis" the goddess)."""
    needs_context: tuple[AliasText, ...] = ()
    """The names (of ``name`` and ``aliases``) that count only with a context word nearby: the short and the
    common ones, decided when the entity was added (``streams.core.entities``)."""
    updated_at: AwareDatetime

    @property
    def names(self) -> tuple[str, ...]:
        """The name, then the aliases."""
        return (self.name, *self.aliases)


class EntityRef(WireModel):
    id: str
    name: str


class AlertArticle(WireModel):
    id: str
    url: str
    title: str
    source: Source
    published: AwareDatetime | None = None
    content_source: ContentSource = "feed"
    """Whether the evidence was read in the page's full text or only in the feed."""


class SurgeStory(WireModel):
    story_id: str
    articles: int
    """The story's articles in the surge's window (of the latest counted)."""
    title: str
    url: str
    article_id: str


class SurgeFigures(WireModel):
    """Why a surge fired: the window's count against the count expected from the watch's recent days."""

    window_s: int
    window_start: AwareDatetime
    count: int
    expected: float
    p_value: float
    """P(a count this high | the baseline): the Poisson or, for a bursty watch, negative binomial tail."""
    top_stories: tuple[SurgeStory, ...]


AlertKind = Literal["pair", "surge"]


class Alert(VersionedModel):
    """A watched pair seen together in a new story (kind ``pair``), or the pair's articles surging (kind
    ``surge``: ``surge`` says why and names the top stories; ``story_id``, ``article`` and ``evidence`` are the
    article that tipped it) (``alerts``, key = ``alert_id``). Version 1 alerts are pair alerts."""

    TOPIC: ClassVar[str] = "alerts"
    READS: ClassVar[frozenset[int]] = frozenset({SCHEMA_VERSION, ALERT_SCHEMA_VERSION})

    schema_version: int = ALERT_SCHEMA_VERSION
    kind: AlertKind = "pair"
    alert_id: str
    watch_id: str
    desk: str
    entities: tuple[EntityRef, EntityRef] | tuple[EntityRef]
    """The watch's two entities, or its one (a surge of a one-entity watch)."""
    story_id: str
    article: AlertArticle
    evidence: tuple[str, ...]
    state_media: StateMedia
    topics: tuple[TopicTag, ...] = ()
    fired_at: AwareDatetime
    latency_s: float
    surge: SurgeFigures | None = None


class DeadLetter(VersionedModel):
    """A message a stage could not process, kept whole with the reason (``deadletter``)."""

    TOPIC: ClassVar[str] = "deadletter"

    stage: str
    reason: str
    error: str
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    payload: str
    """The original bytes, decoded as UTF-8 with replacement (or base64 when ``payload_encoding`` says so)."""
    payload_encoding: Literal["utf-8", "base64"] = "utf-8"
    failed_at: AwareDatetime


CONTRACTS: dict[str, type[VersionedModel]] = {
    "article": Article,
    "tagged_article": TaggedArticle,
    "watch": Watch,
    "desk_entity": DeskEntity,
    "alert": Alert,
    "deadletter": DeadLetter,
}

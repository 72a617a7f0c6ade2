"""The feed list: ``feeds: [{url, name, outlet?, language?, interval?, priority?, tags?, fulltext?}]``, precise errors.

The YAML is composed into nodes (not loaded into plain objects) so that every error can name the file,
the line and column, and the field: ``world.yaml:12:10: feeds[3].url: expected an http(s) URL``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, ClassVar, Literal, NoReturn, cast
from urllib.parse import urlsplit

import yaml
from pydantic import AwareDatetime, Field

from connectors.core.errors import FeedListError
from connectors.core.schedule import PRIORITIES, Cadence, Priority
from connectors.core.text import normalise_language
from connectors.core.urls import canonical_url
from streams.core.models import VersionedModel

_FIELDS = ("url", "name", "outlet", "language", "interval", "priority", "tags", "fulltext")
FULLTEXT_MODES = ("auto", "always", "never")
FulltextMode = Literal["auto", "always", "never"]
_OUTLET_ID = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_NAME_LIMIT = 120


@dataclass(frozen=True)
class FeedSpec:
    """One feed as the operator listed it. ``interval`` (when set) replaces the adaptive interval; ``priority:
    high`` polls it every minute (``connectors.core.schedule.base_interval``); ``fulltext`` says when its
    articles' pages are fetched (``connectors.core.fulltext``)."""

    url: str
    name: str
    outlet: str | None = None
    language: str | None = None
    interval: timedelta | None = None
    tags: tuple[str, ...] = ()
    fulltext: FulltextMode = "auto"
    priority: Priority = "normal"

    def cadence(self, pushed: bool = False) -> Cadence:
        return Cadence(self.interval, self.priority, pushed)


def parse_feed_list(text: str, filename: str) -> tuple[FeedSpec, ...]:
    """Validate a feed list document; raise ``FeedListError`` naming file, line, column and field."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise FeedListError(f"{_where(filename, mark)}: not valid YAML: {err.problem or err.context}") from err
    except yaml.YAMLError as err:
        raise FeedListError(f"{filename}: not valid YAML: {err}") from err
    if not isinstance(root, yaml.MappingNode):
        raise FeedListError(f"{_where(filename, root.start_mark if root else None)}: expected a mapping with 'feeds'")
    fields = _mapping(root, filename, "document")
    if "feeds" not in fields:
        raise FeedListError(f"{_where(filename, root.start_mark)}: missing field 'feeds'")
    feeds_node = fields["feeds"][1]
    if not isinstance(feeds_node, yaml.SequenceNode) or not feeds_node.value:
        raise FeedListError(f"{_where(filename, feeds_node.start_mark)}: feeds: expected a non-empty list of feeds")
    specs: list[FeedSpec] = []
    first_seen: dict[tuple[str, str], str] = {}
    for index, node in enumerate(feeds_node.value):
        spec, marks = _feed(node, filename, f"feeds[{index}]")
        for field, key in (("url", canonical_url(spec.url) or spec.url), ("name", spec.name)):
            where = f"{_where(filename, marks[field])}: feeds[{index}].{field}"
            if (field, key) in first_seen:
                raise FeedListError(f"{where}: duplicate {field} {key!r} (first at {first_seen[field, key]})")
            first_seen[field, key] = f"line {marks[field].line + 1}"
        specs.append(spec)
    return tuple(specs)


def _feed(node: yaml.Node, filename: str, path: str) -> tuple[FeedSpec, dict[str, yaml.Mark]]:
    """The feed at ``node`` and where each of its fields' values starts."""
    if not isinstance(node, yaml.MappingNode):
        raise FeedListError(f"{_where(filename, node.start_mark)}: {path}: expected a mapping with url and name")
    fields = _mapping(node, filename, path)
    for required in ("url", "name"):
        if required not in fields:
            raise FeedListError(f"{_where(filename, node.start_mark)}: {path}: missing field '{required}'")

    def scalar(field: str) -> str | None:
        if field not in fields:
            return None
        value = fields[field][1]
        if not isinstance(value, yaml.ScalarNode) or not str(value.value).strip():
            fail(field, "expected a non-empty text")
        return str(value.value).strip()

    def fail(field: str, message: str) -> NoReturn:
        raise FeedListError(f"{_where(filename, fields[field][1].start_mark)}: {path}.{field}: {message}")

    tags = _tags(fields["tags"][1], filename, f"{path}.tags") if "tags" in fields else ()
    values = {
        field: scalar(field) for field in ("url", "name", "outlet", "language", "interval", "priority", "fulltext")
    }
    spec = _checked_spec(values, tags, fail)
    return spec, {field: value.start_mark for field, (_, value) in fields.items()}


def _checked_spec(
    values: dict[str, str | None], tags: tuple[str, ...], fail: Callable[[str, str], NoReturn]
) -> FeedSpec:
    """The rules of one feed, for the YAML list and for ``feed_spec`` alike; ``fail(field, message)`` raises."""
    url = values.get("url") or ""
    if canonical_url(url) is None:
        fail("url", f"expected an http(s) URL, got {url!r}")
    name = values.get("name") or ""
    if not name:
        fail("name", "expected a non-empty text")
    if len(name) > _NAME_LIMIT:
        fail("name", f"longer than {_NAME_LIMIT} characters")
    outlet = values.get("outlet")
    if outlet is not None and not _OUTLET_ID.match(outlet):
        fail("outlet", f"expected a registry id such as 'xinhua' or 'press_tv', got {outlet!r}")
    language = values.get("language")
    if language is not None and normalise_language(language) is None:
        fail("language", f"expected a BCP-47 language tag such as 'en' or 'en-GB', got {language!r}")
    interval = values.get("interval")
    duration = _duration(interval) if interval is not None else None
    if interval is not None and duration is None:
        fail("interval", f"expected seconds or a duration such as '15m', '2h', '1d', got {interval!r}")
    priority = values.get("priority") or "normal"
    if priority not in PRIORITIES:
        fail("priority", f"expected one of {', '.join(PRIORITIES)}, got {priority!r}")
    if priority == "high" and duration is not None:
        fail("priority", "a high-priority feed is polled every minute: drop its interval")
    fulltext = values.get("fulltext") or "auto"
    if fulltext not in FULLTEXT_MODES:
        fail("fulltext", f"expected one of {', '.join(FULLTEXT_MODES)}, got {fulltext!r}")
    if any(not tag.strip() for tag in tags):
        fail("tags", "expected non-empty texts")
    return FeedSpec(
        url=url,
        name=name,
        outlet=outlet,
        language=normalise_language(language),
        interval=duration,
        tags=tuple(tag.strip() for tag in tags),
        fulltext=cast(FulltextMode, fulltext),
        priority=priority,
    )


def feed_spec(
    url: str,
    name: str | None = None,
    *,
    outlet: str | None = None,
    language: str | None = None,
    interval: str | None = None,
    tags: tuple[str, ...] = (),
    fulltext: str | None = None,
    priority: str | None = None,
) -> FeedSpec:
    """One feed from the command line or the API, checked by the feed list's rules; the name defaults to the
    URL's host and path. Raises ``FeedListError`` naming the field."""

    def fail(field: str, message: str) -> NoReturn:
        raise FeedListError(f"{field}: {message}")

    canonical = canonical_url(url.strip())
    default_name = (canonical or url).split("://", 1)[-1].rstrip("/")[:_NAME_LIMIT]
    values = {
        "url": url.strip(), "name": (name or "").strip() or default_name, "outlet": outlet or None,
        "language": language or None, "interval": interval or None, "fulltext": fulltext or None,
        "priority": priority or None,
    }  # fmt: skip
    return _checked_spec(values, tags, fail)


def feed_key(url: str) -> str:
    """A feed's key in the feeds topic: its canonical URL (two spellings of one feed are one feed)."""
    return canonical_url(url) or url


class FeedRecord(VersionedModel):
    """A feed managed at run time (``feeds``, compacted, key = ``feed_key(url)``; tombstone removes it)."""

    TOPIC: ClassVar[str] = "feeds"

    feed_id: str
    """A short stable id for paths and people (``f-`` and a hash of the key)."""
    url: str
    name: Annotated[str, Field(min_length=1, max_length=_NAME_LIMIT)]
    outlet: str | None = None
    language: str | None = None
    interval_s: float | None = None
    tags: tuple[str, ...] = ()
    fulltext: FulltextMode = "auto"
    priority: Priority = "normal"
    paused: bool = False
    paused_reason: str | None = None
    updated_at: AwareDatetime

    @classmethod
    def of(cls, spec: FeedSpec, now: datetime, paused: bool = False, paused_reason: str | None = None) -> FeedRecord:
        return cls(
            feed_id=feed_id_for(spec.url), url=spec.url, name=spec.name, outlet=spec.outlet, language=spec.language,
            interval_s=spec.interval.total_seconds() if spec.interval else None, tags=spec.tags,
            fulltext=spec.fulltext, priority=spec.priority, paused=paused, paused_reason=paused_reason, updated_at=now,
        )  # fmt: skip

    @property
    def key(self) -> str:
        return feed_key(self.url)

    def spec(self) -> FeedSpec:
        interval = timedelta(seconds=self.interval_s) if self.interval_s else None
        return FeedSpec(
            self.url, self.name, self.outlet, self.language, interval, self.tags, self.fulltext, self.priority
        )

    def same_feed(self, other: FeedRecord) -> bool:
        """The same feed settings, whatever the time stamp (a sync leaves such a record alone)."""
        return self.model_copy(update={"updated_at": other.updated_at}) == other


def feed_host(url: str) -> str:
    """The host a feed is polled from, as politeness counts hosts (lower case, no port)."""
    return (urlsplit(feed_key(url)).hostname or "").lower()


def spread_by_host(feeds: Sequence[FeedSpec]) -> list[FeedSpec]:
    """The feeds taken one per host in turn (each host's own order kept): a cycle waits for its slowest host,
    whose feeds are spaced apart, so a batch of a few hosts' feeds takes a whole round of each while a batch
    spread over many hosts takes one spacing."""
    by_host: dict[str, list[FeedSpec]] = {}
    for spec in feeds:
        by_host.setdefault(feed_host(spec.url), []).append(spec)
    queues = list(by_host.values())
    return [queue[turn] for turn in range(max(map(len, queues), default=0)) for queue in queues if turn < len(queue)]


def host_partition(url: str, partitions: int) -> int:
    """Every feed of one host on one partition (a stable hash, the same in every process): whoever owns the
    partition owns the host, and per-host politeness holds within one process."""
    return int.from_bytes(hashlib.blake2b(feed_host(url).encode(), digest_size=8).digest(), "big") % partitions


def partition_by_host(key: str, _record: object, partitions: int) -> int:
    """``publish_many``'s placement of a feed record by its key (the canonical URL)."""
    return host_partition(key, partitions)


def feed_id_for(url: str) -> str:
    return "f-" + hashlib.blake2b(feed_key(url).encode(), digest_size=6).hexdigest()


def _mapping(node: yaml.MappingNode, filename: str, path: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    fields: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    allowed = ("feeds",) if path == "document" else _FIELDS
    for key, value in node.value:
        name = str(key.value) if isinstance(key, yaml.ScalarNode) else ""
        where = f"{_where(filename, key.start_mark)}: {path}"
        if name not in allowed:
            raise FeedListError(f"{where}: unknown field {name!r} (expected {', '.join(allowed)})")
        if name in fields:
            raise FeedListError(f"{where}: field {name!r} given twice")
        fields[name] = (key, value)
    return fields


def _tags(node: yaml.Node, filename: str, path: str) -> tuple[str, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise FeedListError(f"{_where(filename, node.start_mark)}: {path}: expected a list of texts")
    tags: list[str] = []
    for index, item in enumerate(node.value):
        if not isinstance(item, yaml.ScalarNode) or not str(item.value).strip():
            raise FeedListError(f"{_where(filename, item.start_mark)}: {path}[{index}]: expected a non-empty text")
        tags.append(str(item.value).strip())
    return tuple(tags)


def _duration(text: str) -> timedelta | None:
    match = _DURATION.match(text.lower())
    if not match or float(match.group(1)) <= 0:
        return None
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def _where(filename: str, mark: yaml.Mark | None) -> str:
    return f"{filename}:{mark.line + 1}:{mark.column + 1}" if mark is not None else filename

"""Desk watches on Kafka: resolving entity names through the registry, building ``Watch`` values, writing
the compacted watches topic, and ``WatchBook``, every worker's live copy of all watches with the index the
matcher uses. The CLI and the desk API both use it: one place for the rules."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence

from streams.core.alerts import WatchIndex
from streams.core.errors import WirewatchError
from streams.core.models import DeskEntity, Watch, WatchScope, WireError
from streams.core.text import lookup_key
from streams.infra import compacted
from streams.infra.compacted import CompactedView, OnInvalid
from streams.infra.settings import Settings

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class WatchError(WirewatchError):
    """A watch request cannot be honoured (unknown or ambiguous entity, bad option)."""


def parse_duration(text: str) -> int:
    """``90``, ``90s``, ``15m``, ``6h``, ``2d`` → seconds."""
    match = _DURATION.match(text)
    if not match:
        raise WatchError(f"not a duration: {text!r} (use e.g. 90s, 15m, 6h, 2d)")
    return int(float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def resolve_entity(query: str, desk_entities: Mapping[str, DeskEntity] = {}) -> tuple[str, str]:
    """A registry id or name, or the id or a name of one of ``desk_entities`` (those the desk may see) → (id,
    canonical name); unknown or ambiguous names fail with suggestions."""
    from streams.infra.registry_files import shipped_registries

    if query in desk_entities:
        return query, desk_entities[query].name
    key = lookup_key(query)
    own = [e for e in desk_entities.values() if key in {lookup_key(n) for n in e.names}]
    actors = shipped_registries().actors
    found = [(a.id, a.name, a.type) for a in actors.lookup(query)] + [(e.entity_id, e.name, e.type) for e in own]
    if len(found) == 1:
        return found[0][0], found[0][1]
    if not found:
        suggestions = ", ".join(f"{a.name} ({a.id})" for a in actors.suggest(query))
        hint = f"; did you mean: {suggestions}" if suggestions else ""
        raise WatchError(f"unknown entity {query!r}{hint}")
    choices = ", ".join(f"{name} ({entity_id}, {kind})" for entity_id, name, kind in found[:8])
    raise WatchError(f"ambiguous entity {query!r}: use one of the ids: {choices}")


def check_topics(topics: Sequence[str]) -> None:
    """Topic filters must name registry topics: a typo would otherwise silence a watch forever."""
    from streams.infra.registry_files import shipped_registries

    known = sorted(rule.id for rule in shipped_registries().topics)
    unknown = [topic for topic in topics if topic not in known]
    if unknown:
        raise WatchError(f"unknown topic(s) {', '.join(map(repr, unknown))}; known topics: {', '.join(known)}")


def watch_id_for(desk: str, entities: Sequence[str], scope: str, topics: Sequence[str], state_only: bool) -> str:
    """The same desk asking for the same thing gets the same id: adding it again updates it."""
    basis = "\x00".join([desk, *sorted(entities), scope, *sorted(topics), str(state_only)])
    return "w-" + hashlib.blake2b(basis.encode(), digest_size=6).hexdigest()


def build_watch(
    desk: str,
    entity_queries: Sequence[str],
    scope: WatchScope = "article",
    topics: Sequence[str] = (),
    state_sourced_only: bool = False,
    cooldown_s: int = 6 * 3600,
    channels: Sequence[str] = (),
    desk_entities: Mapping[str, DeskEntity] = {},
    surges: bool = False,
    surge_min_count: int = 5,
) -> Watch:
    """``desk_entities``: the desk entities this desk may pair (its own and the global ones)."""
    if len(entity_queries) not in (1, 2):
        raise WatchError(f"a watch needs two entities (or one, for its surges), got {len(entity_queries)}")
    if len(entity_queries) == 1 and not surges:
        raise WatchError('a watch of one entity alerts on its surges only: add --surges (API: "surges": true)')
    ids = [resolve_entity(query, desk_entities)[0] for query in entity_queries]
    check_topics(topics)
    try:
        return Watch.from_wire(
            {
                "watch_id": watch_id_for(desk, ids, scope, topics, state_sourced_only),
                "desk": desk,
                "entities": ids,
                "scope": scope,
                "topics": list(topics),
                "state_sourced_only": state_sourced_only,
                "cooldown_s": cooldown_s,
                "channels": list(channels),
                "surges": surges,
                "surge_min_count": surge_min_count,
            }
        )
    except WireError as err:
        raise WatchError(str(err)) from err


def publish(settings: Settings, watch_id: str, watch: Watch | None) -> None:
    """Write a watch (or a tombstone when ``watch`` is None) and wait until the broker has it."""
    compacted.publish(settings, settings.topics.watches, watch_id, watch)


def current_watches(settings: Settings, timeout_s: float = 30.0) -> dict[str, Watch]:
    """All watches as the workers will see them: the compacted topic read to its end."""
    return WatchBook(settings.kafka_bootstrap, settings.topics.watches).read(timeout_s)


class WatchBook(CompactedView[Watch]):
    """Any article may match any watch, so each worker follows the whole compacted watches topic; after every
    change the entity index is rebuilt and swapped in at once."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        on_invalid: OnInvalid | None = None,
        on_change: Callable[[Mapping[str, Watch]], None] = lambda _watches: None,
    ) -> None:
        self.index = WatchIndex.build(())

        def rebuild(watches: Mapping[str, Watch]) -> None:
            self.index = WatchIndex.build(watches.values())
            on_change(watches)

        super().__init__(bootstrap, topic, Watch, lambda watch: watch.watch_id, on_invalid, rebuild)

    @property
    def watches(self) -> Mapping[str, Watch]:
        return self.records

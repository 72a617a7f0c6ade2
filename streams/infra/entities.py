"""Desk entities on Kafka: checking a new one (with word frequencies from ``wordfreq``, decision 0904), writing
the compacted entities topic, and ``EntityBook``, every worker's live copy with the automaton rebuilt off the
event loop and swapped in. The CLI and the desk API both use it: one place for the rules."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from streams.core.entities import DeskEntityMatcher, EntityError, EntityPlan, plan_entity
from streams.core.models import DeskEntity
from streams.infra import compacted
from streams.infra.compacted import CompactedView, OnInvalid
from streams.infra.settings import Settings

log = logging.getLogger(__name__)

WORD_LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "pl", "tr", "ru", "uk", "ar", "fa")
"""Languages whose word lists say whether a name is also a common word. Chinese, Japanese and Korean are left
out: their word lists need tokenisers (jieba, MeCab) we do not ship."""


@functools.cache
def word_commonness(name: str) -> tuple[float, str] | None:
    """The highest Zipf frequency of ``name`` (as a phrase) among ``WORD_LANGUAGES``, with that language."""
    from wordfreq import zipf_frequency

    best = max(((zipf_frequency(name, language), language) for language in WORD_LANGUAGES), default=(0.0, ""))
    return best if best[0] > 0 else None


def registry_ids(name: str) -> list[str]:
    """Registry actors (people, organisations, countries) that already have this name."""
    from streams.infra.registry_files import shipped_registries

    return [actor.id for actor in shipped_registries().actors.lookup(name)]


def build_entity(
    desk: str | None,
    name: str,
    entity_type: str,
    aliases: Iterable[str] = (),
    *,
    context: Iterable[str] = (),
    wikidata_id: str | None = None,
    case_sensitive: bool = False,
    now: datetime,
) -> EntityPlan:
    """``plan_entity`` with the word lists and the shipped registry (blocking: a second the first time)."""
    return plan_entity(
        desk, name, entity_type, aliases, context=context, wikidata_id=wikidata_id, case_sensitive=case_sensitive,
        now=now, is_common=word_commonness, registry_ids=registry_ids,
    )  # fmt: skip


def is_visible(entity: DeskEntity, desk: str | None) -> bool:
    """Whether a desk sees and may watch the entity: its own and the global ones (the admin, ``None``: all)."""
    return desk is None or entity.desk in (None, desk)


def visible_entities(entities: Mapping[str, DeskEntity], desk: str | None) -> dict[str, DeskEntity]:
    """The entities ``desk`` sees (``is_visible``)."""
    return {i: e for i, e in entities.items() if is_visible(e, desk)}


def check_removable(entity: DeskEntity, watches: Iterable[tuple[str, tuple[str, ...]]]) -> None:
    """An entity a watch still names cannot go: the watch would fall silent without saying so."""
    users = sorted(watch_id for watch_id, named in watches if entity.entity_id in named)
    if users:
        raise EntityError(f"{entity.entity_id} is watched by {', '.join(users)}: remove those watches first")


def publish(settings: Settings, entity_id: str, entity: DeskEntity | None) -> None:
    """Write an entity (or a tombstone when ``entity`` is None) and wait until the broker has it."""
    compacted.publish(settings, settings.topics.entities, entity_id, entity)


def entity_view(settings: Settings) -> CompactedView[DeskEntity]:
    """A one-off reader of the entities topic (the CLI's)."""
    return CompactedView(settings.kafka_bootstrap, settings.topics.entities, DeskEntity, lambda e: e.entity_id)


def current_entities(settings: Settings, timeout_s: float = 30.0) -> dict[str, DeskEntity]:
    return entity_view(settings).read(timeout_s)


class EntityBook(CompactedView[DeskEntity]):
    """Every desk's entities, followed live; after each change the automaton is rebuilt in a thread and swapped
    in at once (``matcher``), so tagging never waits for a rebuild nor sees half of one. Changes that arrive
    during a rebuild are folded into the next one."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        on_invalid: OnInvalid | None = None,
        on_rebuilt: Callable[[int, float], None] = lambda _count, _seconds: None,
        name_forms: Callable[[str], Iterable[str]] | None = None,
    ) -> None:
        super().__init__(bootstrap, topic, DeskEntity, lambda e: e.entity_id, on_invalid, self._changed)
        self.matcher = DeskEntityMatcher(())
        self.built = asyncio.Event()
        """Set once the automaton holds every entity read at start (the tag stage waits for it)."""
        self._name_forms = name_forms
        self._on_rebuilt = on_rebuilt
        self._changes = 0
        self._rebuilding: asyncio.Task[None] | None = None

    def _changed(self, _records: Mapping[str, DeskEntity]) -> None:
        self._changes += 1
        if self._rebuilding is None or self._rebuilding.done():
            self._rebuilding = asyncio.get_running_loop().create_task(self._rebuild())

    async def _rebuild(self) -> None:
        built = -1
        while built != self._changes:
            built = self._changes
            entities = list(self.records.values())
            started = time.perf_counter()
            self.matcher = await asyncio.to_thread(DeskEntityMatcher, entities, self._name_forms, self.matcher)
            seconds = time.perf_counter() - started
            log.info("desk entities: %d compiled in %.2f s", len(entities), seconds)
            self._on_rebuilt(len(entities), seconds)
        if self.ready.is_set():
            self.built.set()

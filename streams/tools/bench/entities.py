"""``wirewatch bench entities``: what desk entities cost, beside the shipped registry alone, in one run.

1. **Rebuild** — compiling the desk-entity automaton for N generated entities (each with a Latin name, a Cyrillic
   alias and, for one in ten, context words), cold (the first build in a process, Russian case forms computed)
   and warm (what a worker pays on each later change), beside compiling the whole shipped tagger (what a design
   rebuilding everything on a desk's change would pay).
2. **Tagging** — articles per second on real teasers and full-length copy (``streams.tools.bench.prose``): the
   shipped tagger alone, with no desk entities, and with the N entities.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from streams.core.entities import DeskEntityMatcher
from streams.core.models import Article, DeskEntity, EntityType
from streams.core.tagger import Tagger
from streams.infra.inflection import name_forms
from streams.infra.registry_files import load_registries, shipped_tagger
from streams.tools.bench.prose import pipeline_workloads

_SYLLABLES = "ka ro vin tel mar so dan ul ek pra zo lin gor va shi nek tal bor ste mi ra du kov an sel tru".split()
_CYRILLIC = dict(zip("abcdefghijklmnopqrstuvwxyz", "абкдефгхийклмнопкрстуввкыз", strict=True))
_SUFFIXES = ("Shipping", "Trading LLC", "Logistics", "Maritime", "Holdings", "Energy")
_NOW = datetime(2026, 12, 4, tzinfo=UTC)


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def _cyrillic(name: str) -> str:
    return "".join(_CYRILLIC.get(c.lower(), c).upper() if c.isupper() else _CYRILLIC.get(c, c) for c in name)


def generated_entities(count: int, seed: int = 14) -> Iterator[DeskEntity]:
    """``count`` distinct entities of every type, with a Cyrillic alias each; every tenth has context words."""
    rng = random.Random(seed)  # noqa: S311 - reproducible bench data, not secrets
    kinds: Sequence[EntityType] = ("vessel", "organization", "person", "weapon", "place", "other")
    for index in range(count):
        kind = kinds[index % len(kinds)]
        first, second = _word(rng), _word(rng)
        name = {
            "vessel": f"MV {first} {second}",
            "organization": f"{first} {rng.choice(_SUFFIXES)}",
            "person": f"{first} {second}",
            "weapon": f"{first}-{rng.randint(2, 99)}",
        }.get(kind, f"{first} {second}")
        context = ("tanker", "vessel") if index % 10 == 0 else ()
        yield DeskEntity(
            entity_id=f"desk:{index:012x}", desk=f"desk-{index % 50}", name=name, type=kind,
            aliases=(_cyrillic(name),), context=context, needs_context=(name,) if context else (), updated_at=_NOW,
        )  # fmt: skip


@dataclass(frozen=True)
class EntityFigures:
    entities: int
    shipped_compile_s: float
    cold_build_s: float
    warm_build_s: float
    rates: tuple[tuple[str, str, int, float, float, float], ...]
    """(workload, source, articles, shipped alone/s, with no desk entities/s, with the entities/s)."""


def _rate(tag: Callable[[Article], object], articles: Sequence[Article], rounds: int = 3) -> float:
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        for article in articles:
            tag(article)
        best = max(best, len(articles) / (time.perf_counter() - started))
    return best


def run_entity_bench(count: int, articles: int, say: Callable[[str], None]) -> EntityFigures:
    registries = load_registries()
    started = time.perf_counter()
    tagger: Tagger = shipped_tagger(registries)
    shipped_s = time.perf_counter() - started
    entities = list(generated_entities(count))
    say(f"compiling {count} desk entities (cold, then warm)")
    started = time.perf_counter()
    matcher = DeskEntityMatcher(entities, name_forms)
    cold_s = time.perf_counter() - started
    changed = [*entities[1:], entities[0].model_copy(update={"aliases": ("Another Name",)})]
    started = time.perf_counter()
    DeskEntityMatcher(changed, name_forms, previous=matcher)
    warm_s = time.perf_counter() - started
    empty = DeskEntityMatcher(())
    rates = []
    for workload in pipeline_workloads(["teasers", "full-length"], None, None, articles, say):
        copy = workload.articles[:articles]
        say(f"tagging {len(copy)} {workload.name} articles three ways")
        alone = _rate(tagger.tag, copy)
        none = _rate(lambda a: tagger.tag(a, empty), copy)
        with_entities = _rate(lambda a: tagger.tag(a, matcher), copy)
        rates.append((workload.name, workload.source, len(copy), alone, none, with_entities))
    return EntityFigures(count, shipped_s, cold_s, warm_s, tuple(rates))


def format_figures(figures: EntityFigures) -> str:
    lines = [
        f"desk-entity automaton, {figures.entities:,} entities (name + Cyrillic alias each):",
        f"  cold build (first in a process)   {figures.cold_build_s:6.2f} s",
        f"  warm rebuild (after a change)     {figures.warm_build_s:6.2f} s",
        f"  baseline: whole shipped tagger    {figures.shipped_compile_s:6.2f} s",
        "tagging, articles/s (best of 3):",
        f"  {'workload':<12} {'articles':>8} {'shipped':>9} {'+0 desk':>9} {f'+{figures.entities:,} desk':>12}",
    ]
    for name, _source, count, alone, none, with_entities in figures.rates:
        lines.append(f"  {name:<12} {count:>8} {alone:>9,.0f} {none:>9,.0f} {with_entities:>12,.0f}")
    lines += [f"  ({name}: {source})" for name, source, *_ in figures.rates]
    return "\n".join(lines)

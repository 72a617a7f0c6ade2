"""``wirewatch entity add|list|rm``: desk-defined entities, written straight to the entities topic (workers
compile them in within seconds, without a restart)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any


def register(commands: Any, benches: Any) -> None:
    entity = commands.add_parser("entity", help="manage desk-defined entities (names the registry lacks)")
    actions = entity.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add (or update) an entity; prints its id, usable in `watch add`")
    owner = add.add_mutually_exclusive_group(required=True)
    owner.add_argument("--desk", help="the desk that owns it (only that desk sees and watches it)")
    owner.add_argument("--global", dest="is_global", action="store_true", help="visible to every desk")
    add.add_argument("name")
    add.add_argument("--type", required=True, help="person, organization, country, vessel, weapon, place or other")
    add.add_argument("--alias", action="append", default=[], dest="aliases", help="another name, any script (repeat)")
    add.add_argument("--context", action="append", default=[], help="a word that must be near a weak name (repeat)")
    add.add_argument("--wikidata", help="its Wikidata id (Q…)")
    add.add_argument("--case-sensitive", action="store_true", help="names match only as written (acronyms)")
    add.set_defaults(handler=_cmd_add)
    listing = actions.add_parser("list", help="list entities (JSON lines with --json)")
    listing.add_argument("--desk", help="only this desk's and the global ones")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_cmd_list)
    remove = actions.add_parser("rm", help="remove an entity no watch pairs")
    remove.add_argument("entity_id")
    remove.set_defaults(handler=_cmd_rm)

    bench = benches.add_parser(
        "entities", help="desk-entity automaton rebuild time and tagging cost, beside the shipped registry alone"
    )
    bench.add_argument("--entities", type=int, default=10_000, help="generated desk entities")
    bench.add_argument("--articles", type=int, default=300, help="full-length articles tagged per variant")
    bench.set_defaults(handler=_cmd_bench)


def _cmd_add(args: argparse.Namespace) -> int:
    from streams.api.desks import check_desk_name, check_known_desk
    from streams.api.records import read_desks
    from streams.infra.entities import build_entity, publish
    from streams.infra.kafka_topics import ensure_topics
    from streams.infra.settings import load_settings

    desk = None if args.is_global else check_desk_name(args.desk)
    plan = build_entity(
        desk, args.name, args.type, args.aliases, context=args.context, wikidata_id=args.wikidata,
        case_sensitive=args.case_sensitive, now=datetime.now(UTC),
    )  # fmt: skip
    settings = load_settings()
    ensure_topics(settings)
    if desk is not None:
        check_known_desk(desk, read_desks(settings))  # an entity of no desk would stay in every automaton
    publish(settings, plan.entity.entity_id, plan.entity)
    for warning in plan.warnings:
        print(f"wirewatch: warning: {warning}", file=sys.stderr)
    print(plan.entity.entity_id)
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from streams.infra.entities import current_entities, visible_entities
    from streams.infra.settings import load_settings

    entities = visible_entities(current_entities(load_settings()), args.desk)
    for entity in sorted(entities.values(), key=lambda e: (e.desk or "", e.name.casefold())):
        if args.json:
            print(json.dumps(entity.to_wire(), ensure_ascii=False))
        else:
            extras = [f"aliases={'|'.join(entity.aliases)}"] if entity.aliases else []
            extras += [f"context={'|'.join(entity.context)}"] if entity.context else []
            extras += ["case-sensitive"] if entity.case_sensitive else []
            print(f"{entity.entity_id}\t{entity.desk or '(global)'}\t{entity.type}\t{entity.name}\t{' '.join(extras)}")
    return 0


def _cmd_rm(args: argparse.Namespace) -> int:
    from streams.core.entities import EntityError
    from streams.infra.entities import check_removable, current_entities, publish
    from streams.infra.settings import load_settings
    from streams.infra.watches import current_watches

    settings = load_settings()
    entity = current_entities(settings).get(args.entity_id)
    if entity is None:
        raise EntityError(f"no entity {args.entity_id!r}")
    check_removable(entity, ((w.watch_id, w.entities) for w in current_watches(settings).values()))
    publish(settings, entity.entity_id, None)
    print(f"removed {entity.entity_id}")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from streams.tools.bench.entities import format_figures, run_entity_bench

    print(format_figures(run_entity_bench(args.entities, args.articles, lambda line: print(line, file=sys.stderr))))
    return 0

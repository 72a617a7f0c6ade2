"""``wirewatch desk add|list|rotate|rm``: desks and their API tokens, written straight to the desks topic.

A token is printed once, alone on the last line of stdout (scripts take ``| tail -1``); only its hash is
stored. Workers pick changes up within a second or so.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any


def register(commands: Any, benches: Any) -> None:
    desk = commands.add_parser("desk", help="manage desks and their API tokens")
    actions = desk.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a desk; prints its token once, on the last line")
    add.add_argument("name")
    add.set_defaults(handler=_cmd_add)
    listing = actions.add_parser("list", help="list desks (JSON lines with --json)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_cmd_list)
    rotate = actions.add_parser("rotate", help="replace a desk's token (the old one stops working); prints it")
    rotate.add_argument("name")
    rotate.set_defaults(handler=_cmd_rotate)
    remove = actions.add_parser("rm", help="remove a desk with its watches and webhooks")
    remove.add_argument("name")
    remove.set_defaults(handler=_cmd_rm)


def _cmd_add(args: argparse.Namespace) -> int:
    from streams.api.desks import add_desk, check_desk_name
    from streams.api.records import read_desks
    from streams.settings import load_settings
    from streams.topics import ensure_topics

    settings = load_settings()
    check_desk_name(args.name)
    ensure_topics(settings)
    desk, token = add_desk(settings, args.name, read_desks(settings), datetime.now(UTC))
    print(f"desk {desk.name} added; its API token (shown only now):")
    print(token)
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from streams.api.records import read_desks
    from streams.settings import load_settings

    for desk in sorted(read_desks(load_settings()).values(), key=lambda d: d.name):
        if args.json:
            print(
                json.dumps(
                    {
                        "name": desk.name,
                        "created_at": desk.created_at.isoformat(),
                        "rotated_at": desk.rotated_at.isoformat() if desk.rotated_at else None,
                    }
                )
            )
        else:
            rotated = f"\trotated {desk.rotated_at:%Y-%m-%d %H:%M}Z" if desk.rotated_at else ""
            print(f"{desk.name}\tadded {desk.created_at:%Y-%m-%d %H:%M}Z{rotated}")
    return 0


def _cmd_rotate(args: argparse.Namespace) -> int:
    from streams.api.desks import rotate_desk
    from streams.api.records import read_desks
    from streams.settings import load_settings

    settings = load_settings()
    desk, token = rotate_desk(settings, read_desks(settings).get(args.name), args.name, datetime.now(UTC))
    print(f"desk {desk.name}: new API token (the old one no longer works):")
    print(token)
    return 0


def _cmd_rm(args: argparse.Namespace) -> int:
    from streams.api.desks import remove_desk_everywhere
    from streams.settings import load_settings

    remove_desk_everywhere(load_settings(), args.name)
    print(f"removed desk {args.name} with its watches and webhooks")
    return 0

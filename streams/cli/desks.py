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

    bench = benches.add_parser("desks", help="produce→SSE and produce→webhook latency, alert query rate")
    bench.add_argument("--alerts", type=int, default=300)
    bench.add_argument("--rate", type=float, default=50.0, help="alerts/s")
    bench.add_argument("--seconds", type=float, default=5.0, help="duration of each query-rate phase")
    bench.set_defaults(handler=_cmd_bench)


def _cmd_add(args: argparse.Namespace) -> int:
    from streams.api.desks import add_desk, check_desk_name
    from streams.api.records import read_desks
    from streams.infra.kafka_topics import ensure_topics
    from streams.infra.settings import load_settings

    settings = load_settings()
    check_desk_name(args.name)
    ensure_topics(settings)
    desk, token = add_desk(settings, args.name, read_desks(settings), datetime.now(UTC))
    print(f"desk {desk.name} added; its API token (shown only now):")
    print(token)
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from streams.api.records import read_desks
    from streams.infra.settings import load_settings

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
    from streams.infra.settings import load_settings

    settings = load_settings()
    desk, token = rotate_desk(settings, read_desks(settings).get(args.name), args.name, datetime.now(UTC))
    print(f"desk {desk.name}: new API token (the old one no longer works):")
    print(token)
    return 0


def _cmd_rm(args: argparse.Namespace) -> int:
    from streams.api.desks import remove_desk_everywhere
    from streams.infra.settings import load_settings

    remove_desk_everywhere(load_settings(), args.name)
    print(f"removed desk {args.name} with its watches and webhooks")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    import secrets
    import socket
    import sys

    from streams.infra.settings import load_settings
    from streams.tools.bench.desks import format_figures, run_desk_bench

    base = load_settings()
    with socket.socket() as probe:  # a free web port: the default one may be taken by a running worker
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = load_settings(topic_prefix=f"bench-desks-{secrets.token_hex(4)}", topic_partitions=1, web_port=port)
    workdir = base.home / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    say = lambda line: print(line, file=sys.stderr)  # noqa: E731
    figures = run_desk_bench(settings, args.alerts, args.rate, args.seconds, workdir / "desks-worker.log", say)
    print(format_figures(figures))
    return 0

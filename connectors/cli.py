"""``wirewatch connect``, ``wirewatch feed parse`` and ``wirewatch bench fetch``.

Handlers import the connector modules lazily so that other sub-commands do not pay for them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

Number = TypeVar("Number", int, float)


def _progress(message: str) -> None:
    print(f"wirewatch connect: {message}", file=sys.stderr, flush=True)


def _cmd_connect(args: argparse.Namespace) -> int:
    from connectors.app import ConnectOptions, run_connect
    from streams.infra.settings import load_settings

    options = ConnectOptions(
        feeds_path=args.feeds,
        once=args.once,
        allow_private_networks=args.allow_private_networks,
        state_path=args.state,
        metrics_port=args.metrics_port,
        min_interval=timedelta(seconds=args.min_interval) if args.min_interval is not None else None,
        page_deadline=timedelta(seconds=args.page_deadline),
    )
    return run_connect(load_settings(), options, _progress)


def _cmd_feed_parse(args: argparse.Namespace) -> int:
    from connectors.offline import parse_files

    parse_files(args.files, feed_url=args.feed_url, name=args.name)
    return 0


def _cmd_bench_fetch(args: argparse.Namespace) -> int:
    from connectors.bench import run_fetch_bench

    pages_dir = args.pages or Path(
        os.environ.get("WIREWATCH_EXTRACTION_SET") or Path("..", "trafilatura-eval", "tests")
    )
    report = run_fetch_bench(args.feeds, args.entries, args.rounds, pages_dir=pages_dir, page_count=args.page_count)
    print(report.table())
    return 0


def positive(parse: Callable[[str], Number], unit: str) -> Callable[[str], Number]:
    """An argparse ``type`` that accepts only numbers above zero (``unit`` names them in the error)."""

    def parse_positive(text: str) -> Number:
        value = parse(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number of {unit}")
        return value

    return parse_positive


_positive_seconds = positive(float, "seconds")


def register(commands: Any, benches: Any) -> None:
    connect = commands.add_parser("connect", help="poll RSS/Atom feeds into <prefix>.articles.raw")
    connect.add_argument("--feeds", type=Path, required=True, help="feed list (YAML, see deploy/feeds/world.yaml)")
    connect.add_argument("--once", action="store_true", help="poll the due feeds once, then exit")
    connect.add_argument(
        "--allow-private-networks",
        action="store_true",
        help="let fetches reach loopback/private addresses (tests, demo); also WIREWATCH_ALLOW_PRIVATE_NETWORKS",
    )
    connect.add_argument(
        "--state", type=Path, default=None, help="state file (default: <home>/connector/<prefix>.sqlite3)"
    )
    connect.add_argument(
        "--metrics-port", type=int, default=None, help="serve /metrics here (default 9108 or the setting; 0 = off)"
    )
    connect.add_argument(
        "--min-interval",
        type=_positive_seconds,
        default=None,
        help="shortest interval between two polls of one feed, in seconds (default 300; for local servers)",
    )
    connect.add_argument(
        "--page-deadline",
        type=_positive_seconds,
        default=120.0,
        help="longest an article waits for its page before it is produced with the feed's text (default 120 s)",
    )
    connect.set_defaults(handler=_cmd_connect)

    feed = commands.add_parser("feed", help="offline feed tools")
    feed_actions = feed.add_subparsers(dest="feed_action", required=True, metavar="ACTION")
    parse = feed_actions.add_parser("parse", help="feed files to Article JSONL on stdout (no network, no Kafka)")
    parse.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parse.add_argument("--feed-url", default=None, help="feed URL to record as the source (default: the file's URI)")
    parse.add_argument("--name", default=None, help="feed name to record as the source (default: the file's stem)")
    parse.set_defaults(handler=_cmd_feed_parse)

    bench = benches.add_parser(
        "fetch", help="feeds/s (unchanged and changed) and article pages/s from a local server, beside baselines"
    )
    bench.add_argument("--feeds", type=int, default=200, help="feeds served by the local server")
    bench.add_argument("--entries", type=int, default=30, help="entries per feed")
    bench.add_argument("--rounds", type=int, default=3, help="measured rounds per scenario (best is reported)")
    bench.add_argument(
        "--pages",
        type=Path,
        default=None,
        metavar="DIR",
        help="real article pages: *.html under DIR (default: $WIREWATCH_EXTRACTION_SET or ../trafilatura-eval/tests)",
    )
    bench.add_argument("--page-count", type=int, default=200, help="pages to serve and extract (default 200)")
    bench.set_defaults(handler=_cmd_bench_fetch)

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
    from connectors.core.errors import ConnectorError
    from connectors.websub import parse_listen
    from streams.infra.settings import load_settings

    settings = load_settings()
    listen_text = args.websub_listen or settings.websub_listen
    try:
        listen = parse_listen(listen_text) if listen_text else None
    except ValueError as err:
        raise ConnectorError(f"--websub-listen: {err}") from err
    options = ConnectOptions(
        feeds_path=args.feeds,
        once=args.once,
        allow_private_networks=args.allow_private_networks,
        state_path=args.state,
        metrics_port=args.metrics_port,
        min_interval=timedelta(seconds=args.min_interval) if args.min_interval is not None else None,
        page_deadline=timedelta(seconds=args.page_deadline),
        websub_listen=listen,
        websub_callback_base=args.websub_callback_base or settings.websub_callback_base,
    )
    return run_connect(settings, options, _progress)


def _cmd_feed_parse(args: argparse.Namespace) -> int:
    from connectors.offline import parse_files

    parse_files(args.files, feed_url=args.feed_url, name=args.name)
    return 0


def _cmd_feed_add(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from connectors.core.feedlist import FeedRecord, feed_spec
    from connectors.feeds import check_reachable, publish_feeds
    from streams.infra.kafka_topics import ensure_topics
    from streams.infra.settings import load_settings

    settings = load_settings()
    spec = feed_spec(
        args.url, args.name, outlet=args.outlet, language=args.language, interval=args.interval,
        tags=tuple(args.tags), fulltext=args.fulltext, priority=args.priority,
    )  # fmt: skip
    check_reachable(spec.url, args.allow_private_networks or settings.allow_private_networks)
    ensure_topics(settings)
    record = FeedRecord.of(spec, datetime.now(UTC))
    publish_feeds(settings, [(record.key, record)])
    print(record.feed_id)
    return 0


def _cmd_feed_list(args: argparse.Namespace) -> int:
    import json

    from connectors.feeds import current_feed_states, current_feeds
    from streams.infra.settings import load_settings

    settings = load_settings()
    health = current_feed_states(settings) if args.health else {}
    for key, record in sorted(current_feeds(settings).items()):
        polled = health.get(key)
        if args.json:
            line = record.to_wire()
            if args.health:
                line["health"] = _health_fields(polled)
            print(json.dumps(line, ensure_ascii=False))
            continue
        state = f"paused: {record.paused_reason}" if record.paused else "active"
        fields = [record.feed_id, record.name, record.url, state]
        if args.health:
            fields.append(_health(polled))
        print("\t".join(fields))
    return 0


def _health(polled: Any) -> str:
    """One feed's health as its last owner recorded it (the state topic), its one word first."""
    from datetime import UTC, datetime

    from connectors.core.schedule import feed_health

    if polled is None:
        return "new, never polled"
    parts = [
        feed_health(polled.state(), datetime.now(UTC)),
        f"last poll {polled.last_polled:%Y-%m-%d %H:%M:%S}Z" if polled.last_polled else "never polled",
    ]
    parts.append(f"last success {polled.last_success:%Y-%m-%d %H:%M:%S}Z" if polled.last_success else "no success")
    if polled.consecutive_failures:
        parts.append(f"{polled.consecutive_failures} failures in a row: {polled.last_error}")
    if polled.paused_reason:
        parts.append(f"paused by the connector: {polled.paused_reason}")
    if polled.next_poll:
        parts.append(f"next poll {polled.next_poll:%H:%M:%S}Z")
    return ", ".join(parts)


def _health_fields(polled: Any) -> dict[str, Any] | None:
    """``--json``: the health fields the API gives (``status`` is the one word)."""
    from datetime import UTC, datetime

    from connectors.core.schedule import feed_health

    if polled is None:
        return None
    fields: dict[str, Any] = polled.model_dump(mode="json", exclude={"recent"})
    return {"status": feed_health(polled.state(), datetime.now(UTC)), **fields}


def _find_feed(records: Any, feed: str) -> Any:
    from connectors.core.errors import FeedListError
    from connectors.core.feedlist import feed_key

    found = records.get(feed_key(feed)) or next((r for r in records.values() if r.feed_id == feed), None)
    if found is None:
        raise FeedListError(f"no feed {feed!r} (give its URL or its id from `wirewatch feed list`)")
    return found


def _cmd_feed_change(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from connectors.feeds import current_feeds, publish_feeds
    from streams.infra.settings import load_settings

    settings = load_settings()
    record = _find_feed(current_feeds(settings), args.feed)
    now = datetime.now(UTC)
    if args.change == "rm":
        publish_feeds(settings, [(record.key, None)])
    else:
        paused = args.change == "pause"
        reason = args.reason if paused else None
        update = {"paused": paused, "paused_reason": reason, "updated_at": now}
        publish_feeds(settings, [(record.key, record.model_copy(update=update))])
    print(f"{args.change} {record.feed_id} ({record.url})")
    return 0


def _cmd_feed_sync(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from connectors.app import load_feed_list
    from connectors.feeds import current_feeds, plan_sync, publish_feeds
    from streams.infra.kafka_topics import ensure_topics
    from streams.infra.settings import load_settings

    settings = load_settings()
    specs = load_feed_list(args.file)
    ensure_topics(settings)
    plan = plan_sync(current_feeds(settings), specs, args.prune, datetime.now(UTC))
    publish_feeds(settings, plan.writes())
    print(f"{len(plan.added)} added, {len(plan.updated)} updated, {len(plan.removed)} removed")
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
    connect.add_argument(
        "--feeds", type=Path, default=None,
        help="feed list (YAML, see deploy/feeds/world.yaml); without it, the feeds topic (`feed add`), followed live",
    )  # fmt: skip
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
    connect.add_argument(
        "--websub-listen", metavar="HOST:PORT",
        help="serve WebSub callbacks here and subscribe the feeds that declare a hub (also WIREWATCH_WEBSUB_LISTEN; "
        "default: off, every feed polled)",
    )  # fmt: skip
    connect.add_argument(
        "--websub-callback-base", metavar="URL",
        help="the URL hubs reach --websub-listen at, e.g. https://connector-1.example (also "
        "WIREWATCH_WEBSUB_CALLBACK_BASE; default http://HOST:PORT)",
    )  # fmt: skip
    connect.set_defaults(handler=_cmd_connect)

    feed = commands.add_parser("feed", help="manage the feeds topic; offline feed tools")
    feed_actions = feed.add_subparsers(dest="feed_action", required=True, metavar="ACTION")
    parse = feed_actions.add_parser("parse", help="feed files to Article JSONL on stdout (no network, no Kafka)")
    parse.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parse.add_argument("--feed-url", default=None, help="feed URL to record as the source (default: the file's URI)")
    parse.add_argument("--name", default=None, help="feed name to record as the source (default: the file's stem)")
    parse.set_defaults(handler=_cmd_feed_parse)
    add = feed_actions.add_parser("add", help="add (or change) a feed: polled within one cycle, no restart")
    add.add_argument("url")
    add.add_argument("--name", default=None, help="default: the URL's host and path")
    add.add_argument("--outlet", default=None, help="registry id of the publishing outlet (e.g. xinhua)")
    add.add_argument("--language", default=None, help="BCP-47 tag when the feed does not say")
    add.add_argument("--interval", default=None, help="fixed poll interval (e.g. 15m) instead of the adaptive one")
    add.add_argument(
        "--priority", choices=["normal", "high"], default=None, help="high: polled every 60 s (breaking news)"
    )
    add.add_argument("--tag", action="append", default=[], dest="tags", help="a tag (repeat)")
    add.add_argument("--fulltext", choices=["auto", "always", "never"], default=None)
    add.add_argument("--allow-private-networks", action="store_true", help="accept loopback/private hosts (tests)")
    add.set_defaults(handler=_cmd_feed_add)
    listing = feed_actions.add_parser("list", help="the feeds of the topic (JSON lines with --json)")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--health", action="store_true", help="with each feed's last poll, failures and next poll")
    listing.set_defaults(handler=_cmd_feed_list)
    for action, summary in (("rm", "remove a feed"), ("pause", "stop polling a feed"), ("resume", "poll it again")):
        one = feed_actions.add_parser(action, help=f"{summary} (by URL or feed id)")
        one.add_argument("feed", metavar="FEED")
        if action == "pause":
            one.add_argument("--reason", default="paused by an operator")
        one.set_defaults(handler=_cmd_feed_change, change=action)
    sync = feed_actions.add_parser("sync", help="add and update the topic's feeds from a feed list file")
    sync.add_argument("file", type=Path)
    sync.add_argument("--prune", action="store_true", help="also remove the feeds the file does not list")
    sync.set_defaults(handler=_cmd_feed_sync)

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

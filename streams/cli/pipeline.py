"""Sub-commands of the stream pipeline: ``worker``, ``watch add|list|rm|stats``, ``alerts tail``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from streams.cli.tagging import add_real_copy_arguments
from streams.core.errors import BrokerUnavailable, WirewatchError


def register(commands: Any, benches: Any) -> None:
    worker = commands.add_parser("worker", help="run the stream worker (agents, /health, /metrics)")
    worker.add_argument("--loglevel", default="info", choices=["debug", "info", "warning", "error"])
    worker.set_defaults(handler=_cmd_worker)

    watch = commands.add_parser("watch", help="manage desks' watched entity pairs")
    actions = watch.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="watch two entities appearing together; prints the watch id")
    add.add_argument("--desk", required=True)
    add.add_argument(
        "entities", nargs="+", metavar="ENTITY",
        help="two registry ids or names (quote multi-word names); one, with --surges, for that entity's surges",
    )  # fmt: skip
    add.add_argument("--scope", choices=["article", "paragraph", "sentence"], default="article")
    add.add_argument("--topics", nargs="+", default=[], metavar="TOPIC", help="only articles with one of these")
    add.add_argument("--state-sourced-only", action="store_true", help="only articles sourced from state media")
    add.add_argument("--cooldown", default="6h", help="one alert per story within this time (e.g. 30m, 6h, 1d)")
    add.add_argument("--channel", action="append", default=[], dest="channels", help="delivery channel (repeat)")
    add.add_argument(
        "--surges", action="store_true", help="also alert when the pair's articles surge against its recent days"
    )
    add.add_argument("--surge-min-count", type=int, default=5, help="the fewest articles in a window for a surge")
    add.add_argument("--since", help="also look back this far over the retained articles (e.g. 12h, 7d)")
    add.add_argument("--no-wait", action="store_true", help="do not wait for the look back to finish")
    add.add_argument("--wait-timeout", type=float, default=3600.0, help="seconds to wait for the look back")
    add.set_defaults(handler=_cmd_watch_add)
    history = actions.add_parser("history", help="what a watch's look back found, by story (JSON lines with --json)")
    history.add_argument("watch_id")
    history.add_argument("--json", action="store_true")
    history.set_defaults(handler=_cmd_watch_history)
    listing = actions.add_parser("list", help="list watches (JSON lines with --json)")
    listing.add_argument("--desk")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_cmd_watch_list)
    remove = actions.add_parser("rm", help="remove a watch by id")
    remove.add_argument("watch_id")
    remove.set_defaults(handler=_cmd_watch_rm)
    stats = actions.add_parser("stats", help="matching articles per hourly window, from the running worker")
    stats.add_argument("watch_id", nargs="?", help="one watch (default: all, or all of --desk)")
    stats.add_argument("--desk")
    stats.add_argument("--hours", type=int, default=24)
    stats.add_argument("--worker-url", help="worker web address (default: http://127.0.0.1:WIREWATCH_WEB_PORT)")
    stats.add_argument("--token", help="API token (default: WIREWATCH_ADMIN_TOKEN)")
    stats.set_defaults(handler=_cmd_watch_stats)

    alerts = commands.add_parser("alerts", help="read alerts")
    alert_actions = alerts.add_subparsers(dest="action", required=True, metavar="ACTION")
    tail = alert_actions.add_parser("tail", help="print alerts as JSON lines as they arrive")
    tail.add_argument("--desk")
    tail.add_argument("--from-beginning", action="store_true", help="start from the oldest retained alert")
    tail.add_argument("--max", type=int, default=None, help="stop after N alerts")
    tail.add_argument("--timeout", type=float, default=None, help="stop after S seconds")
    tail.set_defaults(handler=_cmd_alerts_tail)

    bench = benches.add_parser(
        "pipeline", help="one worker on real teasers and full-length copy beside a bare consume→produce ceiling"
    )
    bench.add_argument("--articles", type=int, default=20_000, help="articles per workload in the throughput phase")
    bench.add_argument(
        "--workloads", default="teasers,full-length", help="comma-separated: teasers, full-length, generated"
    )
    add_real_copy_arguments(bench)
    bench.add_argument(
        "--fractions", default="0.25,0.5,0.75", help="latency phases at these shares of the measured capacity"
    )
    bench.add_argument("--rate", type=float, default=200.0, help="articles/s of one more latency phase")
    bench.add_argument("--latency-seconds", type=float, default=30.0, help="length of each latency phase")
    bench.set_defaults(handler=_cmd_bench_pipeline)

    lookback = benches.add_parser(
        "lookback", help="a look back's rate over retained full-length copy, and live latency beside it and without"
    )
    lookback.add_argument("--retained", type=int, default=40_000, help="articles in articles.raw to look back over")
    lookback.add_argument("--rate", type=float, default=50.0, help="live articles/s in both phases")
    lookback.add_argument("--seconds", type=float, default=30.0, help="length of each live phase")
    lookback.set_defaults(handler=_cmd_bench_lookback)


def _cmd_worker(args: argparse.Namespace) -> int:
    import faust

    from streams.infra.kafka_topics import ensure_topics
    from streams.infra.settings import load_settings
    from streams.worker.app import create_app

    settings = load_settings()
    ensure_topics(settings)
    app = create_app(settings)
    # mode leaves the root logger at DEBUG and filters in the handler, so every debug call of Faust and the
    # Kafka clients still builds a LogRecord (≈5% of a busy worker's CPU): set the level where it is checked.
    for name in ("faust", "mode", "aiokafka", "kafka", "streams", "connectors"):
        logging.getLogger(name).setLevel(args.loglevel.upper())
    faust.Worker(app, loglevel=args.loglevel).execute_from_commandline()  # exits the process when stopped


def _cmd_bench_pipeline(args: argparse.Namespace) -> int:
    from streams.infra.registry_files import load_registries, shipped_tagger
    from streams.infra.settings import load_settings
    from streams.tools.bench.pipeline import format_runs, run_workload
    from streams.tools.bench.prose import pipeline_workloads

    def say(line: str) -> None:
        print(f"wirewatch: {line}", file=sys.stderr, flush=True)

    settings = load_settings()
    workdir = settings.home / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    names = [name.strip() for name in args.workloads.split(",") if name.strip()]
    fractions = [float(share) for share in args.fractions.split(",") if share.strip()]
    if any(not 0 < share < 1.5 for share in fractions):
        raise WirewatchError(f"--fractions are shares of the capacity, such as 0.25,0.5,0.75: got {args.fractions}")
    say("reading the workloads and compiling a tagger to choose their watches")
    workloads = pipeline_workloads(names, args.corpus, args.pages, args.articles, say)
    tag = shipped_tagger(load_registries()).tag
    runs = [
        run_workload(settings, workload, args.articles, fractions, args.rate, args.latency_seconds, workdir, say, tag)
        for workload in workloads
    ]
    print(format_runs(runs))
    return 0


def _cmd_bench_lookback(args: argparse.Namespace) -> int:
    from streams.infra.settings import load_settings
    from streams.tools.bench.lookback import format_figures, run_lookback_bench

    settings = load_settings()
    workdir = settings.home / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    say = lambda line: print(f"wirewatch: {line}", file=sys.stderr, flush=True)  # noqa: E731
    print(format_figures(run_lookback_bench(settings, args.retained, args.rate, args.seconds, workdir, say)))
    return 0


def _cmd_watch_add(args: argparse.Namespace) -> int:
    from streams.infra.entities import current_entities, visible_entities
    from streams.infra.kafka_topics import ensure_topics
    from streams.infra.lookback import check_since
    from streams.infra.settings import load_settings
    from streams.infra.watches import build_watch, parse_duration, publish

    settings = load_settings()
    since_s = parse_duration(args.since) if args.since else None
    if since_s is not None:
        check_since(since_s)
    ensure_topics(settings)
    watch = build_watch(
        args.desk,
        args.entities,
        scope=args.scope,
        topics=args.topics,
        state_sourced_only=args.state_sourced_only,
        cooldown_s=parse_duration(args.cooldown),
        channels=args.channels,
        desk_entities=visible_entities(current_entities(settings), args.desk),
        surges=args.surges,
        surge_min_count=args.surge_min_count,
    )
    publish(settings, watch.watch_id, watch)
    print(watch.watch_id)
    if since_s is not None:
        return _look_back(settings, watch, since_s, wait_s=None if args.no_wait else args.wait_timeout)
    return 0


def _look_back(settings: Any, watch: Any, since_s: int, wait_s: float | None) -> int:
    """Ask for the look back; unless told not to, show its progress until the workers are done."""
    import asyncio
    from datetime import UTC, datetime

    from streams.core.history import LookbackStatus
    from streams.infra.lookback import request_lookback, wait_for_lookback

    asked = request_lookback(settings, watch, since_s, datetime.now(UTC))
    print(f"wirewatch: looking back over {asked.total:,} retained articles in {len(asked.jobs)} jobs", file=sys.stderr)
    if not asked.jobs or wait_s is None:
        return 0
    interactive = sys.stderr.isatty()

    def show(status: LookbackStatus | None) -> None:
        if status is None:
            return
        share = status.scanned / status.total if status.total else 1.0
        bar = "#" * int(share * 30)
        line = (
            f"look back [{bar:<30}] {share:4.0%} {status.scanned:,}/{status.total:,} articles, "
            f"{status.matches} matches, {status.jobs_done}/{status.jobs} jobs"
        )
        print(("\r" + line) if interactive else line, end="" if interactive else "\n", file=sys.stderr, flush=True)

    final = asyncio.run(wait_for_lookback(settings, asked.lookback_id, show, wait_s))
    if interactive:
        print(file=sys.stderr)
    if final is None or final.state == "running":
        raise BrokerUnavailable(
            "the look back did not finish in time (is a worker running?); it goes on in the workers: "
            f"`wirewatch watch history {watch.watch_id}`"
        )
    if final.state == "failed":
        raise WirewatchError(f"the look back failed: {'; '.join(final.errors)}")
    print(f"wirewatch: look back done: {final.matches} matching articles (`wirewatch watch history {watch.watch_id}`)",
          file=sys.stderr)  # fmt: skip
    return 0


def _cmd_watch_history(args: argparse.Namespace) -> int:
    from streams.infra.lookback import read_history, read_progress, watch_history, watch_status
    from streams.infra.settings import load_settings
    from streams.infra.watches import WatchError, current_watches

    settings = load_settings()
    if args.watch_id not in current_watches(settings):
        raise WatchError(f"no watch {args.watch_id!r}")
    status = watch_status(read_progress(settings), args.watch_id)
    stories = watch_history(read_history(settings), args.watch_id)
    if status is not None:
        print(f"look back {status.lookback_id}: {status.state}, {status.scanned:,}/{status.total:,} articles, "
              f"{status.matches} matches", file=sys.stderr)  # fmt: skip
    for story in stories:
        if args.json:
            print(story.model_dump_json())
        else:
            fields = [f"{story.first_seen:%Y-%m-%d %H:%M}Z", str(story.article_count), story.article.title]
            print("\t".join([*fields, story.article.url]))
    return 0


def _cmd_watch_list(args: argparse.Namespace) -> int:
    from streams.infra.settings import load_settings
    from streams.infra.watches import current_watches

    watches = [w for w in current_watches(load_settings()).values() if args.desk in (None, w.desk)]
    for watch in sorted(watches, key=lambda w: (w.desk, w.watch_id)):
        if args.json:
            print(json.dumps(watch.to_wire(), ensure_ascii=False))
        else:
            extras = [f"scope={watch.scope}", f"cooldown={watch.cooldown_s}s"]
            if watch.topics:
                extras.append("topics=" + ",".join(watch.topics))
            if watch.state_sourced_only:
                extras.append("state-sourced-only")
            print(f"{watch.watch_id}\t{watch.desk}\t{' + '.join(watch.entities)}\t{' '.join(extras)}")
    return 0


def _cmd_watch_rm(args: argparse.Namespace) -> int:
    from streams.infra.lookback import forget_history, read_history, read_progress
    from streams.infra.settings import load_settings
    from streams.infra.watches import WatchError, current_watches, publish

    settings = load_settings()
    if args.watch_id not in current_watches(settings):
        raise WatchError(f"no watch {args.watch_id!r}")
    publish(settings, args.watch_id, None)
    forget_history(settings, args.watch_id, read_history(settings), read_progress(settings))
    print(f"removed {args.watch_id}")
    return 0


def _cmd_watch_stats(args: argparse.Namespace) -> int:
    from streams.infra.settings import load_settings
    from streams.infra.watches import current_watches

    settings = load_settings()
    base = (args.worker_url or f"http://127.0.0.1:{settings.web_port}").rstrip("/")
    token = args.token or (settings.admin_token.get_secret_value() if settings.admin_token else None)
    if not token:
        raise WirewatchError("watch stats asks the worker's API: set WIREWATCH_ADMIN_TOKEN or pass --token")
    watches = current_watches(settings)
    selected = (
        [args.watch_id] if args.watch_id else sorted(w for w, v in watches.items() if args.desk in (None, v.desk))
    )
    for watch_id in selected:
        stats = _get_json(f"{base}/api/v1/watches/{watch_id}/stats?hours={args.hours}", token)
        windows = " ".join(f"{hour[11:16]}={count}" for hour, count in stats["hourly"].items() if count)
        print(f"{watch_id}\ttotal={stats['total']}\topen_stories={stats['open_stories']}\t{windows}")
    return 0


def _get_json(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own worker's address
            return json.load(response)
    except urllib.error.HTTPError as err:
        raise WirewatchError(f"worker answered {err.code} for {url}") from err
    except (urllib.error.URLError, OSError) as err:
        raise BrokerUnavailable(f"no worker answers at {url}: {err}") from err


def _cmd_alerts_tail(args: argparse.Namespace) -> int:
    from kafka import KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError

    from streams.core.models import Alert, WireError
    from streams.infra.settings import load_settings

    settings = load_settings()
    topic = settings.topics.alerts
    try:
        consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False, group_id=None)
    except KafkaError as err:
        raise BrokerUnavailable(f"no Kafka broker answers at {settings.kafka_bootstrap}: {err}") from err
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise WirewatchError(f"topic {topic} does not exist (is a worker running with this prefix?)")
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        (consumer.seek_to_beginning if args.from_beginning else consumer.seek_to_end)(*assigned)
        deadline = time.monotonic() + args.timeout if args.timeout is not None else None
        printed = 0
        while args.max is None or printed < args.max:
            remaining_ms = 1000 if deadline is None else int(max(0.0, deadline - time.monotonic()) * 1000)
            if deadline is not None and remaining_ms == 0:
                break
            for records in consumer.poll(timeout_ms=min(remaining_ms, 1000)).values():
                for record in records:
                    try:
                        alert = Alert.from_wire(record.value)
                    except WireError as err:
                        print(f"wirewatch: skipped {topic}[{record.partition}]@{record.offset}: {err}", file=sys.stderr)
                        continue
                    if args.desk not in (None, alert.desk):
                        continue
                    print(alert.to_json().decode(), flush=True)
                    printed += 1
                    if args.max is not None and printed >= args.max:
                        break
        if args.max is not None and printed < args.max:
            print(f"wirewatch: timed out after {args.timeout:g} s with {printed} of {args.max} alerts", file=sys.stderr)
            return 1
        return 0
    finally:
        consumer.close()

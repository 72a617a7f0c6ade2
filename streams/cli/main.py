"""``wirewatch``: the one command-line entry point (docs/reference/cli.md).

Sub-commands import their modules lazily so ``wirewatch feed parse`` does not pay for Faust. Every
expected failure is a ``WirewatchError``: printed as one line on stderr, exit code 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from streams.core.errors import WirewatchError

Handler = Callable[[argparse.Namespace], int]

# Modules that add their own sub-commands: each has ``register(commands, benches)`` adding parsers to
# the top-level sub-commands and to ``wirewatch bench``; their handlers import heavy modules lazily.
COMMAND_MODULES: tuple[str, ...] = (
    "streams.cli.pipeline",
    "connectors.cli",
    "streams.cli.tagging",
    "streams.cli.desks",
    "streams.cli.entities",
    "streams.cli.dashboards",
    "streams.cli.reliability",
    "streams.cli.extraction",
)


def _progress(message: str) -> None:
    print(f"wirewatch: {message}", file=sys.stderr, flush=True)


def _cmd_kafka(args: argparse.Namespace) -> int:
    from streams.infra.settings import load_settings
    from streams.tools.devbroker import DevBroker

    settings = load_settings()
    broker = DevBroker(settings.home, port=args.port or settings.bootstrap_port)
    if args.action == "start":
        print(broker.start(timeout_s=args.timeout, progress=_progress))
        return 0
    if args.action == "stop":
        print(broker.stop())
        return 0
    status = broker.status()
    print(status.describe())
    return 0 if status.answering else 3


def _cmd_topics(args: argparse.Namespace) -> int:
    from streams.infra.kafka_topics import ensure_topics
    from streams.infra.settings import load_settings

    created = ensure_topics(load_settings())
    print("created: " + ", ".join(created) if created else "all topics exist")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from streams.infra.settings import load_settings
    from streams.tools.demo import DemoOptions, run_demo

    settings = load_settings(topic_prefix=args.prefix) if args.prefix else load_settings()
    options = DemoOptions(exit_after_alerts=args.exit_after_alerts, timeout_s=args.timeout, json_output=args.json)
    return run_demo(settings, options, _progress)


def _cmd_schemas(args: argparse.Namespace) -> int:
    from streams.tools.generated import write_or_check
    from streams.tools.schemas import stale_schemas, write_schemas

    return write_or_check("schemas", args.check, stale_schemas, write_schemas)


def _cmd_docs(args: argparse.Namespace) -> int:
    from streams.tools.generated import write_or_check
    from streams.tools.reference import stale_pages, write_pages

    return write_or_check("docs", args.check, stale_pages, write_pages)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wirewatch", description="wirewatch: news feeds to Kafka to tagged articles to watched-pair alerts."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    kafka = sub.add_parser("kafka", help="run the local dev broker (real Apache Kafka, KRaft, one node)")
    kafka.add_argument("action", choices=["start", "stop", "status"])
    kafka.add_argument("--port", type=int, default=None, help="listener port (default: from WIREWATCH_KAFKA_BOOTSTRAP)")
    kafka.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for readiness (start)")
    kafka.set_defaults(handler=_cmd_kafka)

    topics = sub.add_parser("topics", help="create the wirewatch topics that do not exist yet")
    topics.set_defaults(handler=_cmd_topics)

    demo = sub.add_parser("demo", help="run the main job end to end on this machine (Ctrl-C stops it)")
    demo.add_argument("--prefix", default="demo", help="topic prefix of the demo (reset at every run)")
    demo.add_argument("--exit-after-alerts", type=int, default=None, metavar="N", help="stop after N alerts")
    demo.add_argument("--timeout", type=float, default=None, metavar="S", help="give up after S seconds")
    demo.add_argument("--json", action="store_true", help="print alerts as JSON lines")
    demo.set_defaults(handler=_cmd_demo)

    schemas = sub.add_parser("schemas", help="write deploy/schemas/*.json from the wire models")
    schemas.add_argument("--check", action="store_true", help="only check the committed files are current")
    schemas.set_defaults(handler=_cmd_schemas)

    docs = sub.add_parser("docs", help="write docs/reference/*.md (configuration, command line) from the code")
    docs.add_argument("--check", action="store_true", help="only check the committed files are current")
    docs.set_defaults(handler=_cmd_docs)

    bench = sub.add_parser("bench", help="benchmarks that print measured figures beside a baseline")
    benches = bench.add_subparsers(dest="bench", required=True, metavar="BENCHMARK")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub, benches)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        code = handler(args)
    except WirewatchError as err:
        print(f"wirewatch: error: {err}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()

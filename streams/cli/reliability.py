"""``wirewatch bench storm|recovery|recovery-single|scale|broker-restart|connector-crash|soak|hostile|reliability``.

Each scenario runs at full size by default (the figures of ``docs/reliability.md``), or with ``--short`` at the
size ``make test`` uses; a few options change one parameter. Figures go to stdout, progress to stderr; the exit
code is 1 when a scenario's pass criteria are not met. Scenario modules are imported only when one runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import sys
import time
from dataclasses import dataclass
from typing import Any

from streams.core.errors import WirewatchError


@dataclass(frozen=True)
class Option:
    flag: str
    field: str
    type: type
    help: str


@dataclass(frozen=True)
class Entry:
    module: str
    spec: str
    run: str
    help: str
    options: tuple[Option, ...] = ()


RECOVERY_OPTIONS = (
    Option("--cycles", "cycles", int, "kill-and-restart cycles"),
    Option("--membership", "membership", str, "static (stable worker ids, the default) or dynamic (the baseline)"),
    Option("--rate", "rate", float, "articles/s"),
    Option("--max-down", "max_down_s", float, "longest outage, seconds"),
)

SCENARIOS: dict[str, Entry] = {
    "storm": Entry(
        "streams.tools.reliability.storm", "StormSpec", "run_storm",
        "two workers, kill -9 at random moments (one during a rebalance); alerts against the oracle",
        (
            Option("--articles", "articles", int, "corpus size"),
            Option("--rate", "rate", float, "articles/s"),
            Option("--kills", "kills", int, "kill -9 count"),
        ),
    ),
    "recovery": Entry(
        "streams.tools.reliability.recovery", "RecoverySpec", "run_recovery",
        "both of two workers kill -9ed together and restarted, again and again; then one lost for good: "
        "restart → first alert and → caught up (p50/p95/max), takeover time, alerts against the oracle",
        (*RECOVERY_OPTIONS, Option("--workers", "workers", int, "workers killed together")),
    ),
    "recovery-single": Entry(
        "streams.tools.reliability.recovery", "SingleWorkerRecoverySpec", "run_recovery",
        "the recovery scenario with one worker: the group is empty during every outage",
        RECOVERY_OPTIONS,
    ),
    "scale": Entry(
        "streams.tools.reliability.scale", "ScaleSpec", "run_scale",
        "workers 1 → 2 → 1 under load; alerts against the oracle",
        (Option("--articles", "articles", int, "corpus size"), Option("--rate", "rate", float, "articles/s")),
    ),
    "broker-restart": Entry(
        "streams.tools.reliability.broker", "BrokerRestartSpec", "run_broker_restart",
        "a private dev broker stopped mid-stream (SIGTERM, then SIGKILL); nothing lost, no alert missing",
        (Option("--outage", "outage_s", float, "seconds the broker stays down"),),
    ),
    "connector-crash": Entry(
        "streams.tools.reliability.connector", "ConnectorCrashSpec", "run_connector_crash",
        "kill -9 the connector mid-cycle; no article lost, none tagged twice",
        (Option("--kills", "kills", int, "kill -9 count"),),
    ),
    "feed-group": Entry(
        "streams.tools.reliability.feedgroup", "FeedGroupSpec", "run_feed_group",
        "thousands of feeds on many hosts, three connectors in a group, one killed and one added: nothing lost, "
        "per-host spacing kept, every feed on schedule",
        (Option("--feeds", "feeds", int, "feeds"), Option("--hosts", "hosts", int, "loopback hosts")),
    ),
    "latency": Entry(
        "streams.tools.reliability.latency", "LatencySpec", "run_latency",
        "publication → alert p50/p95/max for normal, priority: high and WebSub feeds, each beside its floor",
        (
            Option("--seconds", "duration_s", float, "how long publications go on"),
            Option("--articles", "articles_per_kind", int, "articles per kind of feed"),
        ),
    ),
    "soak": Entry(
        "streams.tools.reliability.soak", "SoakSpec", "run_soak",
        "one worker at a steady rate: lag p99 and slope, memory growth, errors",
        (
            Option("--seconds", "duration_s", float, "how long to produce"),
            Option("--rate", "rate", float, "articles/s"),
        ),
    ),
    "hostile": Entry(
        "streams.tools.reliability.hostile", "HostileSpec", "run_hostile",
        "malformed records on every topic the worker reads: each dead-lettered, no crash",
    ),
}  # fmt: skip


def register(commands: Any, benches: Any) -> None:
    for name, entry in SCENARIOS.items():
        parser = benches.add_parser(name, help=entry.help)
        _common_options(parser)
        for option in entry.options:
            parser.add_argument(option.flag, dest=option.field, type=option.type, default=None, help=option.help)
        parser.set_defaults(handler=_cmd_scenario, scenario=name)
    everything = benches.add_parser("reliability", help="every reliability scenario in turn, then a summary")
    _common_options(everything)
    everything.set_defaults(handler=_cmd_all)


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--short", action="store_true", help="the short version that make test runs")
    parser.add_argument("--seed", type=int, default=None, help="schedule and corpus seed")
    parser.add_argument(
        "--keep-topics",
        action="store_true",
        help="leave the scenario's topics on the broker (post-mortem of a failure)",
    )


def _progress(message: str) -> None:
    print(f"wirewatch: {message}", file=sys.stderr, flush=True)


def _bench(args: argparse.Namespace) -> Any:
    from streams.infra.settings import load_settings
    from streams.tools.reliability.harness import Bench

    settings = load_settings()
    workdir = settings.home / "reliability"
    workdir.mkdir(parents=True, exist_ok=True)
    _progress(f"process logs under {workdir}")
    return Bench(settings.kafka_bootstrap, workdir, _progress, keep_topics=getattr(args, "keep_topics", False))


def _run(name: str, args: argparse.Namespace, bench: Any) -> bool:
    """Run one scenario with the options given, print its figures; True when it passed."""
    entry = SCENARIOS[name]
    module = importlib.import_module(entry.module)
    spec_class = getattr(module, entry.spec)
    spec = spec_class.short() if args.short else spec_class()
    fields = {f.name for f in dataclasses.fields(spec_class)}
    overrides = {key: value for key, value in vars(args).items() if key in fields and value is not None}
    spec = dataclasses.replace(spec, **overrides)
    try:
        figures = getattr(module, entry.run)(spec, bench)
    except (TimeoutError, RuntimeError, ValueError) as err:
        raise WirewatchError(f"{name}: {err}") from err
    print(figures.report(), flush=True)
    return bool(figures.passed)


def _cmd_scenario(args: argparse.Namespace) -> int:
    return 0 if _run(args.scenario, args, _bench(args)) else 1


def _cmd_all(args: argparse.Namespace) -> int:
    bench = _bench(args)
    results = []
    for name in SCENARIOS:
        started = time.monotonic()
        try:
            passed = _run(name, args, bench)
        except WirewatchError as err:
            print(f"{name}: did not finish: {err}", flush=True)
            passed = False
        results.append((name, passed, time.monotonic() - started))
        print(flush=True)
    print("summary")
    for name, passed, seconds in results:
        print(f"  {name:16s} {'PASS' if passed else 'FAIL'}  {seconds:6.0f} s")
    return 0 if all(passed for _, passed, _ in results) else 1

"""``wirewatch dashboards [--check]``: write (or check) the Grafana dashboards of ``streams.tools.dashboards``."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any, benches: Any) -> None:
    dashboards = commands.add_parser(
        "dashboards", help="write deploy/grafana/dashboards/*.json from streams.tools.dashboards"
    )
    dashboards.add_argument("--check", action="store_true", help="only check the committed files are current")
    dashboards.set_defaults(handler=_cmd_dashboards)


def _cmd_dashboards(args: argparse.Namespace) -> int:
    from streams.core.errors import ConfigError
    from streams.tools.generated import write_or_check

    try:
        from streams.tools.dashboards import stale_dashboards, write_dashboards
    except ModuleNotFoundError as err:  # the Grafana SDK is in the tools extra, not in the runtime
        raise ConfigError(f"wirewatch dashboards needs the tools extra ('wirewatch[tools]'): {err}") from err

    return write_or_check("dashboards", args.check, stale_dashboards, write_dashboards)

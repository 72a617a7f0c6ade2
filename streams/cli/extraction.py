"""``wirewatch bench extraction`` (a layer-3 command module: it imports streams.tools lazily)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from connectors.cli import positive


def register(commands: Any, benches: Any) -> None:
    extraction = benches.add_parser(
        "extraction",
        help="main-text precision/recall/F1 and pages/s on trafilatura's evaluation set, beside html_to_text",
    )
    extraction.add_argument(
        "--set",
        dest="set_dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="directory holding evaldata.json, cache/ and eval/ "
        "(default: $WIREWATCH_EXTRACTION_SET, else ../trafilatura-eval/tests)",
    )
    extraction.add_argument(
        "--limit",
        type=positive(int, "pages"),
        default=None,
        metavar="N",
        help="score only the first N pages (quick runs)",
    )
    extraction.set_defaults(handler=_cmd_bench_extraction)


def _cmd_bench_extraction(args: argparse.Namespace) -> int:
    from streams.tools.bench.extraction import ExtractionSetMissing, default_set_dir, load_set, run_extraction_bench

    try:
        evaluation_set = load_set(args.set_dir or default_set_dir(), args.limit)
    except ExtractionSetMissing as err:
        print(f"wirewatch: error: {err}", file=sys.stderr)
        return 2
    print(run_extraction_bench(evaluation_set).table())
    return 0

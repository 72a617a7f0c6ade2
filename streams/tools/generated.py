"""Files the project generates and commits (JSON Schemas, Grafana dashboards): write them, or check they are current."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path


def write_or_check(what: str, check: bool, stale: Callable[[], list[str]], write: Callable[[], Iterable[Path]]) -> int:
    """``--check`` (``make lint``, CI) fails on a stale file; otherwise every file is written again."""
    if check:
        outdated = stale()
        if outdated:
            print(f"stale {what} (run `wirewatch {what}`): {', '.join(outdated)}", file=sys.stderr)
            return 1
        print(f"{what} up to date")
        return 0
    for path in write():
        print(path)
    return 0

"""``wirewatch feed parse``: feed files to Article JSONL, offline (no network, no Kafka, no state)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from connectors.core.errors import FeedFailure
from connectors.core.feedlist import FeedSpec
from connectors.core.normalize import parse_feed
from connectors.fetcher import FetchLimits


@dataclass
class ParseSummary:
    files: int = 0
    articles: int = 0
    failed: int = 0
    crashed: int = 0


def parse_files(
    paths: Sequence[Path],
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    feed_url: str | None = None,
    name: str | None = None,
    max_bytes: int = FetchLimits.max_bytes,
) -> ParseSummary:
    """Write each file's articles as JSONL to ``out`` and one line per failed file to ``err``."""
    summary = ParseSummary()
    fetched = datetime.now(UTC)
    for path in paths:
        summary.files += 1
        spec = FeedSpec(url=feed_url or path.resolve().as_uri(), name=name or path.stem)
        try:
            with path.open("rb") as handle:
                data = handle.read(max_bytes + 1)
        except OSError as error:
            summary.failed += 1
            print(f"{path}: cannot read: {error.strerror or error}", file=err)
            continue
        try:
            if len(data) > max_bytes:
                raise FeedFailure("too_large", f"file is over the {max_bytes}-byte limit")
            parsed = parse_feed(data, spec, fetched)
        except FeedFailure as failure:
            summary.failed += 1
            print(f"{path}: {failure}", file=err)
            continue
        except Exception as error:  # the contract is one line per failed file, never a traceback
            summary.failed += 1
            summary.crashed += 1
            print(f"{path}: internal error: {type(error).__name__}: {error}", file=err)
            continue
        for entry in parsed.entries:
            out.write(entry.article.to_json().decode() + "\n")
        summary.articles += len(parsed.entries)
    return summary

"""``wirewatch bench extraction``: main-text extraction scored on real pages nobody here wrote.

The pages and their annotations are trafilatura's own evaluation corpus (github adbar/trafilatura,
``tests/evaldata.json`` with the pages in ``tests/cache`` and ``tests/eval``). They are other people's pages, so
they are read where they lie (``WIREWATCH_EXTRACTION_SET``, default ``../trafilatura-eval/tests``) and never
copied into the repository. Scoring is theirs (``tests/eval_common.py``): text and snippet whitespace-normalised,
case kept, a snippet counts when it is a substring of the text — so our figures compare with the ones they
publish. The baseline, measured in the same run on the same decoded pages, is the connector's former
``html_to_text`` (all visible text).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from time import perf_counter
from typing import Any

from connectors.core.errors import FeedFailure
from connectors.core.page import decode_page, extract_page
from connectors.core.text import html_to_text
from streams.core.errors import ConfigError

HOW_TO_GET = (
    "it is the tests/ directory of github.com/adbar/trafilatura (tests/evaldata.json with the pages in "
    "tests/cache and tests/eval); pass it with --set or WIREWATCH_EXTRACTION_SET"
)
_PAGE_FOLDERS = ("cache", "eval")
_WHITESPACE = re.compile(r"\s+")


class ExtractionSetError(ConfigError):
    """The evaluation set is there but not in trafilatura's shape; the message names the file and the entry."""


class ExtractionSetMissing(ExtractionSetError):
    """There is no evaluation set at that place: the bench cannot run here, which is not a fault of the set."""


def default_set_dir() -> Path:
    """``WIREWATCH_EXTRACTION_SET``, else ``../trafilatura-eval/tests`` from the current directory."""
    return Path(os.environ.get("WIREWATCH_EXTRACTION_SET") or Path("..", "trafilatura-eval", "tests"))


@dataclass(frozen=True)
class AnnotatedPage:
    url: str
    path: Path
    expected: tuple[str, ...]
    """Snippets of the main text ("with"): each one found is a true positive, each one missing a false negative."""
    unwanted: tuple[str, ...]
    """Boilerplate snippets ("without"): each one absent is a true negative, each one present a false positive."""


@dataclass(frozen=True)
class EvaluationSet:
    directory: Path
    annotated: int
    """Annotations in ``evaldata.json``, whether or not their page is considered (``limit``) or found."""
    pages: tuple[AnnotatedPage, ...]
    missing: tuple[str, ...]
    """Page files named by a considered annotation but in neither ``cache/`` nor ``eval/``."""

    @property
    def considered(self) -> int:
        return len(self.pages) + len(self.missing)


def load_set(directory: Path, limit: int | None = None) -> EvaluationSet:
    """The annotations of ``directory/evaldata.json`` (the first ``limit`` of them) with their pages' paths.

    ``ExtractionSetMissing`` when there is no set there, ``ExtractionSetError`` when it is not in trafilatura's
    shape; a page file that is missing is counted, not an error (a partial copy still scores).
    """
    evaldata = directory / "evaldata.json"
    if not evaldata.is_file():
        raise ExtractionSetMissing(f"no extraction evaluation set at {directory} (no evaldata.json): {HOW_TO_GET}")
    try:
        annotations = json.loads(evaldata.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ExtractionSetError(f"{evaldata}: not UTF-8 JSON ({err})") from err
    if not isinstance(annotations, dict) or not annotations:
        raise ExtractionSetError(f"{evaldata}: expected a non-empty object of url -> {{file, with, without}}")
    pages: list[AnnotatedPage] = []
    missing: list[str] = []
    for url, annotation in list(annotations.items())[:limit]:
        filename, expected, unwanted = _annotation(evaldata, url, annotation)
        path = next((p for folder in _PAGE_FOLDERS if (p := directory / folder / filename).is_file()), None)
        if path is None:
            missing.append(filename)
        else:
            pages.append(AnnotatedPage(url, path, expected, unwanted))
    return EvaluationSet(directory, len(annotations), tuple(pages), tuple(missing))


def _annotation(evaldata: Path, url: str, annotation: Any) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    if not isinstance(annotation, dict):
        raise ExtractionSetError(f"{evaldata}: {url}: expected an object with file, with and without")
    filename = annotation.get("file")
    if not isinstance(filename, str) or not filename.strip():
        raise ExtractionSetError(f"{evaldata}: {url}: 'file' must be a non-empty string")
    snippets: list[tuple[str, ...]] = []
    for key in ("with", "without"):
        chunks = annotation.get(key)
        if not isinstance(chunks, list) or not all(isinstance(c, str) and c.strip() for c in chunks):
            raise ExtractionSetError(f"{evaldata}: {url}: {key!r} must be a list of non-empty strings")
        snippets.append(tuple(chunks))
    return filename, snippets[0], snippets[1]


def normalise(text: str) -> str:
    """Their ``norm``: whitespace runs to one space, ends stripped, case kept (so a line break costs nothing)."""
    return _WHITESPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Counts:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    true_negatives: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.true_positives + other.true_positives,
            self.false_positives + other.false_positives,
            self.false_negatives + other.false_negatives,
            self.true_negatives + other.true_negatives,
        )

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 0.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 0.0

    @property
    def accuracy(self) -> float:
        total = self.true_positives + self.false_positives + self.false_negatives + self.true_negatives
        return (self.true_positives + self.true_negatives) / total if total else 0.0

    @property
    def f1(self) -> float:
        denominator = 2 * self.true_positives + self.false_positives + self.false_negatives
        return 2 * self.true_positives / denominator if denominator else 0.0


def score(text: str, expected: Sequence[str], unwanted: Sequence[str]) -> Counts:
    """One page's counts, as their ``count_item`` makes them (empty text: every expected snippet missed)."""
    normalised = normalise(text)
    found = sum(normalise(snippet) in normalised for snippet in expected)
    leaked = sum(normalise(snippet) in normalised for snippet in unwanted)
    return Counts(found, leaked, len(expected) - found, len(unwanted) - leaked)


def wirewatch_text(body: bytes, url: str, fetched: datetime) -> tuple[str, str | None]:
    """``(main text, None)``, or ``("", reason)`` when the connector finds no main text (scored as empty)."""
    try:
        return extract_page(body, url, fetched).text, None
    except FeedFailure as failure:
        return "", failure.reason


def baseline_text(body: bytes) -> str:
    """All visible text, decoded as ``extract_page`` decodes (no ``Content-Type``: BOM, ``<meta>``, detection)."""
    _, markup = decode_page(body, None)
    return html_to_text(markup)[0]


@dataclass(frozen=True)
class ExtractorFigures:
    name: str
    counts: Counts
    pages: int
    seconds: float
    """Spent inside the extractor's calls only, in one process (so pages/s is per core)."""

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class ExtractionBench:
    evaluation_set: EvaluationSet
    wirewatch: ExtractorFigures
    baseline: ExtractorFigures
    no_main_text: Counter[str]
    """Pages ``extract_page`` refused, by ``FeedFailure`` reason."""

    def table(self) -> str:
        evaluation_set = self.evaluation_set
        header = (
            f"wirewatch bench extraction: {len(evaluation_set.pages)} pages of trafilatura's evaluation set "
            f"({evaluation_set.directory}), {len(evaluation_set.missing)} missing"
        )
        if evaluation_set.considered < evaluation_set.annotated:
            header += f", only the first {evaluation_set.considered} of {evaluation_set.annotated} (--limit)"
        lines = [
            header,
            f"{'extractor':<30} {'precision':>9} {'recall':>7} {'accuracy':>9} {'F1':>6} {'pages/s':>8} {'seconds':>8}",
        ]
        for figures in (self.wirewatch, self.baseline):
            counts = figures.counts
            lines.append(
                f"{figures.name:<30} {counts.precision:>9.3f} {counts.recall:>7.3f} {counts.accuracy:>9.3f} "
                f"{counts.f1:>6.3f} {figures.pages_per_second:>8.1f} {figures.seconds:>8.2f}"
            )
        refused = sum(self.no_main_text.values())
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(self.no_main_text.items()))
        lines.append(f"no main text: {refused} pages" + (f" ({reasons})" if reasons else ""))
        return "\n".join(lines)


def run_extraction_bench(evaluation_set: EvaluationSet) -> ExtractionBench:
    """Score ``extract_page`` and the baseline on every page of the set, timing each call and nothing else."""
    fetched = datetime.now(UTC)
    ours, baseline = Counts(), Counts()
    ours_seconds = baseline_seconds = 0.0
    no_main_text: Counter[str] = Counter()
    for page in evaluation_set.pages:
        body = page.path.read_bytes()
        started = perf_counter()
        text, refusal = wirewatch_text(body, page.url, fetched)
        ours_seconds += perf_counter() - started
        ours += score(text, page.expected, page.unwanted)
        if refusal is not None:
            no_main_text[refusal] += 1
        started = perf_counter()
        text = baseline_text(body)
        baseline_seconds += perf_counter() - started
        baseline += score(text, page.expected, page.unwanted)
    pages = len(evaluation_set.pages)
    return ExtractionBench(
        evaluation_set,
        ExtractorFigures(f"wirewatch (trafilatura {version('trafilatura')})", ours, pages, ours_seconds),
        ExtractorFigures("baseline (html_to_text)", baseline, pages, baseline_seconds),
        no_main_text,
    )

"""Command line of the tagging core: ``tag``, ``registry check``, ``bench tagging``, ``bench accuracy``.

``wirewatch tag [FILE]`` is a stable contract for other tools: Article JSONL in (a file or stdin; unknown fields
ignored, optional fields may be missing), one TaggedArticle JSON per line out (``TaggedArticle.to_json``), a
one-line error on stderr for each bad line (skipped), exit code 1 when any line failed, else 0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from streams.core.errors import WirewatchError


def register(commands: Any, benches: Any) -> None:
    tag = commands.add_parser("tag", help="tag Article JSONL (FILE or stdin) into TaggedArticle JSONL on stdout")
    tag.add_argument("file", nargs="?", type=Path, help="Article JSONL file (default: standard input)")
    tag.add_argument("--registry", type=Path, metavar="DIR", help="registry directory (default: the shipped one)")
    tag.set_defaults(handler=_cmd_tag)

    registry = commands.add_parser("registry", help="actor, outlet and topic registries")
    actions = registry.add_subparsers(dest="registry_action", required=True, metavar="ACTION")
    check = actions.add_parser("check", help="validate registry files and print their counts")
    check.add_argument("dir", nargs="?", type=Path, help="registry directory (default: the shipped one)")
    check.set_defaults(handler=_cmd_registry_check)

    tagging = benches.add_parser("tagging", help="articles/s of the tagger at 1k/10k/100k aliases beside a naive regex")
    tagging.add_argument("--articles", type=int, default=2000, help="generated ~3 KB articles to tag per size")
    tagging.add_argument("--sizes", default="1000,10000,100000", help="registry sizes in aliases, comma-separated")
    tagging.add_argument("--baseline-seconds", type=float, default=20.0, help="time budget of the naive regex per size")
    tagging.add_argument("--seed", type=int, default=7)
    tagging.add_argument("--rounds", type=int, default=3, help="passes over the corpus; the best one is reported")
    add_real_copy_arguments(tagging)
    tagging.add_argument("--full-length", type=int, default=300, help="full-length articles to take from --pages")
    tagging.set_defaults(handler=_cmd_bench_tagging)

    accuracy = benches.add_parser(
        "accuracy",
        help="the real-text evaluation set's figures (../evalset), then actor precision/recall and state-media "
        "detections on ../shared/corpus",
    )
    accuracy.add_argument("--corpus", type=Path, default=None, help="corpus directory (default: ../shared/corpus)")
    accuracy.add_argument(
        "--set", dest="set_dir", type=Path, default=None, help="evaluation set directory (default: ../evalset)"
    )
    accuracy.add_argument("--registry", type=Path, metavar="DIR", help="registry directory (default: the shipped one)")
    accuracy.add_argument("--details", action="store_true", help="also list every disagreement with the labels")
    accuracy.set_defaults(handler=_cmd_bench_accuracy)


def add_real_copy_arguments(parser: argparse.ArgumentParser) -> None:
    """Where a speed benchmark finds real copy: feed snapshots for teasers, article pages for full-length text."""
    parser.add_argument("--corpus", type=Path, default=None, help="real feeds for teasers (default ../shared/corpus)")
    parser.add_argument(
        "--pages",
        type=Path,
        default=None,
        metavar="DIR",
        help="real article pages for full-length copy ($WIREWATCH_EXTRACTION_SET or ../trafilatura-eval/tests)",
    )


def _progress(message: str) -> None:
    print(f"wirewatch: {message}", file=sys.stderr, flush=True)


def _cmd_tag(args: argparse.Namespace) -> int:
    from streams.infra.registry_files import load_registries, shipped_tagger

    tagger = shipped_tagger(load_registries(args.registry))
    if args.file is None:
        return tag_lines(tagger, sys.stdin, sys.stdout.buffer, sys.stderr)
    try:
        with args.file.open(encoding="utf-8", errors="replace") as lines:
            return tag_lines(tagger, lines, sys.stdout.buffer, sys.stderr)
    except OSError as err:
        raise WirewatchError(f"cannot read {args.file}: {err.strerror or err}") from err


def tag_lines(tagger: Any, lines: Iterable[str], out: IO[bytes], errors: IO[str]) -> int:
    """Tag each JSONL line; a bad line is reported on ``errors`` with its number and skipped."""
    from streams.core.models import Article, WireError

    failed = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            article = Article.from_wire(line)
        except WireError as err:
            print(f"wirewatch: line {number}: {err}", file=errors, flush=True)
            failed += 1
            continue
        out.write(tagger.tag(article).to_json() + b"\n")
        out.flush()
    return 1 if failed else 0


def _cmd_registry_check(args: argparse.Namespace) -> int:
    from streams.core.registry import RegistryError
    from streams.infra.registry_files import default_data_dir, load_registries

    directory = args.dir or default_data_dir()
    try:
        registries = load_registries(directory)
    except RegistryError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        print(f"wirewatch: error: {len(err.problems)} problem(s) in {directory}", file=sys.stderr)
        return 1
    counts = registries.counts()
    generic = sum(1 for outlet in registries.outlets if outlet.is_generic)
    print(f"registry OK: {directory}")
    for name, version in sorted(registries.versions.items()):
        print(f"  {name}: version {version}")
    print(
        f"entities: {counts['entities']} (people {counts['people']}, organizations {counts['organizations']}, "
        f"countries {counts['countries']})"
    )
    print(f"aliases: {counts['aliases']}")
    print(f"outlets: {counts['outlets']} ({counts['outlets'] - generic} named, {generic} generic state-media entries)")
    print(f"topics: {counts['topics']}")
    for warning in registries.warnings:
        print(f"warning: {warning}")
    return 0


def _cmd_bench_tagging(args: argparse.Namespace) -> int:
    from streams.tools.bench.extraction import default_set_dir
    from streams.tools.bench.prose import default_corpus_dir, real_full_length, real_teasers
    from streams.tools.bench.tagging import run_tagging_bench

    sizes = tuple(int(size) for size in args.sizes.split(",") if size.strip())
    _progress("reading the real workloads")
    found = (
        real_teasers(args.corpus or default_corpus_dir()),
        real_full_length(args.pages or default_set_dir(), args.full_length),
    )
    workloads = [w for w in found if w is not None]
    if len(workloads) < len(found):
        _progress("some real copy is absent here: its workload is left out (see --corpus and --pages)")
    lines = run_tagging_bench(
        sizes, args.articles, args.baseline_seconds, args.seed, _progress, args.rounds, workloads=workloads
    )
    for line in lines:
        print(line, flush=True)
    return 0


def _cmd_bench_accuracy(args: argparse.Namespace) -> int:
    from streams.tools.bench.accuracy import default_corpus_dir, run_accuracy
    from streams.tools.bench.evalset import default_set_dir, run_evalset

    set_dir = args.set_dir or default_set_dir()
    if set_dir.is_dir():
        for line in run_evalset(set_dir, args.registry, details=args.details, progress=_progress):
            print(line)
        print()
    else:
        print(f"wirewatch: evaluation set not found at {set_dir}: its figures are skipped")
    corpus = args.corpus or default_corpus_dir()
    if not corpus.is_dir():
        print(f"wirewatch: corpus not found at {corpus}: nothing to measure (skipped)")
        return 0
    for line in run_accuracy(corpus, args.registry, details=args.details, progress=_progress):
        print(line)
    return 0

"""The extraction bench's scorer, loader and runner, on team-written snippets and a team-written page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from streams.core.errors import WirewatchError
from streams.tools.bench.extraction import (
    Counts,
    ExtractionSetError,
    ExtractionSetMissing,
    load_set,
    run_extraction_bench,
    score,
)

_FETCHED = datetime(2026, 12, 1, tzinfo=UTC)
_PARAGRAPHS = (
    "The harbour authority in Wellington said on Tuesday that the new ferry terminal will open in the spring, "
    "two years later than planned, after the contractor found the old sea wall in worse shape than expected.",
    "Engineers spent most of the winter driving steel piles into the seabed behind the wall, work that the "
    "authority's chief executive described as slow, noisy and unavoidable if the terminal was to last a century.",
    "Ferry operators have asked for a temporary berth in the meantime, saying that the current one floods at "
    "high tide and that passengers with prams or wheelchairs have to be carried aboard by the crew.",
)
_FOOTER = "Copyright Harbour Herald Limited, all rights reserved"
_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ferry terminal delayed to spring</title></head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<article><h1>Ferry terminal delayed to spring</h1>
{"".join(f"<p>{paragraph}</p>" for paragraph in _PARAGRAPHS)}
</article>
<footer><p>{_FOOTER}</p><p><a href="/privacy">Privacy</a> <a href="/terms">Terms</a></p></footer>
</body></html>
"""


@pytest.mark.parametrize(
    ("text", "expected", "unwanted", "counts"),
    [
        ("Kim met Putin.", ["Kim met Putin"], ["Subscribe"], Counts(1, 0, 0, 1)),
        ("Kim met Putin. Subscribe now", ["Kim met Putin"], ["Subscribe"], Counts(1, 1, 0, 0)),
        ("Subscribe now", ["Kim met Putin"], ["Subscribe"], Counts(0, 1, 1, 0)),
        ("Kim met\n   Putin\ttoday", ["Kim met Putin today", "  met \n Putin "], [], Counts(2, 0, 0, 0)),
        ("kim met putin", ["Kim met Putin"], [], Counts(0, 0, 1, 0)),  # their scoring keeps case; so does ours
        ("", ["Kim met Putin", "today"], ["Subscribe", "Imprint"], Counts(0, 0, 2, 2)),
    ],
)
def test_score_counts_snippets_as_their_eval_common_does(
    text: str, expected: list[str], unwanted: list[str], counts: Counts
) -> None:
    assert score(text, expected, unwanted) == counts


def test_figures_follow_their_definitions() -> None:
    counts = Counts(true_positives=6, false_positives=2, false_negatives=3, true_negatives=9)
    assert counts.precision == pytest.approx(6 / 8)
    assert counts.recall == pytest.approx(6 / 9)
    assert counts.accuracy == pytest.approx(15 / 20)
    assert counts.f1 == pytest.approx(12 / 17)
    assert Counts(1, 0, 0, 0) + Counts(0, 2, 3, 4) == Counts(1, 2, 3, 4)
    assert (Counts().precision, Counts().recall, Counts().accuracy, Counts().f1) == (0.0, 0.0, 0.0, 0.0)


def _write_set(directory: Path, annotations: object, pages: dict[str, str] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "evaldata.json").write_text(json.dumps(annotations), encoding="utf-8")
    for relative, markup in (pages or {}).items():
        (directory / relative).parent.mkdir(parents=True, exist_ok=True)
        (directory / relative).write_text(markup, encoding="utf-8")
    return directory


def test_a_missing_directory_says_where_to_get_the_set(tmp_path: Path) -> None:
    with pytest.raises(ExtractionSetMissing) as raised:
        load_set(tmp_path / "nowhere")
    message = str(raised.value)
    assert isinstance(raised.value, WirewatchError)
    assert "nowhere" in message
    assert "adbar/trafilatura" in message
    assert "\n" not in message


def test_a_directory_without_evaldata_is_missing_too(tmp_path: Path) -> None:
    with pytest.raises(ExtractionSetMissing, match=r"\(no evaldata\.json\): .*tests/cache and tests/eval"):
        load_set(tmp_path)


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("{not json", r"evaldata\.json: not UTF-8 JSON"),
        ("[]", r"expected a non-empty object"),
        (json.dumps({"https://a.test/": "a.html"}), r"https://a\.test/: expected an object"),
        (json.dumps({"https://a.test/": {"with": ["x"], "without": ["y"]}}), r"https://a\.test/: 'file' must"),
        (json.dumps({"https://a.test/": {"file": "a.html", "with": "x", "without": []}}), r"'with' must be a list"),
        (json.dumps({"https://a.test/": {"file": "a.html", "with": ["x"], "without": [" "]}}), r"'without' must"),
    ],
)
def test_a_malformed_evaldata_is_one_line_naming_file_and_entry(tmp_path: Path, content: str, complaint: str) -> None:
    (tmp_path / "evaldata.json").write_text(content, encoding="utf-8")
    with pytest.raises(ExtractionSetError, match=complaint) as raised:
        load_set(tmp_path)
    assert not isinstance(raised.value, ExtractionSetMissing)
    assert "\n" not in str(raised.value)


def test_pages_are_found_in_cache_or_eval_and_missing_ones_counted(tmp_path: Path) -> None:
    annotations = {
        f"https://{name}.test/": {"file": f"{name}.html", "with": ["x"], "without": ["y"]}
        for name in ("cached", "evaluated", "gone", "beyond")
    }
    pages = {"cache/cached.html": "<p>x</p>", "eval/evaluated.html": "<p>x</p>", "eval/beyond.html": "<p>x</p>"}
    evaluation_set = load_set(_write_set(tmp_path, annotations, pages), limit=3)
    assert [page.path.relative_to(tmp_path).as_posix() for page in evaluation_set.pages] == [
        "cache/cached.html",
        "eval/evaluated.html",
    ]
    assert evaluation_set.missing == ("gone.html",)
    assert (evaluation_set.annotated, evaluation_set.considered) == (4, 3)


def test_the_runner_scores_extraction_beside_the_baseline_on_one_page(tmp_path: Path) -> None:
    annotations = {
        "https://herald.test/2026/ferry-terminal": {
            "file": "herald.html",
            "with": [paragraph[:60] for paragraph in _PARAGRAPHS],
            "without": [_FOOTER],
        }
    }
    bench = run_extraction_bench(load_set(_write_set(tmp_path, annotations, {"eval/herald.html": _PAGE})))
    assert bench.wirewatch.counts == Counts(true_positives=3, false_positives=0, false_negatives=0, true_negatives=1)
    assert bench.baseline.counts == Counts(true_positives=3, false_positives=1, false_negatives=0, true_negatives=0)
    assert not bench.no_main_text
    assert bench.wirewatch.pages == bench.baseline.pages == 1
    assert bench.wirewatch.seconds > 0
    assert bench.baseline.seconds > 0
    table = bench.table().splitlines()
    assert table[0].startswith("wirewatch bench extraction: 1 pages of trafilatura's evaluation set")
    assert table[2].split()[:2] == ["wirewatch", "(trafilatura"]
    assert table[3].split()[2:6] == ["0.750", "1.000", "0.750", "0.857"]
    assert table[-1] == "no main text: 0 pages"


def test_a_page_without_main_text_scores_as_empty_text(tmp_path: Path) -> None:
    page = "<html><body><script>var edition = 'Herald';</script><img src='masthead.jpg'></body></html>"
    annotations = {"https://herald.test/": {"file": "empty.html", "with": ["Herald"], "without": ["masthead"]}}
    bench = run_extraction_bench(load_set(_write_set(tmp_path, annotations, {"cache/empty.html": page})))
    assert bench.no_main_text == {"no_main_text": 1}
    assert bench.wirewatch.counts == Counts(true_positives=0, false_positives=0, false_negatives=1, true_negatives=1)
    assert bench.table().splitlines()[-1] == "no main text: 1 pages (no_main_text 1)"

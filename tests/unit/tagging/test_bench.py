"""The benchmark's building blocks: real workloads, the floor, registry resizing, the generated corpus, the baseline."""

from __future__ import annotations

import json
from pathlib import Path

from streams.core.registry import Registries
from streams.tools.bench.prose import BareScan, Workload, real_full_length, real_teasers
from streams.tools.bench.tagging import (
    alias_count,
    generate_articles,
    naive_baseline,
    resized,
    run_tagging_bench,
    run_workload_bench,
)


def test_resized_registries_have_the_requested_alias_count(test_registries: Registries) -> None:
    shipped = alias_count(test_registries)
    bigger = resized(test_registries, shipped + 1234, seed=1)
    assert alias_count(bigger) == shipped + 1234
    smaller = resized(test_registries, shipped // 2, seed=1)
    assert shipped // 2 <= alias_count(smaller) < shipped


def test_generated_articles_are_deterministic_and_about_three_kilobytes(test_registries: Registries) -> None:
    first = generate_articles(test_registries, 5, seed=3)
    assert first == generate_articles(test_registries, 5, seed=3)
    sizes = [len(a.title) + len(a.summary) + len(a.content) for a in first]
    assert all(2800 <= size <= 3300 for size in sizes)


def test_naive_baseline_finds_the_same_names(test_registries: Registries) -> None:
    article = generate_articles(test_registries, 1, seed=3)[0]
    found = {m.group().lower() for m in naive_baseline(test_registries).finditer(article.title)}
    assert found


def test_bench_report_has_a_row_per_size() -> None:
    lines = list(run_tagging_bench((500, 4000), article_count=20, baseline_seconds=0.2, seed=1, rounds=1))
    rows = [line for line in lines if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == 3
    assert "(shipped)" in rows[0]
    assert all(float(row.split("|")[4].replace(",", "")) > 0 for row in rows)


def test_bench_report_puts_every_workload_beside_its_floor_and_splits_the_stages(test_registries: Registries) -> None:
    teasers = Workload("teasers", "team-written", tuple(generate_articles(test_registries, 4, seed=2)))
    lines = list(run_workload_bench(test_registries, [teasers], generate_articles(test_registries, 4, seed=5), 1))
    rows = {
        line.split("|")[1].strip(): line.split("|") for line in lines if line.startswith("| ") and "---" not in line
    }
    assert set(rows) == {"workload", "teasers", "generated"}
    for name in ("teasers", "generated"):
        rate, floor, ratio = (float(rows[name][i].replace(",", "")) for i in (5, 8, 9))
        assert rate > 0
        assert floor > 0
        assert abs(ratio - floor / rate) < 0.1 * ratio + 0.05
    shares = {line.split()[0]: line for line in lines if line.startswith("  ")}
    assert {"folding", "automaton", "language", "topics", "serialisation"} <= set(shares)


def test_the_floor_counts_every_alias_occurrence_without_boundaries(test_registries: Registries) -> None:
    article = generate_articles(test_registries, 1, seed=3)[0]
    floor = BareScan(test_registries)
    lowered = "\n".join((article.title, article.summary, article.content)).lower()
    name = article.title.split(" and ")[0]
    assert floor(article) >= lowered.count(name.lower()) > 0


def test_real_teasers_are_read_from_feed_files_and_absent_copy_is_none(tmp_path: Path) -> None:
    assert real_teasers(tmp_path) is None
    assert real_full_length(tmp_path, 10) is None
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "one.xml").write_text(
        "<rss version='2.0'><channel><title>t</title><item><title>Kim meets Putin</title>"
        "<link>https://a.example/1</link><description>In Pyongyang.</description></item></channel></rss>"
    )
    workload = real_teasers(tmp_path)
    assert workload is not None
    assert [(a.title, a.summary) for a in workload.articles] == [("Kim meets Putin", "In Pyongyang.")]


def test_full_length_copy_is_the_main_text_of_pages_between_three_and_six_kilobytes(tmp_path: Path) -> None:
    paragraphs = [
        f"<p>Officials in Pyongyang said on day {n} that bridge number {n} would open next spring, linking the "
        f"port of Rason with the Russian railway network, and that {n * 7} workers were on the site.</p>"
        for n in range(40)
    ]
    pages = {"long.html": "".join(paragraphs[:24]), "short.html": "".join(paragraphs[:3])}
    (tmp_path / "cache").mkdir()
    for name, body in pages.items():
        (tmp_path / "cache" / name).write_text(f"<html><body><article><h1>Bridge</h1>{body}</article></body></html>")
    index = {f"https://a.example/{name}": {"file": name, "with": ["Officials"], "without": ["x"]} for name in pages}
    (tmp_path / "evaldata.json").write_text(json.dumps(index))
    workload = real_full_length(tmp_path, 10)
    assert workload is not None
    assert [a.url for a in workload.articles] == ["https://a.example/long.html"]
    assert 3000 <= len(workload.articles[0].content) <= 6000

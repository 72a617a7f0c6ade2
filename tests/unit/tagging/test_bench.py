"""The benchmark's building blocks: registry resizing, the generated corpus, the naive baseline."""

from __future__ import annotations

from streams.core.registry import Registries
from streams.tools.bench.tagging import alias_count, generate_articles, naive_baseline, resized, run_tagging_bench


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

"""What the latency bench calls a pass, on made-up latencies: the targets of issue 16 and nothing missing."""

from __future__ import annotations

import pytest

from streams.tools.reliability.latency import KindFigures, LatencyFigures, LatencySpec


def _kind(kind: str, latencies: list[float], published: int | None = None, gap: float | None = 60.0) -> KindFigures:
    count = len(latencies) if published is None else published
    return KindFigures(kind, count, tuple(latencies), tuple(0.05 for _ in latencies), gap)


WEBSUB_FAST = [0.4, 0.6, 0.8, 1.0, 1.5] * 4
HIGH_FAST = [5.0, 20.0, 31.0, 45.0, 58.0] * 4
NORMAL_SLOW = [120.0, 300.0, 500.0] * 4


@pytest.mark.parametrize(
    ("websub", "high", "crashed", "passed"),
    [
        (_kind("websub", WEBSUB_FAST), _kind("high", HIGH_FAST), (), True),
        (_kind("websub", [*WEBSUB_FAST[:-2], 6.0, 7.0]), _kind("high", HIGH_FAST), (), False),  # p95 over 5 s
        (_kind("websub", WEBSUB_FAST), _kind("high", [*HIGH_FAST[:-2], 75.0, 80.0]), (), False),  # p95 over 70 s
        (_kind("websub", WEBSUB_FAST, published=21), _kind("high", HIGH_FAST), (), False),  # one never alerted
        (_kind("websub", WEBSUB_FAST), _kind("high", HIGH_FAST), ("connector",), False),
    ],
)
def test_the_bench_passes_only_within_the_targets_with_nothing_missing(
    websub: KindFigures, high: KindFigures, crashed: tuple[str, ...], passed: bool
) -> None:
    figures = LatencyFigures(LatencySpec(), (websub, high, _kind("normal", NORMAL_SLOW, gap=600.0)), crashed)
    assert figures.passed is passed
    assert figures.report().endswith(f"result: {'PASS' if passed else 'FAIL'}")


def test_each_kind_is_printed_beside_the_floor_its_polling_implies() -> None:
    figures = LatencyFigures(
        LatencySpec(),
        (_kind("websub", WEBSUB_FAST), _kind("high", HIGH_FAST, gap=61.0), _kind("normal", NORMAL_SLOW, gap=600.0)),
    )
    rows = {line.split()[0]: line for line in figures.report().splitlines()[2:5]}
    assert "no poll to wait for" in rows["websub"]
    assert "poll every 60 s, measured 61 s: p50 ≈ 30 s, p95 ≈ 57 s" in rows["high"]
    assert "poll every 600 s: p50 ≈ 300 s, p95 ≈ 570 s" in rows["normal"]
    assert rows["normal"].split()[1:3] == ["12", "300.0s"]  # count, p50

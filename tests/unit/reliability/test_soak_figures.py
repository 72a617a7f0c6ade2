"""What the soak calls bounded lag and flat memory, on made-up samples."""

from __future__ import annotations

import pytest

from streams.tools.reliability.soak import Sample, SoakFigures, SoakSpec
from streams.tools.reliability.traffic import PacedStats

SPEC = SoakSpec(duration_s=100.0, rate=100.0, warmup_s=20.0, sample_every_s=5.0, memory_window_s=20.0)
MIB = 2**20


def _figures(lag: list[int], rss_mib: list[float], processing_errors: int = 0) -> SoakFigures:
    samples = tuple(Sample(at_s=5.0 * (n + 1), lag=lag[n], rss_bytes=int(rss_mib[n] * MIB)) for n in range(len(lag)))
    return SoakFigures(
        spec=SPEC,
        produced=PacedStats(sent=10_000, failed=0, elapsed_s=100.0, max_behind_s=0.1),
        samples=samples,
        alerts=10,
        latency_p50_s=0.02,
        latency_p99_s=0.5,
        processing_errors=processing_errors,
        tracebacks=0,
        crashed=(),
    )


SAWTOOTH = [300, 200, 100, 20] * 5  # commits every few seconds: lag rises and falls, no trend
FLAT = [180.0] * 3 + [200.0] * 17  # warm-up growth (the first 20 s) is not counted
GROWING = [180.0] * 3 + [200.0 + 2 * n for n in range(17)]


@pytest.mark.parametrize(
    ("lag", "rss", "errors", "lag_bounded", "passed"),
    [
        (SAWTOOTH, FLAT, 0, True, True),
        ([100 * n for n in range(20)], FLAT, 0, False, False),  # a backlog growing 1,200 records/min
        ([2000] * 20, FLAT, 0, False, False),  # steady, but 20 s of input behind
        (SAWTOOTH, GROWING, 0, True, False),  # +13 % after the warm-up
        (SAWTOOTH, FLAT, 1, True, False),
    ],
)
def test_pass_needs_bounded_lag_flat_memory_and_no_error(
    lag: list[int], rss: list[float], errors: int, lag_bounded: bool, passed: bool
) -> None:
    figures = _figures(lag, rss, errors)
    assert figures.lag_bounded is lag_bounded
    assert figures.passed is passed
    assert "result: " + ("PASS" if passed else "FAIL") in figures.report()


def test_memory_is_compared_between_the_first_and_last_window_after_warm_up() -> None:
    figures = _figures(SAWTOOTH, GROWING)
    start, end = figures.memory_mib
    assert (start, end) == (203.0, 229.0)  # medians of the samples at 20-35 s and at 85-100 s
    assert figures.memory_growth == pytest.approx(26 / 203)

"""A short soak: bounded lag, flat memory after the warm-up, no error."""

from __future__ import annotations

import pytest

from streams.tools.reliability.harness import Bench
from streams.tools.reliability.soak import MEMORY_GROWTH_LIMIT, SoakSpec, run_soak

pytestmark = [pytest.mark.reliability, pytest.mark.integration]


def test_a_steady_load_keeps_lag_bounded_memory_flat_and_errors_at_zero(bench: Bench) -> None:
    spec = SoakSpec.short()
    figures = run_soak(spec, bench)
    print(figures.report())
    assert figures.produced.sent == int(spec.rate * spec.duration_s)
    assert figures.lag_bounded
    assert figures.memory_growth < MEMORY_GROWTH_LIMIT
    assert figures.alerts > 100
    assert figures.processing_errors == 0
    assert figures.tracebacks == 0
    assert figures.crashed == ()

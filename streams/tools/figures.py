"""Small statistics shared by the benchmarks and scenarios (the standard library does the work)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` quantile (0 < share < 1) by linear interpolation; NaN when there are no values."""
    if not values:
        return math.nan
    if len(values) == 1:
        return float(values[0])
    cuts = statistics.quantiles(values, n=1000, method="inclusive")
    return cuts[min(max(round(share * 1000) - 1, 0), len(cuts) - 1)]

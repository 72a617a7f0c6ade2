"""The short reliability scenarios run against the session's broker, each in its own prefix and directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.tools.reliability.harness import Bench


@pytest.fixture
def bench(kafka_bootstrap: str, tmp_path: Path) -> Bench:
    """Progress and figures go to the captured output (shown when a test fails); process logs stay in tmp_path."""
    return Bench(kafka_bootstrap, tmp_path, print)

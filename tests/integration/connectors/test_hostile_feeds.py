"""Billion-laughs and quadratic-blow-up feeds cost ≤ 1 s CPU and ≤ 64 MiB, measured in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.processes import child_env

pytestmark = pytest.mark.integration

# Runs in a subprocess so that getrusage's peak RSS belongs to this parse alone (after the imports).
_MEASURE = """
import io, json, resource, sys
from datetime import UTC, datetime
import feedparser
from connectors.core.feedlist import FeedSpec
from connectors.core.normalize import parse_feed
from tests.support.feed_server import billion_laughs, quadratic_blowup

document = {"laughs": billion_laughs, "quadratic": quadratic_blowup}[sys.argv[1]]()
spec = FeedSpec(url="http://hostile.example/rss", name="hostile")
parse_feed(b"<rss version='2.0'><channel><title>warm-up</title></channel></rss>", spec, datetime.now(UTC))


def cost(parse):
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = parse()
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result, cpu, (after.ru_maxrss - before.ru_maxrss) / 1024


parsed, cpu_s, growth_mib = cost(lambda: parse_feed(document, spec, datetime.now(UTC)))
# For comparison, the same bytes straight into feedparser (measured second: its peak cannot hide ours).
raw, raw_cpu_s, raw_growth_mib = cost(lambda: feedparser.parse(io.BytesIO(document)))
print(json.dumps({
    "input_kib": round(len(document) / 1024, 1),
    "cpu_s": cpu_s, "peak_rss_growth_mib": growth_mib,
    "titles": [e.article.title[:80] for e in parsed.entries],
    "raw_feedparser": {"cpu_s": raw_cpu_s, "peak_rss_growth_mib": raw_growth_mib,
                       "title_chars": len(raw.entries[0].get("title", "")) if raw.entries else 0},
}))
"""


@pytest.mark.parametrize("kind", ["laughs", "quadratic"])
def test_entity_expansion_attacks_are_cheap(kind: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", _MEASURE, kind], capture_output=True, text=True, env=child_env(), timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr
    measured = json.loads(run.stdout)
    print(f"{kind}: {measured}")
    assert measured["cpu_s"] <= 1.0
    assert measured["peak_rss_growth_mib"] <= 64
    # The entities stayed unexpanded: the title is the literal reference text, not megabytes of "lol".
    assert len(measured["titles"]) == 1
    assert "lollol" not in measured["titles"][0]
    assert "aaaa" not in measured["titles"][0]
    if kind == "quadratic":  # the fixture is a real attack: unguarded feedparser expands it to megabytes
        assert measured["raw_feedparser"]["title_chars"] > 10_000_000

"""Feed lists: valid documents load; every mistake names file, line, column and field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from connectors.core.errors import FeedListError
from connectors.core.feedlist import FeedSpec, parse_feed_list

REPO = Path(__file__).resolve().parents[3]
REGISTRY = REPO.parent / "shared" / "reference" / "state_media_registry.yaml"


def test_a_valid_feed_list_loads() -> None:
    text = """
feeds:
  - url: https://en.yna.co.kr/RSS/news.xml
    name: Yonhap English
    outlet: yonhap
    language: en-us
    interval: 15m
    tags: [korea, wire]
  - {url: "https://tass.com/rss/v2.xml", name: TASS, interval: 3600, fulltext: never}
  - {url: "https://kcna.example/rss", name: KCNA, priority: high}
"""
    assert parse_feed_list(text, "feeds.yaml") == (
        FeedSpec(
            "https://en.yna.co.kr/RSS/news.xml",
            "Yonhap English",
            "yonhap",
            "en-US",
            timedelta(minutes=15),
            ("korea", "wire"),
        ),
        FeedSpec("https://tass.com/rss/v2.xml", "TASS", interval=timedelta(hours=1), fulltext="never"),
        FeedSpec("https://kcna.example/rss", "KCNA", priority="high"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "feeds:\n  - url: ftp://x.example/rss\n    name: X\n",
            "f.yaml:2:10: feeds[0].url: expected an http(s) URL, got 'ftp://x.example/rss'",
        ),
        ("feeds:\n  - name: X\n", "f.yaml:2:5: feeds[0]: missing field 'url'"),
        (
            "feeds:\n  - url: https://x.example/\n    name: X\n    fulltext: sometimes\n",
            "f.yaml:4:15: feeds[0].fulltext: expected one of auto, always, never, got 'sometimes'",
        ),
        ("feeds:\n  - url: https://x.example/\n", "f.yaml:2:5: feeds[0]: missing field 'name'"),
        (
            "feeds:\n  - url: https://x.example/\n    name: X\n    priority: urgent\n",
            "f.yaml:4:15: feeds[0].priority: expected one of normal, high, got 'urgent'",
        ),
        (
            "feeds:\n  - url: https://x.example/\n    name: X\n    priority: high\n    interval: 5m\n",
            "f.yaml:4:15: feeds[0].priority: a high-priority feed is polled every minute: drop its interval",
        ),
        (
            "feeds:\n  - url: https://x.example/\n    name: X\n    colour: red\n",
            "f.yaml:4:5: feeds[0]: unknown field 'colour' "
            "(expected url, name, outlet, language, interval, priority, tags, fulltext)",
        ),
        (
            "feeds:\n  - url: https://x.example/\n    name: X\n    outlet: Xinhua News\n",
            "f.yaml:4:13: feeds[0].outlet: expected a registry id such as 'xinhua' or 'press_tv', got 'Xinhua News'",
        ),
        (
            "feeds:\n  - url: https://x.example/\n    name: X\n    language: english\n",
            "f.yaml:4:15: feeds[0].language: expected a BCP-47 language tag such as 'en' or 'en-GB', got 'english'",
        ),
        (
            "feeds:\n  - url: https://x.example/\n    name: X\n    interval: -5m\n",
            "f.yaml:4:15: feeds[0].interval: expected seconds or a duration such as '15m', '2h', '1d', got '-5m'",
        ),
        (
            "feeds:\n  - url: https://x.example/\n    name: X\n    tags: korea\n",
            "f.yaml:4:11: feeds[0].tags: expected a list of texts",
        ),
        (
            "feeds:\n  - url: https://x.example/\n    name: X\n    name: Y\n",
            "f.yaml:4:5: feeds[0]: field 'name' given twice",
        ),
        (
            "feeds:\n  - {url: 'https://x.example/a', name: A}\n  - {url: 'https://X.example/a#top', name: B}\n",
            "f.yaml:3:11: feeds[1].url: duplicate url 'https://x.example/a' (first at line 2)",
        ),
        (
            "feeds:\n  - {url: 'https://x.example/a', name: A}\n  - {url: 'https://x.example/b', name: A}\n",
            "f.yaml:3:40: feeds[1].name: duplicate name 'A' (first at line 2)",
        ),
        ("feeds: []\n", "f.yaml:1:8: feeds: expected a non-empty list of feeds"),
        ("- just a list\n", "f.yaml:1:1: expected a mapping with 'feeds'"),
        (
            "other: 1\n",
            "f.yaml:1:1: document: unknown field 'other' (expected feeds)",
        ),
        ("feeds:\n  - url: [unclosed\n", "f.yaml:3:1: not valid YAML: expected ',' or ']', but got '<stream end>'"),
        ("", "f.yaml: expected a mapping with 'feeds'"),
    ],
)
def test_mistakes_are_reported_precisely(text: str, message: str) -> None:
    with pytest.raises(FeedListError) as caught:
        parse_feed_list(text, "f.yaml")
    assert str(caught.value) == message


def test_the_shipped_world_feed_list_is_valid_and_broad() -> None:
    feeds = parse_feed_list((REPO / "deploy" / "feeds" / "world.yaml").read_text(), "world.yaml")
    assert len(feeds) >= 30
    outlets = {f.outlet for f in feeds}
    assert {"yonhap", "tass", "rt", "xinhua", "cgtn", "global_times", "china_daily", "irna", "press_tv"} <= outlets
    assert {"tehran_times", "sana", "kbs", "nhk", "bbc"} <= outlets


@pytest.mark.skipif(not REGISTRY.is_file(), reason="the shared reference registry is not beside the repository")
def test_every_outlet_id_in_the_world_feed_list_is_in_the_registry() -> None:
    registry = {outlet["id"] for outlet in yaml.safe_load(REGISTRY.read_text())["outlets"]}
    feeds = parse_feed_list((REPO / "deploy" / "feeds" / "world.yaml").read_text(), "world.yaml")
    assert {f.outlet for f in feeds if f.outlet} <= registry

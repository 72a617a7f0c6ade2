"""The pipeline benchmark's pure parts: repeated workloads, the latency phase's mix, the workload's own watches."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from streams.core.errors import WirewatchError
from streams.core.models import Article, Source
from streams.core.tagger import Tagger
from streams.tools.bench.pipeline import ALERT_EVERY, latency_articles, repeated, workload_pairs
from streams.tools.bench.prose import Workload, pipeline_workloads
from streams.tools.synthetic import PAIR_PEOPLE

SOURCE = Source(feed_url="https://wire.example/rss", name="wire", domain="wire.example")
FETCHED = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def article(article_id: str, text: str) -> Article:
    return Article(id=article_id, url=f"https://wire.example/{article_id}", title=text, fetched=FETCHED, source=SOURCE)


def test_a_repeated_workload_cycles_its_articles_under_distinct_ids() -> None:
    articles = [article("a", "one"), article("b", "two")]
    out = list(repeated(articles, 5, "t"))
    assert [a.title for a in out] == ["one", "two", "one", "two", "one"]
    assert len({a.id for a in out}) == 5


def test_the_latency_mix_keeps_the_workload_and_adds_one_fresh_pair_story_in_alert_every() -> None:
    workload = Workload("teasers", "test", (article("a", "Rain in Oslo " * 30),))
    out = list(latency_articles(workload, 3 * ALERT_EVERY, seed=1))
    stories = [a for a in out if a.title != workload.articles[0].title]
    assert len(out) == 3 * ALERT_EVERY
    assert len(stories) == 3
    assert len({a.title for a in stories}) == 3  # each a story of its own, so each can fire an alert
    assert all(_names_a_watched_pair(a) for a in stories)
    assert all(abs(len(a.content) - 390) < 390 for a in stories)  # about the workload's length
    assert len({a.id for a in out}) == len(out)
    next_phase = {a.id for a in latency_articles(workload, 3 * ALERT_EVERY, seed=2)}
    assert not next_phase & {a.id for a in out}  # the worker would drop a re-used id as a duplicate


def _names_a_watched_pair(story: Article) -> bool:
    return any(first in story.title and second in story.title for first, second in PAIR_PEOPLE)


def test_the_workloads_own_watches_are_the_pairs_its_copy_names_most_often(test_tagger: Tagger) -> None:
    kim_putin = "Kim Jong Un met Vladimir Putin on Tuesday."
    texts = [kim_putin, kim_putin, "Vladimir Putin met Xi Jinping on Monday.", "Kim Jong Un spoke on Sunday."]
    tagged = [test_tagger.tag(article(str(i), text)) for i, text in enumerate(texts)]
    pairs = workload_pairs(tagged, top=1)
    names = {a.id: a.name for t in tagged for a in t.actors}
    assert [{names[x] for x in pair} for pair in pairs] == [{"Kim Jong Un", "Vladimir Putin"}]


def test_an_unknown_workload_is_refused() -> None:
    with pytest.raises(WirewatchError, match="unknown workload"):
        pipeline_workloads(["teaser"], None, None, 10, lambda line: None)

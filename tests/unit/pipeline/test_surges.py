"""The surge statistic on synthetic series: steady, daily cycle, bursty, quiet-then-burst (decision 0908)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from streams.core.alerts import PairEffects, StoryBook, WatchIndex, decide_pair, match_watches
from streams.core.models import TaggedArticle, Watch
from streams.core.surges import (
    FIRE_P,
    MIN_RATIO,
    RecentArticle,
    SurgeSeries,
    SurgeStep,
    article_moment,
    count_article,
    upper_tail,
)
from streams.infra.watches import WatchError, build_watch
from tests.unit.pipeline.factories import KIM, T0, tagged, watch

START = datetime(2026, 11, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def poisson_moments(
    rate_per_hour: Callable[[datetime], float], start: datetime, end: datetime, seed: int
) -> list[datetime]:
    """Arrivals of an inhomogeneous Poisson process (thinning), in order."""
    rng = random.Random(seed)
    peak = max(rate_per_hour(start + timedelta(minutes=m)) for m in range(0, 24 * 60, 5))
    moments, t = [], start
    while True:
        t += timedelta(hours=rng.expovariate(peak))
        if t >= end:
            return moments
        if rng.random() < rate_per_hour(t) / peak:
            moments.append(t)


def run(
    moments: Iterable[datetime], min_count: int = 5, stories: Callable[[int], str] = lambda n: "s1"
) -> list[SurgeStep]:
    series, steps = SurgeSeries(), []
    for n, moment in enumerate(sorted(moments)):
        article = RecentArticle(at=moment, story_id=stories(n), article_id=f"a{n}", title=f"t{n}", url=f"https://x/{n}")
        step = count_article(series, "w1", article, min_count, seen_at=moment)
        series = step.series
        steps.append(step)
    return steps


def surges(steps: list[SurgeStep]) -> list[SurgeStep]:
    return [step for step in steps if step.surge is not None]


def burst(at: datetime, count: int, over: timedelta) -> list[datetime]:
    return [at + over * n / count for n in range(count)]


def test_a_steady_watch_never_surges() -> None:
    moments = poisson_moments(lambda _t: 2.0, START, START + 7 * DAY, seed=1)
    assert len(moments) > 250
    assert surges(run(moments)) == []


def test_a_daily_cycle_is_expected_at_its_hour_but_a_burst_on_top_of_it_is_a_surge() -> None:
    def office_hours(t: datetime) -> float:
        return 30.0 if 8 <= t.hour < 12 else 0.2  # a busy morning, a quiet rest of the day

    moments = poisson_moments(office_hours, START, START + 7 * DAY, seed=2)
    assert surges(run(moments)) == []  # every morning's ramp is the watch's normal
    noon_burst = burst(START + 6 * DAY + 10 * HOUR, 120, timedelta(minutes=30))
    fired = surges(run(moments + noon_burst))
    assert len(fired) == 1
    assert fired[0].surge is not None
    assert fired[0].surge.window_start >= START + 6 * DAY + 9 * HOUR


def test_a_bursty_watch_is_judged_against_its_own_bursts() -> None:
    rng = random.Random(3)
    moments = []
    for hour in range(0, 7 * 24, 4):  # a small cluster of articles every four hours, as stories break and end
        cluster = START + hour * HOUR + timedelta(minutes=rng.uniform(0, 200))
        moments += burst(cluster, rng.randint(3, 9), timedelta(minutes=10))
    assert surges(run(moments)) == []
    big = burst(START + 7 * DAY + 2 * HOUR, 60, timedelta(minutes=30))
    assert len(surges(run(moments + big))) == 1
    poisson_view = upper_tail(9, 9 * 15 / 240)  # the same cluster judged as if the watch were Poisson
    assert poisson_view < FIRE_P  # which is why a Poisson test alone would cry wolf on this watch


def test_quiet_then_burst_fires_once_per_episode_and_again_for_a_later_burst() -> None:
    quiet = [START + n * DAY + 9 * HOUR for n in range(3)]  # one article a day for three days
    first = burst(START + 3 * DAY + 14 * HOUR, 20, timedelta(minutes=10))
    second = burst(START + 5 * DAY + 14 * HOUR, 20, timedelta(minutes=10))
    steps = run(quiet + first + second)
    fired = surges(steps)
    assert len(fired) == 2
    assert fired[0].surge is not None
    assert fired[0].surge.count == 5  # the fewest that can be one
    assert fired[0].alert_id != fired[1].alert_id
    assert steps[len(quiet) + len(first) - 1].series.episode is not None  # still surging at the burst's end


def test_nothing_surges_before_a_day_of_history_nor_from_a_backlog() -> None:
    assert surges(run(burst(START, 30, timedelta(minutes=10)))) == []  # a new watch: nothing to compare with
    history = [START + n * DAY for n in range(3)]
    fetched = START + 3 * DAY + HOUR
    backlog = burst(START + 2 * DAY, 30, timedelta(hours=20))  # a new feed's old entries, all fetched at once
    series = SurgeSeries()
    for n, published in enumerate(history + backlog):
        seen = fetched if n >= len(history) else published
        article = RecentArticle(
            at=article_moment(published, seen), story_id="s", article_id=f"a{n}", title="t", url="u"
        )
        step = count_article(series, "w1", article, 5, seen_at=seen)
        assert step.surge is None
        series = step.series
    assert article_moment(None, fetched) == fetched
    assert article_moment(fetched + DAY, fetched) == fetched  # a feed dating its entries tomorrow


def test_history_begins_when_the_watch_began_counting_not_at_its_oldest_article() -> None:
    """A new watch's first articles are a feed's backlog from days ago: the watch was not counting then, so the
    empty days before are no baseline, and a burst an hour later is not a surge yet."""
    seen = START + 5 * DAY
    old = [START + n * DAY for n in range(3)]
    now = burst(seen + HOUR, 20, timedelta(minutes=10))
    series, fired = SurgeSeries(), []
    for n, (published, seen_at) in enumerate([(m, seen) for m in old] + [(m, m) for m in now]):
        article = RecentArticle(at=published, story_id="s", article_id=f"a{n}", title="t", url="u")
        step = count_article(series, "w1", article, 5, seen_at=seen_at)
        series, fired = step.series, fired + ([step] if step.surge else [])
    assert fired == []
    assert series.since == seen


def test_the_same_burst_is_normal_at_its_hour_and_a_surge_at_night() -> None:
    def office_hours(t: datetime) -> float:
        return 30.0 if 8 <= t.hour < 12 else 0.2

    moments = poisson_moments(office_hours, START, START + 6 * DAY, seed=4)
    night = burst(START + 6 * DAY + 2 * HOUR, 30, timedelta(hours=1))  # a morning's usual count, at 2 am
    morning = burst(START + 6 * DAY + 9 * HOUR, 30, timedelta(hours=1))  # the same count at 9 am
    assert len(surges(run(moments + night))) == 1
    assert surges(run(moments + morning)) == []


def test_a_surge_names_its_top_stories_and_a_redelivery_keeps_the_id() -> None:
    quiet = [START + n * DAY for n in range(2)]
    storm = burst(START + 2 * DAY + 10 * HOUR, 12, timedelta(minutes=12))
    steps = run(quiet + storm, stories=lambda n: "big" if n % 3 else "small")
    (fired,) = surges(steps)
    assert fired.surge is not None
    assert [story.story_id for story in fired.surge.top_stories] == ["big", "small"]
    assert fired.surge.top_stories[0].articles > fired.surge.top_stories[1].articles
    index = steps.index(fired)
    before = steps[index - 1].series
    moment = sorted(quiet + storm)[index]
    article = RecentArticle(at=moment, story_id="big", article_id="x", title="t", url="u")
    again = count_article(before, "w1", article, 5, seen_at=moment)
    assert again.alert_id == fired.alert_id


def test_the_minimum_count_is_the_watch_s() -> None:
    quiet = [START + n * DAY for n in range(3)]
    few = burst(START + 3 * DAY + 10 * HOUR, 6, timedelta(minutes=5))
    assert len(surges(run(quiet + few, min_count=5))) == 1
    assert surges(run(quiet + few, min_count=8)) == []


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 60), st.floats(0.01, 40.0), st.floats(1.0, 20.0))
def test_the_tail_is_a_probability_falling_with_the_count_and_rising_with_the_mean(
    count: int, mean: float, dispersion: float
) -> None:
    tail = upper_tail(count, mean, dispersion)
    assert 0.0 <= tail <= 1.0
    assert upper_tail(count + 1, mean, dispersion) <= tail + 1e-12
    assert upper_tail(count, mean * 1.5, dispersion) >= tail - 1e-12


def test_the_tail_matches_the_poisson_and_negative_binomial_by_hand() -> None:
    # P(X >= 2 | Poisson 1) = 1 - e^-1 (1 + 1)
    assert math.isclose(upper_tail(2, 1.0), 1 - 2 * math.exp(-1), rel_tol=1e-12)
    # Far in the tail: P(X >= 20 | Poisson 0.5) ≈ e^-0.5 0.5^20 / 20! (the next terms add under 3 %)
    assert math.isclose(upper_tail(20, 0.5), math.exp(-0.5) * 0.5**20 / math.factorial(20), rel_tol=0.03)
    # Negative binomial with mean 2, variance 6 (size 1: geometric, p = 1/3): P(X >= 3) = (2/3)^3
    assert math.isclose(upper_tail(3, 2.0, 3.0), (2 / 3) ** 3, rel_tol=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 4 * 24 * 60), min_size=1, max_size=120), st.integers(2, 12))
def test_any_series_fires_only_real_surges_and_one_per_episode(minutes: list[float], min_count: int) -> None:
    moments = [START + timedelta(minutes=m) for m in minutes]
    steps = run(moments, min_count=min_count)
    for previous, step in zip([None, *steps], steps, strict=False):
        if step.surge is None:
            continue
        assert step.surge.count >= min_count
        assert step.surge.count >= MIN_RATIO * step.surge.expected
        assert step.surge.p_value < FIRE_P
        assert previous is None or previous.series.episode is None  # it started an episode, none was open


def _decide_all(one: Watch, articles: list[TaggedArticle]) -> list[PairEffects]:
    book, hourly, series, effects = StoryBook(), {}, SurgeSeries(), []
    for article in articles:
        for candidate in match_watches(article, WatchIndex.build([one])):
            step = decide_pair(book, hourly, candidate, candidate.fetched, series)
            hourly = step.hourly or hourly
            series = step.surge_series or series
            effects.append(step)
    return effects


def test_a_one_entity_watch_is_told_of_its_surges_only() -> None:
    kim = watch("w-kim", entities=(KIM[0],), surges=True)
    quiet = [
        tagged(f"q{n}", f"Kim Jong Un inspects farm {n}", published=T0 - timedelta(days=3 - n),
               fetched_after_s=-(3 - n) * 86400 + 60)
        for n in range(3)
    ]  # fmt: skip
    storm = [
        tagged(f"b{n}", f"Kim Jong Un fires missile number {n} over the sea", content="Xi Jinping said nothing.",
               published=T0 + timedelta(minutes=n), fetched_after_s=n * 60 + 30)
        for n in range(8)
    ]  # fmt: skip
    effects = _decide_all(kim, quiet + storm)
    assert len(effects) == 11  # every article naming him is a candidate, no partner needed
    assert [e.alert for e in effects if e.alert is not None] == []  # no pair alert without a pair
    surges = [e.surge_alert for e in effects if e.surge_alert is not None]
    assert len(surges) == 1
    assert [ref.id for ref in surges[0].entities] == [KIM[0]]
    assert surges[0].evidence == (surges[0].article.title,)  # the sentence naming him


def test_a_one_entity_watch_without_surges_is_refused() -> None:
    with pytest.raises(ValidationError, match="surges only"):
        watch("w-kim", entities=(KIM[0],))
    with pytest.raises(WatchError, match="add --surges"):
        build_watch("korea", ["Kim Jong Un"])
    assert build_watch("korea", ["Kim Jong Un"], surges=True).entities == (KIM[0],)

"""Surges: a watch whose matching articles grow fast against its own recent days (a breaking story).

Europe Media Monitor flags stories whose article count climbs fast; GDELT lists entities "sharply increasing"
against their last days. Here each opted-in watch (``Watch.surges``) keeps a count of its matching articles in
five-minute bins for a week, and every counted article asks, for a 15-minute and a 1-hour window ending at its
moment: is this count unlikely under the watch's baseline?

- **Moment.** An article counts at its publication time (never later than its fetch): a new feed's backlog,
  fetched at once, is old news spread over days, not a surge. Windows end at the newest moment counted.
- **Baseline.** The expected count in the window is the same time of day on the previous days (an hour's band
  around the window's clock time, scaled to the window), shrunk towards the watch's average rate over the whole
  baseline as if that were one more day (one day of history says little about one hour), and never below a
  floor of one article a day:
  a watch that was silent is not "infinitely surprised" by its first article, and a handful within minutes is.
  The current hour is not part of the baseline. Nothing fires before the watch has a day of history.
- **Test.** The upper tail P(X ≥ count) of a Poisson with that mean, or a negative binomial with the variance
  the watch's own windows show when they are burstier than Poisson (news is: a Poisson would cry wolf on every
  busy watch). A surge needs the tail below ``FIRE_P``, at least ``Watch.surge_min_count`` articles and three
  times the expected count.
- **Episode.** One surge alert per episode: while any window stays elevated (tail below the laxer ``CALM_P``)
  the watch is surging and fires nothing more; the episode ends at the first counted article that finds it calm,
  and a later burst is a new episode. The alert id derives from the watch and the episode's first bin, so a
  redelivered article re-sends the same id.

Pure: time comes in as data (the article's moment), the caller persists the returned ``SurgeSeries``.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import AwareDatetime, Field

from streams.core.models import SurgeFigures, SurgeStory, WireModel

BIN = timedelta(minutes=5)
WINDOWS = (timedelta(minutes=15), timedelta(hours=1))
BASELINE_DAYS = 7
MIN_HISTORY = timedelta(days=1)
"""No surge before the watch has this much history: without it there is nothing to compare with."""
TIME_OF_DAY_BAND = timedelta(hours=1)
SHRINK_DAYS = 1.0
"""The watch's average rate weighs like this many days of its time-of-day profile."""
FLOOR_PER_DAY = 1.0
FIRE_P = 1e-4
CALM_P = 1e-2
MIN_RATIO = 3.0
POISSON_LIKE = 1.001
"""A dispersion below this is taken as Poisson."""
RESIDUAL_CAP = 100.0
"""A window's most weight in the dispersion: a ten-sigma departure."""
RECENT_KEPT = 200
"""Counted articles kept with their story, for the top stories behind a surge."""
TOP_STORIES = 3
_BIN_S = int(BIN.total_seconds())


class RecentArticle(WireModel):
    at: AwareDatetime
    story_id: str
    article_id: str
    title: str
    url: str


class SurgeEpisode(WireModel):
    alert_id: str
    started_at: AwareDatetime


class SurgeSeries(WireModel):
    """One watch's counted articles, as the worker persists them (``<watch>␟surge``)."""

    bins: dict[int, int] = Field(default_factory=dict)
    """Articles per five-minute bin (the bin's start, Unix seconds); a week kept."""
    since: AwareDatetime | None = None
    """When the watch first counted an article (its fetch, however old the article): the history the baseline
    has — before it, the watch was not counting, so no count there means nothing."""
    newest: AwareDatetime | None = None
    recent: tuple[RecentArticle, ...] = ()
    episode: SurgeEpisode | None = None


@dataclass(frozen=True)
class WindowTest:
    window: timedelta
    count: int
    expected: float
    p_value: float


@dataclass(frozen=True)
class SurgeStep:
    """What counting one article did: the series to persist and the surge to alert on, if it started one."""

    series: SurgeSeries
    surge: SurgeFigures | None
    alert_id: str | None


def surge_alert_id(watch_id: str, started_at: datetime) -> str:
    return "s-" + hashlib.blake2b(f"{watch_id}\x00surge\x00{_bin_of(started_at)}".encode(), digest_size=12).hexdigest()


def article_moment(published: datetime | None, fetched: datetime) -> datetime:
    """When an article counts: its publication, never later than its first fetch (a feed's clock may be wrong)."""
    return min(published, fetched) if published is not None else fetched


def count_article(
    series: SurgeSeries, watch_id: str, article: RecentArticle, min_count: int, seen_at: datetime
) -> SurgeStep:
    """Count one matching article (at ``article.at``, its ``article_moment``; ``seen_at``: its fetch) and decide
    whether the watch starts surging with it."""
    moment = article.at.astimezone(UTC)
    newest = max(moment, series.newest) if series.newest else moment
    oldest_kept = _bin_of(newest - timedelta(days=BASELINE_DAYS) - WINDOWS[-1])
    bins = {start: n for start, n in series.bins.items() if start >= oldest_kept}
    bins[_bin_of(moment)] = bins.get(_bin_of(moment), 0) + 1
    recent = tuple(sorted((*series.recent, article), key=lambda a: a.at)[-RECENT_KEPT:])
    since = min(seen_at, series.since) if series.since else seen_at
    counted = SurgeSeries(bins=bins, since=since, newest=newest, recent=recent, episode=series.episode)
    tests = window_tests(bins, since, newest)
    episode = series.episode
    if episode is not None and not any(test.p_value < CALM_P for test in tests):
        episode = None  # the rate fell back: the episode is over
    if episode is not None:
        return SurgeStep(counted.model_copy(update={"episode": episode}), None, None)
    firing = [t for t in tests if is_surge(t, min_count)]
    if not firing:
        return SurgeStep(counted.model_copy(update={"episode": None}), None, None)
    test = min(firing, key=lambda t: t.p_value)
    alert_id = surge_alert_id(watch_id, newest)
    started = SurgeEpisode(alert_id=alert_id, started_at=newest)
    figures = SurgeFigures(
        window_s=int(test.window.total_seconds()),
        count=test.count,
        expected=round(test.expected, 3),
        p_value=test.p_value,
        window_start=newest - test.window,
        top_stories=top_stories(recent, newest - test.window),
    )
    return SurgeStep(counted.model_copy(update={"episode": started}), figures, alert_id)


def is_surge(test: WindowTest, min_count: int) -> bool:
    return test.count >= min_count and test.count >= MIN_RATIO * test.expected and test.p_value < FIRE_P


def window_tests(bins: dict[int, int], since: datetime, now: datetime) -> list[WindowTest]:
    """Each window ending at ``now`` against its baseline (none while the history is shorter than a day)."""
    if now - since < MIN_HISTORY + WINDOWS[-1]:
        return []
    now_bin = _bin_of(now)
    history_end = now_bin - int(WINDOWS[-1].total_seconds())  # the current hour is not its own baseline
    history_start = max(_bin_of(since), now_bin - BASELINE_DAYS * 86400)
    counts = _Counts(bins, history_start, now_bin + _BIN_S)
    tests = []
    for window in WINDOWS:
        width = int(window.total_seconds())
        baseline = _Baseline(counts, width, history_start, history_end)
        end = now_bin + _BIN_S
        count = counts.between(end - width, end)
        expected = baseline.expected(end)
        tests.append(WindowTest(window, count, expected, upper_tail(count, expected, baseline.dispersion())))
    return tests


def top_stories(recent: Sequence[RecentArticle], start: datetime) -> tuple[SurgeStory, ...]:
    """The stories with most articles since ``start``, each named by its first article in the window."""
    within = [a for a in recent if a.at >= start]
    counts = Counter(a.story_id for a in within)
    first: dict[str, RecentArticle] = {}
    for a in within:
        first.setdefault(a.story_id, a)
    ranked = sorted(counts, key=lambda story: (-counts[story], first[story].at))[:TOP_STORIES]
    return tuple(
        SurgeStory(
            story_id=story,
            articles=counts[story],
            title=first[story].title,
            url=first[story].url,
            article_id=first[story].article_id,
        )
        for story in ranked
    )


def upper_tail(count: int, mean: float, dispersion: float = 1.0) -> float:
    """P(X ≥ count) for a Poisson of ``mean`` or, when ``dispersion`` (variance / mean) exceeds 1, a negative
    binomial of that mean and variance. Far in the tail the terms are summed upwards (one minus the CDF would
    lose every digit)."""
    if count <= 0:
        return 1.0
    if count <= mean:
        return max(0.0, 1.0 - math.fsum(math.exp(_log_pmf(k, mean, dispersion)) for k in range(count)))
    terms = []
    for k in range(count, count + 10_000):
        term = math.exp(_log_pmf(k, mean, dispersion))
        terms.append(term)
        if term < 1e-18 * terms[0] or term == 0.0:
            break
    return min(1.0, math.fsum(terms))


def _log_pmf(k: int, mean: float, dispersion: float) -> float:
    if dispersion < POISSON_LIKE:  # the negative binomial tends to the Poisson, and lgamma of a huge size to noise
        return -mean + k * math.log(mean) - math.lgamma(k + 1)
    size, p = mean / (dispersion - 1.0), 1.0 / dispersion
    return math.lgamma(k + size) - math.lgamma(size) - math.lgamma(k + 1) + size * math.log(p) + k * math.log1p(-p)


class _Counts:
    """The bins from ``start`` to ``end`` as prefix sums: any range's count in constant time."""

    def __init__(self, bins: dict[int, int], start: int, end: int) -> None:
        self._start = start
        dense = [0] * ((end - start) // _BIN_S)
        for bin_start, n in bins.items():
            if start <= bin_start < end:
                dense[(bin_start - start) // _BIN_S] += n
        self._prefix = [0]
        for n in dense:
            self._prefix.append(self._prefix[-1] + n)

    def between(self, low: int, high: int) -> int:
        """Articles in bins starting in [low, high)."""
        last = len(self._prefix) - 1

        def index(moment: int) -> int:
            return min(max(-(-(moment - self._start) // _BIN_S), 0), last)

        return self._prefix[index(high)] - self._prefix[index(low)]


class _Baseline:
    """The expected count of one window width at any moment, from the history between ``start`` and ``end``."""

    def __init__(self, counts: _Counts, width: int, start: int, end: int) -> None:
        self._counts, self._width, self._start, self._end = counts, width, start, end
        span = max(end - start, _BIN_S)
        self._overall = counts.between(start, end) / span * width
        self._floor = FLOOR_PER_DAY * width / 86400

    def expected(self, window_end: int) -> float:
        """The same clock time's mean count on the previous days, shrunk towards the average as if the average
        were one more day, above the floor."""
        profile = self._time_of_day(window_end - self._width // 2)
        if profile is None:
            return max(self._overall, self._floor)
        days, mean = profile
        return max((days * mean + SHRINK_DAYS * self._overall) / (days + SHRINK_DAYS), self._floor)

    def dispersion(self) -> float:
        """How much burstier than Poisson the history is around its best estimate: the mean of (count −
        estimate)² / estimate over the history's consecutive windows (the quasi-Poisson estimate; 1 at least),
        each window's share capped at ``RESIDUAL_CAP`` so that one past surge does not mute the watch for a week."""
        width = self._width
        residuals = []
        for low in range(self._start, self._end - width + 1, width):
            estimate = self.expected(low + width)
            residual = (self._counts.between(low, low + width) - estimate) ** 2 / estimate
            residuals.append(min(residual, RESIDUAL_CAP))
        if len(residuals) < 4:
            return 1.0
        return max(1.0, sum(residuals) / len(residuals))

    def _time_of_day(self, centre: int) -> tuple[int, float] | None:
        """How many previous days had this clock time in the history, and their mean count of a window there (an
        hour's band at least, scaled to the window); None without such a day."""
        band = max(self._width, int(TIME_OF_DAY_BAND.total_seconds()))
        days = []
        for back in range(1, BASELINE_DAYS + 1):
            low, high = centre - back * 86400 - band // 2, centre - back * 86400 + band // 2
            if low >= self._start and high <= self._end:
                days.append(self._counts.between(low, high) * self._width / band)
        return (len(days), sum(days) / len(days)) if days else None


def _bin_of(moment: datetime) -> int:
    seconds = int(moment.timestamp())
    return seconds - seconds % _BIN_S

"""``wirewatch bench tagging``: the tagger on real teasers and full-length articles beside its floor, a per-stage
split, then throughput against registry size beside a naive regex baseline.

First, the workloads of ``streams.tools.bench.prose`` — real feed teasers and the main text of real article
pages, each beside the bare automaton scan of the same texts measured in the same run (the floor), and the
generated copy below with its cost per byte beside the real copy's; then where the time of a full-length
article goes, stage by stage (``cProfile``: shares, its overhead included).

The registry-size corpus is generated (deterministic for a seed): ~3 KB articles built from the shipped registry's
own names (each story a cast of five people, four countries and two organisations named again and again, plus
outlets and demonyms), state-media citations in about half of them, topic phrases and neutral filler. Its density of
matches (about 17 per KB) was set to that of real copy (16 per KB in the KCNA sample of ../shared/corpus).
``language`` is left empty, so language detection is measured too; a second figure gives the same articles
with the feed's language set (the common case: most feeds declare it). For each registry size the shipped
registry is trimmed (sizes below it) or extended with synthetic actors of random two-word names (sizes above
it); then the same articles go through

* the tagger (``Tagger.tag``: automaton, context rules, state media, topics, language, output model), and
* the naive baseline: one Python ``re`` alternation of every alias (longest first, ``\\b`` on both sides,
  case-insensitive), ``finditer`` over the same text — matching only, no context, no output.

Time is process CPU time of one thread (``time.process_time``): the figure for one core of this machine; the
tagger's figures are the best of ``rounds`` passes (the machine is shared), the baseline's a single pass.
"""

from __future__ import annotations

import cProfile
import functools
import pstats
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from streams.core.models import Article, Source
from streams.core.registry import Actor, ActorIndex, Registries
from streams.core.tagger import Tagger
from streams.infra.registry_files import load_registries, shipped_tagger
from streams.tools.bench.prose import BareScan, Workload, alias_strings, languages_given, world_news

ARTICLE_CHARS = 3000
_FILLER = (
    "The meeting lasted more than three hours and ended without a joint press conference.",
    "Analysts said the timing of the announcement was unlikely to be a coincidence.",
    "Officials did not immediately respond to requests for comment on Tuesday.",
    "Residents of the capital said prices for basic goods had risen sharply in recent weeks.",
    "The talks were held behind closed doors at a government guesthouse outside the city.",
    "Diplomats described the atmosphere as businesslike but noted that several issues remained open.",
    "The ministry said further details would be released after consultations with partners.",
    "Satellite images published last month showed new construction at the site.",
    "The weather in the region has been unusually cold for the time of year.",
    "Local newspapers carried the story on their front pages the following morning.",
    "A spokesperson declined to say whether a second round of talks had been scheduled.",
    "Experts warned that the agreement could be difficult to verify in practice.",
    "Opposition lawmakers criticised the government for a lack of transparency.",
    "The delegation arrived by special train early on Monday and left two days later.",
    "Markets reacted calmly to the news, with the main index closing slightly higher.",
)
_TOPIC_SENTENCES = (
    "The two sides discussed military cooperation and a possible defence pact.",
    "Washington responded with new sanctions and an asset freeze on several companies.",
    "The country fired a ballistic missile into the sea, the latest in a series of missile tests.",
    "Thousands of protesters took to the streets, and police used tear gas to disperse them.",
    "Officials blamed state-sponsored hackers for a ransomware attack on the port authority.",
    "Aid agencies warned of famine as the humanitarian crisis deepened.",
    "The leaders agreed to resume trade talks and to lower tariffs on steel.",
    "Energy ministers discussed gas pipeline projects and the price of crude.",
)


_STAGES = (
    ("folding", "text.py", "of"),
    ("language id", "language.py", "detect"),
    ("automaton scan", "matcher.py", "scan"),
    ("actor checks", "tagger.py", "_actors"),
    ("outlets", "tagger.py", "_outlets"),
    ("state-media roles", "statemedia.py", "source"),
    ("sentences", "sentences.py", "segment"),
    ("topics", "topics.py", "score_topics"),
    ("output model", "main.py", "model_validate"),
    ("serialisation", "models.py", "to_json"),
)


def run_workload_bench(
    shipped: Registries,
    workloads: Sequence[Workload],
    generated: Sequence[Article],
    rounds: int,
    progress: Callable[[str], None] = lambda _: None,
) -> Iterator[str]:
    """Each workload (and the generated copy) through the tagger beside the bare scan; then the stage split."""
    tagger = shipped_tagger(shipped)
    floor = BareScan(shipped)
    yield f"floor: bare pyahocorasick scan of {floor.aliases:,} lower-cased aliases over the lower-cased text"
    yield ""
    yield (
        "| workload | source | articles | KB each | articles/s | MB/s | language given, articles/s "
        "| floor articles/s | × floor |"
    )
    yield "|---|---|---:|---:|---:|---:|---:|---:|---:|"
    full = next((w for w in workloads if w.name == "full-length"), None)
    news = world_news(full, tagger.tag) if full is not None else None
    generated_copy = Workload("generated", "generated here (no real copy needed)", tuple(generated))
    rows = [*workloads, *([news] if news else []), generated_copy]
    per_byte: dict[str, float] = {}
    for workload in rows:
        progress(f"tagging {workload.name} ({workload.source})")
        articles = workload.articles
        rate = max(_rate(tagger.tag, articles, budget_s=None) for _ in range(rounds))
        given = max(_rate(tagger.tag, languages_given(articles), budget_s=None) for _ in range(rounds))
        floor_rate = max(_rate(floor, articles, budget_s=None) for _ in range(rounds))
        kb = workload.characters / len(articles) / 1000
        per_byte[workload.name] = 1 / (given * kb)
        yield (
            f"| {workload.name} | {workload.source} | {len(articles):,} | {kb:.1f} | {rate:,.0f} "
            f"| {rate * kb / 1000:.2f} | {given:,.0f} | {floor_rate:,.0f} | {floor_rate / rate:.1f} |"
        )
    for real in ("full-length", "full-length news"):
        if real in per_byte:
            ratio = per_byte["generated"] / per_byte[real]
            yield ""
            yield f"generated copy's cost per byte (language given): {ratio:.2f}× the real {real} copy's"
    profiled = news or full or generated_copy
    yield ""
    yield f"where a {profiled.name} article's time goes ({profiled.source}; cProfile shares, language detected):"
    for stage, share in stage_shares(tagger, profiled.articles):
        yield f"  {stage:<20}{share:>6.1%}"


def stage_shares(tagger: Tagger, articles: Sequence[Article]) -> list[tuple[str, float]]:
    """Cumulative time of each stage's function over tagging and serialising ``articles``, as shares of the whole."""
    profiler = cProfile.Profile()
    profiler.enable()
    for article in articles:
        tagger.tag(article).to_json()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, name), (_, _, tt, _, _) in stats.items())
    shares = []
    for stage, filename, function in _STAGES:
        cumulative = sum(
            ct for (path, _, name), (_, _, _, ct, _) in stats.items() if name == function and path.endswith(filename)
        )
        shares.append((stage, cumulative / total))
    return shares


def run_tagging_bench(
    sizes: Sequence[int],
    article_count: int,
    baseline_seconds: float,
    seed: int,
    progress: Callable[[str], None] = lambda _: None,
    rounds: int = 3,
    workloads: Sequence[Workload] = (),
) -> Iterator[str]:
    """Measure the workloads, then the shipped registry and each size; yield the report lines (Markdown tables)."""
    shipped = load_registries()
    articles = generate_articles(shipped, article_count, seed)
    yield from run_workload_bench(shipped, workloads, articles, rounds, progress)
    yield ""
    size_kb = sum(len(a.title) + len(a.summary) + len(a.content) for a in articles) / len(articles) / 1000
    yield f"corpus: {len(articles)} generated articles, {size_kb:.1f} KB of text each on average (seed {seed})"
    yield f"shipped registry: {alias_count(shipped)} aliases"
    yield ""
    with_language = [a.model_copy(update={"language": "en"}) for a in articles]
    yield (
        "| aliases | automaton keys | build s | tagger articles/s | with feed language | naive regex articles/s "
        "| speed-up |"
    )
    yield "|---:|---:|---:|---:|---:|---:|---:|"
    for size in (None, *sizes):
        registries = shipped if size is None else resized(shipped, size, seed)
        progress(f"{alias_count(registries)} aliases: compiling")
        started = time.process_time()
        tagger = shipped_tagger(registries)
        build_s = time.process_time() - started
        progress(f"{alias_count(registries)} aliases: tagging {len(articles)} articles")
        tagger_rate = max(_rate(tagger.tag, articles, budget_s=None) for _ in range(rounds))
        given_rate = max(_rate(tagger.tag, with_language, budget_s=None) for _ in range(rounds))
        progress(f"{alias_count(registries)} aliases: naive regex (budget {baseline_seconds:.0f} s)")
        naive_rate = _rate(functools.partial(_count_matches, naive_baseline(registries)), articles, baseline_seconds)
        label = f"{alias_count(registries):,}" + (" (shipped)" if size is None else "")
        yield (
            f"| {label} | {tagger.automaton_size:,} | {build_s:.2f} | {tagger_rate:,.0f} "
            f"| {given_rate:,.0f} | {naive_rate:,.1f} | {tagger_rate / naive_rate:,.0f}× |"
        )


def _rate(work: Callable[[Article], object], articles: Sequence[Article], budget_s: float | None) -> float:
    """Articles per CPU second: a warm-up, then every article once (or as many as fit the budget, at least 3)."""
    for article in articles[:3]:
        work(article)
    done = 0
    started = time.process_time()
    for article in articles:
        work(article)
        done += 1
        if budget_s is not None and done >= 3 and time.process_time() - started > budget_s:
            break
    return done / max(time.process_time() - started, 1e-9)


def _count_matches(pattern: re.Pattern[str], article: Article) -> int:
    return sum(1 for _ in pattern.finditer("\n".join((article.title, article.summary, article.content))))


def alias_count(registries: Registries) -> int:
    return registries.counts()["aliases"]


def naive_baseline(registries: Registries) -> re.Pattern[str]:
    """What one would write first: every alias in one case-insensitive alternation, longest first."""
    aliases = sorted(set(alias_strings(registries)), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(alias) for alias in aliases) + r")\b", re.IGNORECASE)


def resized(shipped: Registries, size: int, seed: int) -> Registries:
    """The shipped registry cut to about ``size`` aliases (whole actors), or grown with synthetic actors."""
    actors = list(shipped.actors)
    outlet_aliases = sum(len({*o.aliases, *o.short}) for o in shipped.outlets)
    total = alias_count(shipped)
    if size < total:
        kept: list[Actor] = []
        running = outlet_aliases
        for actor in actors:
            if running >= size:
                break
            kept.append(actor)
            running += len({*actor.aliases, *actor.short})
        return replace(shipped, actors=ActorIndex(kept))
    rng = random.Random(seed)  # noqa: S311 - reproducible benchmark data, not security
    synthetic: list[Actor] = []
    seen: set[str] = set()
    while total < size:
        names: list[str] = []
        while len(names) < min(5, size - total):
            name = f"{_pseudo_word(rng)} {_pseudo_word(rng)}"
            if name not in seen:
                seen.add(name)
                names.append(name)
        number = len(synthetic)
        actor_id = f"ww:organization:synthetic-{number}"
        synthetic.append(Actor(actor_id, names[0], "organization", None, aliases=tuple(names)))
        total += len(names)
    return replace(shipped, actors=ActorIndex([*actors, *synthetic]))


_SYLLABLES = "ka ro tu vel min sar dok pri zan lo qui bre nat hul fey gor ish tam ul wen xo yar".split()


def _pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def generate_articles(registries: Registries, count: int, seed: int) -> list[Article]:
    """Deterministic ~3 KB articles that name the registry's actors and outlets the way news copy does."""
    rng = random.Random(seed)  # noqa: S311 - reproducible benchmark data, not security
    people = sorted(a.name for a in registries.actors if a.type == "person")
    countries = sorted((a for a in registries.actors if a.type == "country"), key=lambda a: a.id)
    organizations = sorted(a.name for a in registries.actors if a.type == "organization")
    outlets = sorted(o.name for o in registries.outlets if not o.is_generic)
    fetched = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    articles = []
    for number in range(count):
        # A story has a cast: a few people, countries and organisations that recur, as in real copy.
        cast = rng.sample(people, 5)
        nations = rng.sample(countries, 4)
        bodies = rng.sample(organizations, 2)
        first, second = cast[:2]
        country = nations[0]
        title = f"{first} and {second} meet in {country.name} as tensions rise"
        summary = (
            f"{first} held talks with {second} on {rng.choice(_TOPIC_SENTENCES).lower()[:-1]}, "
            f"according to officials from {rng.choice(bodies)}."
        )
        sentences: list[str] = []
        while sum(len(s) + 1 for s in sentences) < ARTICLE_CHARS - len(title) - len(summary):
            roll = rng.random()
            if roll < 0.11:
                sentences.append(f"{rng.choice(cast)} said {rng.choice(nations).name} would respond.")
            elif roll < 0.18:
                demonym = (rng.choice(nations).demonyms or ("Senior",))[0]
                sentences.append(f"{demonym} officials met representatives of {rng.choice(bodies)}.")
            elif roll < 0.22:
                sentences.append(rng.choice(_TOPIC_SENTENCES))
            elif roll < 0.26 and number % 2 == 0:
                outlet = rng.choice(outlets)
                sentences.append(
                    rng.choice((f"{outlet} reported the talks.", f"The visit was confirmed, {outlet} said."))
                )
            else:
                sentences.append(rng.choice(_FILLER))
        articles.append(
            Article(
                id=f"bench-{number}",
                url=f"https://news.example/{number}",
                title=title,
                summary=summary,
                content=" ".join(sentences),
                fetched=fetched,
                source=Source(feed_url="https://news.example/rss", name="Example News", domain="news.example"),
            )
        )
    return articles

"""Workloads of real published prose for the speed benchmarks, and the bare automaton scan they are measured beside.

Two workloads, as desks see them: **teasers** (feed items: title and summary, a few hundred characters) and
**full-length** articles (3–6 KB of body text, what the connector hands on once it read the page). Both are read
from material nobody here wrote, where it lies (never copied into the repository): the real feeds of
``../shared/corpus`` for teasers, and the main text of real article pages (trafilatura's evaluation pages, as
``wirewatch bench extraction`` reads them) for full-length copy. Without them the benchmark falls back on the
generated copy of ``streams.tools.bench.tagging`` and says so, with its cost per byte beside the real copy's
whenever both are there.

The **floor** is what matching alone costs: every alias of the registry lower-cased in one pyahocorasick
automaton, and one pass of it over the lower-cased text, counting matches — no folding, no boundaries, no
context, no output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import ahocorasick

from connectors.core.errors import FeedFailure
from connectors.core.feedlist import FeedSpec
from connectors.core.normalize import parse_feed
from connectors.core.page import extract_page
from streams.core.errors import WirewatchError
from streams.core.models import Article, Source, TaggedArticle
from streams.core.registry import Registries
from streams.tools.bench.extraction import ExtractionSetError, load_set

FULL_LENGTH = (3_000, 6_000)
"""Characters of body text of a full-length article."""
_FETCHED = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Workload:
    name: str
    source: str
    articles: tuple[Article, ...]

    @property
    def characters(self) -> int:
        return sum(len(a.title) + len(a.summary) + len(a.content) for a in self.articles)


def default_corpus_dir() -> Path:
    return Path("..", "shared", "corpus")


def real_teasers(corpus: Path) -> Workload | None:
    """Every item of the corpus's real RSS snapshots, as the connector normalises it (title, summary, credits)."""
    feeds = sorted((corpus / "feeds").glob("*.xml"))
    articles: list[Article] = []
    for path in feeds:
        spec = FeedSpec(url=f"https://corpus.example/{path.name}", name=path.stem)
        articles += [entry.article for entry in parse_feed(path.read_bytes(), spec, _FETCHED).entries]
    return Workload("teasers", f"{len(feeds)} real feeds of {corpus}", tuple(articles)) if articles else None


def real_full_length(pages: Path, limit: int) -> Workload | None:
    """The main text of real article pages (the extraction set's, in its order) that is 3–6 KB long."""
    try:
        evaluation_set = load_set(pages)
    except ExtractionSetError:
        return None
    articles: list[Article] = []
    for page in evaluation_set.pages:
        try:
            text = extract_page(page.path.read_bytes(), page.url, _FETCHED).text
        except FeedFailure:
            continue
        if FULL_LENGTH[0] <= len(text) <= FULL_LENGTH[1]:
            articles.append(_article(f"page-{len(articles)}", page.url, text))
        if len(articles) >= limit:
            break
    return Workload("full-length", f"main text of real pages in {pages}", tuple(articles)) if articles else None


NEWS_ENTITIES = 3
"""A full-length page counts as world news for the monitor when its text names this many registry entities."""


def world_news(workload: Workload, tag: Callable[[Article], TaggedArticle]) -> Workload | None:
    """The pages of ``workload`` that name ``NEWS_ENTITIES`` registry entities: copy like the desks' (the
    evaluation pages are of every kind — recipes, blogs, shops — and most name none)."""
    news = tuple(a for a in workload.articles if len(tag(a).actors) >= NEWS_ENTITIES)
    source = f"{workload.source}, naming ≥ {NEWS_ENTITIES} registry entities"
    return Workload("full-length news", source, news) if news else None


def _article(article_id: str, url: str, text: str) -> Article:
    title, _, body = text.partition("\n")
    source = Source(feed_url="https://pages.example/rss", name="pages", domain="pages.example")
    return Article(id=article_id, url=url, title=title[:300], content=body, fetched=_FETCHED, source=source)


def alias_strings(registries: Registries) -> list[str]:
    """Every alias and short form of every actor and outlet, as written: what the baselines match."""
    names = [n for a in registries.actors for n in (*a.aliases, *a.short)]
    return names + [n for o in registries.outlets for n in (*o.aliases, *o.short)]


class BareScan:
    """The floor: one lower-cased automaton of every alias, one pass over the lower-cased text."""

    def __init__(self, registries: Registries) -> None:
        self.automaton = ahocorasick.Automaton()
        names = set(alias_strings(registries))
        for name in names:
            self.automaton.add_word(name.lower(), len(name))
        self.automaton.make_automaton()
        self.aliases = len(names)

    def __call__(self, article: Article) -> int:
        text = "\n".join((article.title, article.summary, article.content)).lower()
        return sum(1 for _ in self.automaton.iter(text))


def languages_given(articles: Sequence[Article], language: str = "en") -> list[Article]:
    """The same articles with a feed language set (most feeds declare one): language detection skipped."""
    return [a if a.language else a.model_copy(update={"language": language}) for a in articles]


WORKLOADS = ("teasers", "full-length", "generated")


def pipeline_workloads(
    names: Sequence[str], corpus: Path | None, pages: Path | None, count: int, say: Callable[[str], None]
) -> list[Workload]:
    """The named workloads of ``wirewatch bench pipeline``; a real one whose copy is absent here gives way to the
    generated copy (once), and ``say`` tells which."""
    from streams.tools.bench.extraction import default_set_dir
    from streams.tools.synthetic import CorpusSpec, synthetic_corpus

    unknown = sorted(set(names) - set(WORKLOADS))
    if unknown:
        raise WirewatchError(f"unknown workload {', '.join(unknown)}: choose from {', '.join(WORKLOADS)}")
    found: list[Workload] = []
    wants_generated = "generated" in names
    for name in names:
        if name == "teasers":
            workload = real_teasers(corpus or default_corpus_dir())
        elif name == "full-length":
            workload = real_full_length(pages or default_set_dir(), limit=300)
        else:
            continue
        if workload is None:
            say(f"no real copy for {name} here (see --corpus and --pages): the generated copy stands in")
            wants_generated = True
        else:
            found.append(workload)
    if wants_generated:
        spec = CorpusSpec(count=min(count, 20_000))
        articles = tuple(synthetic_corpus(spec, _FETCHED))
        found.append(Workload("generated", "generated here (streams/tools/synthetic.py, ~3 KB)", articles))
    return found

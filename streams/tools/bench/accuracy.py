"""``wirewatch bench accuracy``: the tagger against real feeds in ``../shared/corpus`` (skipped when absent).

* Actors: precision and recall against the editors' own tags in ``feed_item_labels.jsonl`` (NYT person,
  organisation and place tags; Guardian keywords). Only labels that name an entity of the registry count
  (``ActorIndex.lookup``, which reads NYT index forms such as "Putin, Vladimir V"); a predicted actor is right
  when a label of the item resolves to it. Outlets are left out (editors do not tag them). The labels are
  silver: editors tag what a story is about, not every name in it, so precision is a lower bound.
* State media: every citation found in the 8 feeds (parsed by the connectors' normaliser, as in production)
  and in the KCNA dispatch sample, listed with outlet, role and evidence for review.

The corpus is copyrighted news text: it is read where it lies and never copied.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from streams.core.models import Article, Source, TaggedArticle
from streams.core.registry import OutletIndex, Registries
from streams.core.tagger import Tagger
from streams.infra.registry_files import load_registries, shipped_tagger

_LABEL_GROUPS = {"nyt_per": "person", "nyt_org": "organization", "nyt_geo": "place", "guardian_keyword": "keyword"}
_EVALUATED_TYPES = ("person", "organization", "country")
_FETCHED = datetime(2020, 1, 1, tzinfo=UTC)


def default_corpus_dir() -> Path:
    """``WIREWATCH_CORPUS``, else ``../shared/corpus`` beside the repository."""
    configured = os.environ.get("WIREWATCH_CORPUS")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[4] / "shared" / "corpus"


@dataclass
class Score:
    true_positives: int = 0
    predicted: int = 0
    labelled: int = 0
    found_labels: int = 0

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.found_labels / self.labelled if self.labelled else 0.0


@dataclass
class ActorEvaluation:
    scores: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))
    misses: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)


def evaluate_actors(tagger: Tagger, items: Iterable[dict[str, object]]) -> ActorEvaluation:
    """Score predicted actors against the labels of each item that resolve to registry entities."""
    registries = tagger.registries
    result = ActorEvaluation()
    for number, item in enumerate(items):
        source = "NYT" if "nytimes" in str(item.get("link", "")) else "Guardian"
        tagged = tagger.tag(_labelled_article(number, item))
        predicted = {a.id: a for a in tagged.actors if a.type in _EVALUATED_TYPES}
        labels = _resolved_labels(registries, item)
        matched: set[str] = set()
        for label, candidates in labels.items():
            hit = next((c for c in candidates if c in predicted), None)
            kind = registries.actors.get(candidates[0])
            for key in (source, "all", f"all/{kind.type if kind else '?'}"):
                result.scores[key].labelled += 1
                result.scores[key].found_labels += hit is not None
            if hit is not None:
                matched.add(hit)
            else:
                result.misses.append(f"{source}: {item.get('title')!s:.70} — label {label!r} not found")
        for actor_id, actor in predicted.items():
            correct = actor_id in matched
            for key in (source, "all", f"all/{actor.type}"):
                result.scores[key].predicted += 1
                result.scores[key].true_positives += correct
            if not correct:
                evidence = ", ".join(sorted({m.text for m in actor.mentions}))
                result.extras.append(f"{source}: {item.get('title')!s:.70} — {actor.name} ({evidence}) not labelled")
    return result


def _resolved_labels(registries: Registries, item: dict[str, object]) -> dict[str, list[str]]:
    categories = item.get("categories")
    labels: dict[str, list[str]] = {}
    if not isinstance(categories, dict):
        return labels
    for group in _LABEL_GROUPS:
        for label in categories.get(group, []):
            found = [actor.id for actor in registries.actors.lookup(str(label))]
            if found:
                labels[str(label)] = found
    return labels


def _labelled_article(number: int, item: dict[str, object]) -> Article:
    link = str(item.get("link") or f"https://corpus.invalid/{number}")
    credits = item.get("media_credit") or []
    return Article(
        id=f"label-{number}",
        url=link,
        title=str(item.get("title") or ""),
        summary=str(item.get("description") or ""),
        fetched=_FETCHED,
        source=Source(feed_url=str(item.get("feed_file", "")), name="corpus", domain=_host(link)),
        credits=tuple(str(c) for c in credits) if isinstance(credits, list) else (),
    )


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].lower()


def feed_articles(feeds_dir: Path) -> Iterator[tuple[str, Article]]:
    """Every entry of every feed file, normalised by the connectors exactly as in production."""
    from connectors.core.feedlist import FeedSpec
    from connectors.core.normalize import parse_feed

    for path in sorted(feeds_dir.glob("*.xml")):
        spec = FeedSpec(url=f"https://corpus.invalid/{path.name}", name=path.stem)
        for entry in parse_feed(path.read_bytes(), spec, _FETCHED).entries:
            yield path.stem, entry.article


def kcna_articles(path: Path) -> Iterator[tuple[str, Article]]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        item = json.loads(line)
        link = str(item.get("link", ""))
        yield (
            "kcna_sample",
            Article(
                id=f"kcna-{number}",
                url=link,
                title=str(item.get("headline", "")),
                content=str(item.get("story_text", "")),
                published=datetime.fromisoformat(f"{item['date']}T00:00:00+00:00") if item.get("date") else None,
                fetched=_FETCHED,
                source=Source(feed_url="https://corpus.invalid/kcna", name="KCNA sample", domain=_host(link)),
            ),
        )


def _citation_lines(name: str, tagged: TaggedArticle, outlets: OutletIndex) -> Iterator[str]:
    """Citations worth a reviewer's eye: all but publishers and the photo credits of non-state outlets."""
    for citation in tagged.state_media.cited:
        outlet = outlets.get(citation.id)
        if citation.role == "publisher" or (citation.role == "photo_credit" and not (outlet and outlet.state)):
            continue
        evidence = " | ".join(e.text.replace("\n", " ") for e in citation.evidence[:2])
        yield f"| {name} | {tagged.title[:60]} | {citation.id} | {citation.role} | {evidence[:90]} |"


def run_accuracy(
    corpus: Path, registry_dir: Path | None, details: bool = False, progress: Callable[[str], None] = lambda _: None
) -> Iterator[str]:
    tagger = shipped_tagger(load_registries(registry_dir))
    labels_path = corpus / "feed_item_labels.jsonl"
    if labels_path.is_file():
        progress(f"actors: {labels_path.name}")
        items = [json.loads(line) for line in labels_path.read_text(encoding="utf-8").splitlines() if line.strip()]
        evaluation = evaluate_actors(tagger, items)
        yield f"## Actors against editors' labels ({len(items)} items, {labels_path.name})"
        yield ""
        yield "| subset | labels in registry | found | recall | predicted | correct | precision |"
        yield "|---|---:|---:|---:|---:|---:|---:|"
        for key in ("all", "NYT", "Guardian", *(f"all/{kind}" for kind in _EVALUATED_TYPES)):
            score = evaluation.scores[key]
            yield (
                f"| {key} | {score.labelled} | {score.found_labels} | {score.recall:.1%} | {score.predicted} "
                f"| {score.true_positives} | {score.precision:.1%} |"
            )
        if details:
            yield ""
            yield "Labels not found:"
            yield from (f"- {line}" for line in evaluation.misses)
            yield ""
            yield "Predicted, not labelled:"
            yield from (f"- {line}" for line in evaluation.extras)
    sources: list[tuple[str, Article]] = []
    if (corpus / "feeds").is_dir():
        sources.extend(feed_articles(corpus / "feeds"))
    if (corpus / "kcna_dispatches_sample.jsonl").is_file():
        sources.extend(kcna_articles(corpus / "kcna_dispatches_sample.jsonl"))
    if not sources:
        return
    progress(f"state media: {len(sources)} items")
    tagged_items = [(name, tagger.tag(article)) for name, article in sources]
    per_source: dict[str, Counter[str]] = defaultdict(Counter)
    for name, tagged in tagged_items:
        counts = per_source[name]
        counts["items"] += 1
        counts["state_sourced"] += tagged.state_media.state_sourced
        counts["publisher"] += tagged.state_media.publisher is not None
        for citation in tagged.state_media.cited:
            if citation.role != "publisher":
                counts[citation.role] += 1
    roles = ("dateline", "headline", "cited", "interview", "descriptor", "republished", "photo_credit")
    yield ""
    yield "## State-media sourcing (8 feeds and the KCNA sample)"
    yield ""
    yield "| source | items | publisher known | state-sourced | " + " | ".join(roles) + " |"
    yield "|---|---:|---:|---:|" + "---:|" * len(roles)
    for name, counts in sorted(per_source.items()):
        cells = " | ".join(str(counts[role]) for role in roles)
        yield f"| {name} | {counts['items']} | {counts['publisher']} | {counts['state_sourced']} | {cells} |"
    yield ""
    yield "Citations found, for review (not listed: publishers, photo credits of non-state outlets, the KCNA"
    yield "sample's own datelines):"
    yield ""
    yield "| source | title | outlet | role | evidence |"
    yield "|---|---|---|---|---|"
    for name, tagged in tagged_items:
        for line in _citation_lines(name, tagged, tagger.registries.outlets):
            if name == "kcna_sample" and "| kcna | dateline |" in line:
                continue
            yield line

"""The real-text evaluation set: hand labels in the repository, the publishers' texts outside it.

``streams/tools/data/evalset/labels-*.yaml`` label published articles (actors, every outlet mentioned with its
role, the countries of unnamed "state media", the state-sourced flag). The texts stay where their copyright
allows, in a set directory beside the repository (``WIREWATCH_EVALSET``, default ``../evalset``): one
``texts/<id>.txt`` per article, headline on the first line, paragraphs after it. Every text is checked against
the SHA-256 its label records, so a changed text is reported rather than scored.

The figures are the ones issue 12 sets targets for:

* **actor recall**: labelled actors the tagger found; a label that names nobody in the registry is a miss;
* **citations found**: labelled state-media sources (publisher, dateline or citation of a state outlet, and each
  country of unnamed state media) the tagger credited to the same outlet in a sourcing role;
* **flagged**: state-sourced articles the tagger flags, English and other languages apart;
* **false flags**: articles labelled not state-sourced that the tagger flags;
* **wrong credits**: sourcing citations of state media the tagger made that no label supports (another outlet,
  another country's state media, or an outlet that is only the story's subject or a photo credit).
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from streams.core.models import Article, Citation, Source, TaggedArticle, sources_content
from streams.core.registry import OutletEntry, OutletIndex, Registries
from streams.core.tagger import Tagger
from streams.core.text import lookup_key
from streams.infra.registry_files import load_registries, shipped_tagger

LABELS_DIR = Path(__file__).resolve().parents[1] / "data" / "evalset"
SOURCING_ROLES = frozenset({"publisher", "dateline", "cited", "interview", "republished", "headline", "descriptor"})
"""Labelled roles that make an outlet a source of the article; ``photo_credit`` and ``subject`` do not."""
_FETCHED = datetime(2026, 12, 1, tzinfo=UTC)


def default_set_dir() -> Path:
    """``WIREWATCH_EVALSET``, else ``../evalset`` beside the repository."""
    configured = os.environ.get("WIREWATCH_EVALSET")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[4] / "evalset"


@dataclass(frozen=True)
class LabelledCitation:
    outlet: str
    country: str | None
    state: bool
    role: str
    evidence: str


@dataclass(frozen=True)
class LabelledArticle:
    id: str
    language: str
    text_file: str
    sha256: str | None
    url: str | None
    published: date | None
    classes: tuple[str, ...]
    actors: tuple[str, ...]
    citations: tuple[LabelledCitation, ...]
    unnamed_state_media: tuple[str, ...]
    state_sourced: bool

    @property
    def negative(self) -> bool:
        return not self.state_sourced


def load_labels(labels_dir: Path = LABELS_DIR) -> list[LabelledArticle]:
    """Every article of every ``labels-*.yaml`` in ``labels_dir``; an unknown or missing field is an error."""
    articles: list[LabelledArticle] = []
    for path in sorted(labels_dir.glob("labels-*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for number, raw in enumerate(document.get("articles") or []):
            try:
                articles.append(_labelled_article(raw))
            except (KeyError, TypeError, ValueError) as err:
                raise ValueError(f"{path.name}: article {number} ({raw.get('id', '?')}): {err}") from err
    ids = [article.id for article in articles]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate article ids in the labels: {', '.join(duplicates)}")
    return articles


def _labelled_article(raw: Mapping[str, Any]) -> LabelledArticle:
    published = raw.get("published")
    return LabelledArticle(
        id=str(raw["id"]),
        language=str(raw["language"]),
        text_file=str(raw["text_file"]),
        sha256=raw.get("sha256"),
        url=raw.get("url"),
        published=published if isinstance(published, date) else None,
        classes=tuple(str(c) for c in raw.get("classes") or ()),
        actors=tuple(str(a) for a in raw.get("actors") or ()),
        citations=tuple(
            LabelledCitation(
                outlet=str(c["outlet"]),
                country=c.get("country"),
                state=bool(c["state"]),
                role=str(c["role"]),
                evidence=str(c.get("evidence", "")),
            )
            for c in raw.get("citations") or ()
        ),
        unnamed_state_media=tuple(str(c) for c in raw.get("unnamed_state_media") or ()),
        state_sourced=bool(raw["state_sourced"]),
    )


def read_text(set_dir: Path, label: LabelledArticle) -> str:
    """The article's text, refused when it is not the text that was labelled."""
    data = (set_dir / label.text_file).read_bytes()
    if label.sha256 and hashlib.sha256(data).hexdigest() != label.sha256:
        raise ValueError(f"{label.text_file}: text differs from the one labelled (sha256)")
    return data.decode("utf-8")


def as_article(label: LabelledArticle, text: str) -> Article:
    """The text as a page-fetched article: headline as title, the rest as content, the address's host as domain."""
    title, _, body = text.strip().partition("\n")
    url = label.url or f"https://evalset.invalid/{label.id}"
    published = datetime(*label.published.timetuple()[:3], tzinfo=UTC) if label.published else None
    return Article(
        id=label.id,
        url=url,
        title=title.strip(),
        content=body.strip(),
        published=published,
        fetched=_FETCHED,
        source=Source(feed_url="https://evalset.invalid/", name="evalset", domain=_host(url)),
    )


def _host(url: str) -> str:
    host = url.split("://", 1)[-1].split("/", 1)[0].lower()
    return host.removeprefix("www.")


class OutletNames:
    """Labelled outlet names ("Korean Central News Agency", "Xinhua") resolved to registry entries."""

    def __init__(self, outlets: OutletIndex) -> None:
        self._by_key: dict[str, OutletEntry] = {}
        for outlet in outlets:
            if outlet.is_generic:
                continue
            for name in (outlet.id, outlet.name, *outlet.aliases, *outlet.short):
                self._by_key.setdefault(lookup_key(name), outlet)

    def resolve(self, name: str) -> OutletEntry | None:
        """By the whole name, else without its bracketed part ("Voice of Vietnam (VOV)"), else by that part."""
        bare, _, bracketed = name.partition("(")
        for candidate in (name, bare, bracketed.rstrip(")")):
            found = self._by_key.get(lookup_key(candidate)) if candidate.strip() else None
            if found is not None:
                return found
        return None


class Tally(Counter[str]):
    """The figures of one row (all articles, a language, a failure class), by name: ``articles``,
    ``actors_labelled``/``actors_found``, ``sources_labelled``/``sources_found``, ``state_sourced``/``flagged``,
    ``negatives``/``false_flags`` and ``wrong_credits``."""


@dataclass
class ArticleScore:
    tally: Tally
    problems: list[str] = field(default_factory=list)


def score_article(
    label: LabelledArticle, tagged: TaggedArticle, registries: Registries, names: OutletNames
) -> ArticleScore:
    """Compare one tagged article with its labels; ``problems`` says what differs, for ``--details``."""
    tally = Tally(articles=1)
    problems: list[str] = []
    found_actors = {actor.id for actor in tagged.actors}
    for name in label.actors:
        tally["actors_labelled"] += 1
        candidates = {actor.id for actor in registries.actors.lookup(name)}
        if candidates & found_actors:
            tally["actors_found"] += 1
        else:
            problems.append(f"actor {name!r} {'not found' if candidates else 'not in the registry'}")

    credited = _credited_sources(tagged)
    supported: set[str] = set()
    for cited in label.citations:
        if not cited.state or cited.role not in SOURCING_ROLES:
            continue
        tally["sources_labelled"] += 1
        outlet = names.resolve(cited.outlet)
        if outlet is None:
            problems.append(f"source {cited.outlet!r} ({cited.role}) not in the registry")
            continue
        supported.add(outlet.id)
        if outlet.id in credited:
            tally["sources_found"] += 1
        else:
            problems.append(f"source {cited.outlet!r} ({cited.role}: {cited.evidence!r}) not found")
    for country in label.unnamed_state_media:
        tally["sources_labelled"] += 1
        generic = registries.outlets.state_media_of(country)
        if generic is not None:
            supported.add(generic.id)
        if generic is not None and generic.id in credited:
            tally["sources_found"] += 1
        else:
            problems.append(f"unnamed state media of {country} not found")
    # A generic credit is also right when the country's named outlet is a labelled source ("state agency KCNA").
    supported_countries = {o.country for o in registries.outlets if o.id in supported and o.country}
    for outlet_id, citation in credited.items():
        entry = registries.outlets.get(outlet_id)
        if entry is None or outlet_id in supported:
            continue
        if entry.is_generic and entry.country in supported_countries:
            continue
        tally["wrong_credits"] += 1
        evidence = citation.evidence[0].text if citation.evidence else ""
        problems.append(f"credited {outlet_id} ({citation.role}: {evidence!r}) without a label")

    flagged = tagged.state_media.state_sourced
    if label.state_sourced:
        tally["state_sourced"] += 1
        tally["flagged"] += flagged
        if not flagged:
            problems.append("state-sourced, not flagged")
    else:
        tally["negatives"] += 1
        tally["false_flags"] += flagged
        if flagged:
            problems.append("flagged, labelled not state-sourced")
    return ArticleScore(tally, problems)


def _credited_sources(tagged: TaggedArticle) -> dict[str, Citation]:
    """State outlets the tagger made sources of the article, by id (publisher included)."""
    credited: dict[str, Citation] = {}
    publisher = tagged.state_media.publisher
    if publisher is not None:
        credited[publisher.id] = Citation(**publisher.model_dump(), role="publisher")
    for citation in tagged.state_media.cited:
        if sources_content(citation.role):
            credited.setdefault(citation.id, citation)
    return credited


@dataclass
class Evaluation:
    rows: dict[str, Tally]
    problems: dict[str, list[str]]
    skipped: list[str]


def evaluate(tagger: Tagger, labels: Iterable[LabelledArticle], set_dir: Path) -> Evaluation:
    """Tag every labelled article found in ``set_dir`` and add its figures to its rows."""
    registries = tagger.registries
    names = OutletNames(registries.outlets)
    rows: dict[str, Tally] = defaultdict(Tally)
    problems: dict[str, list[str]] = {}
    skipped: list[str] = []
    for label in labels:
        try:
            text = read_text(set_dir, label)
        except (OSError, ValueError) as err:
            skipped.append(f"{label.id}: {err}")
            continue
        tagged = _only_state_sources(tagger.tag(as_article(label, text)), registries.outlets)
        score = score_article(label, tagged, registries, names)
        keys = ["all", "English" if label.language == "en" else "other languages", f"language {label.language}"]
        keys.extend(f"class {name}" for name in label.classes)
        for key in keys:
            rows[key].update(score.tally)
        if score.problems:
            problems[label.id] = score.problems
    return Evaluation(dict(rows), problems, skipped)


def _only_state_sources(tagged: TaggedArticle, outlets: OutletIndex) -> TaggedArticle:
    """Keep the citations of state outlets: the figures are about state media, not every wire credited."""
    state_cited = tuple(c for c in tagged.state_media.cited if (entry := outlets.get(c.id)) and entry.state)
    publisher = tagged.state_media.publisher
    if publisher is not None and not ((entry := outlets.get(publisher.id)) and entry.state):
        publisher = None
    state_media = tagged.state_media.model_copy(update={"cited": state_cited, "publisher": publisher})
    return tagged.model_copy(update={"state_media": state_media})


def report(evaluation: Evaluation, details: bool = False) -> Iterator[str]:
    """The issue's table for all articles, then per language and per failure class."""
    rows = evaluation.rows
    overall = rows.get("all", Tally())
    english = rows.get("English", Tally())
    other = rows.get("other languages", Tally())
    articles, negatives = overall["articles"], overall["negatives"]
    yield f"## Real-text evaluation set ({articles} articles, {negatives} negatives)"
    yield ""
    yield "| figure | measured | target |"
    yield "|---|---:|---:|"
    yield f"| actors found (recall) | {_ratio(overall, 'actors_found', 'actors_labelled')} | ≥ 0.95 |"
    yield f"| state-media citations found | {_ratio(overall, 'sources_found', 'sources_labelled')} | ≥ 0.90 |"
    yield f"| state-sourced articles flagged, English | {_ratio(english, 'flagged', 'state_sourced')} | ≥ 0.95 |"
    yield f"| state-sourced articles flagged, other languages | {_ratio(other, 'flagged', 'state_sourced')} | ≥ 0.85 |"
    yield f"| false state-sourced flags on the {negatives} negatives | {overall['false_flags']} | 0 |"
    yield f"| citations credited to the wrong outlet or country | {overall['wrong_credits']} | 0 |"
    yield ""
    yield "| subset | articles | actor recall | citations found | flagged | false flags | wrong credits |"
    yield "|---|---:|---:|---:|---:|---:|---:|"
    ordered = sorted(rows, key=lambda key: (not key.startswith("all"), not key.startswith("English"), key))
    for key in ordered:
        row = rows[key]
        yield (
            f"| {key} | {row['articles']} | {_ratio(row, 'actors_found', 'actors_labelled')} "
            f"| {_ratio(row, 'sources_found', 'sources_labelled')} | {_ratio(row, 'flagged', 'state_sourced')} "
            f"| {row['false_flags']}/{row['negatives']} | {row['wrong_credits']} |"
        )
    if evaluation.skipped:
        yield ""
        yield f"Not scored ({len(evaluation.skipped)}):"
        yield from (f"- {line}" for line in evaluation.skipped)
    if details and evaluation.problems:
        yield ""
        yield "Disagreements with the labels:"
        for article_id, lines in sorted(evaluation.problems.items()):
            yield from (f"- {article_id}: {line}" for line in lines)


def _ratio(row: Tally, part_name: str, whole_name: str) -> str:
    part, whole = row[part_name], row[whole_name]
    return f"{part / whole:.2f} ({part}/{whole})" if whole else "—"


def run_evalset(
    set_dir: Path, registry_dir: Path | None, details: bool = False, progress: Callable[[str], None] = lambda _: None
) -> Iterator[str]:
    labels = load_labels()
    progress(f"evaluation set: {len(labels)} labelled articles, texts in {set_dir}")
    yield from report(evaluate(shipped_tagger(load_registries(registry_dir)), labels, set_dir), details=details)

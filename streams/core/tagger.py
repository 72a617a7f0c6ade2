"""The tagger: an Article in, a TaggedArticle out (actors, topics, state-media sourcing, language).

``Tagger(registries, language_detector)`` compiles everything once; ``tag`` is pure and deterministic (same article and
registries, same output, whatever the order of aliases in the files) and safe to call from many threads.

How names become actors (README.md, "Tagging", has the user's view):

- Overlapping matches are resolved longest first: "Kim Jong Un's sister Kim Yo Jong" gives Kim Jong Un and
  Kim Yo Jong, and the bare "Kim" inside each never counts on its own.
- A full alias counts anywhere. An alias shared by several entities counts only for those named otherwise
  in the article.
- A short form ("Kim", "Xi", "Assad"; case-sensitive) counts after a title of that actor ("President Xi") or
  when the nearest full name before it (or, in a headline, the first in the article) is that actor's. A short
  form glued to another capitalised name ("Kim Kardashian", "Asma al-Assad") is someone else, and counts as
  the nearest antecedent for the bare forms after it.
- An office descriptor ("the Russian president") names whoever held the office on the article's date, unless
  "former"/"late"/"then" precedes it or another name follows it.
- Metonyms ("the Kremlin", "Pyongyang") and demonyms ("Russian", "Iranian-backed") tag the country, never a
  person; the mention text shows which word it was (docs/decisions/0203-demonyms-tag-countries.md).
- Outlets named in the story text are actors of type ``outlet``; short outlet forms ("RT", "SANA") need an
  outlet cue in their sentence or the outlet's full name in the article. Credits, datelines and
  republication lines are sourcing, not story text (``streams.core.statemedia``).
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from streams.core.language import LanguageDetector
from streams.core.matcher import FIELDS, Candidate, Document, Kind, Matcher, NameForms, no_other_forms
from streams.core.models import TAGGED_SCHEMA_VERSION, Article, TaggedArticle
from streams.core.registry import Registries
from streams.core.statemedia import (
    MEDIA_PHRASES,
    REFERENCE_NOUNS,
    CountryMention,
    OutletMention,
    has_outlet_cue,
    source,
)
from streams.core.text import MONTHS, WEEKDAYS, fold, fold_keeping_case
from streams.core.topics import score_topics

if TYPE_CHECKING:
    from streams.core.entities import DeskEntityMatcher

_HONORIFICS = frozenset(
    """mr mrs ms miss dr prof sir dame lord lady comrade president premier chairman chairwoman general gen marshal
    minister secretary leader senator sen rep gov governor king queen prince princess sheikh ayatollah imam pope
    vice deputy foreign prime supreme mayor ambassador envoy spokesman spokeswoman spokesperson chancellor emperor
    crown colonel col lieutenant lt captain capt admiral adm director chief commander judge justice madam mme
    monsieur herr frau señor señora sayyid hojatoleslam""".split()
)
_CALENDAR_WORDS = frozenset((*WEEKDAYS, *MONTHS))
_NOT_THE_HOLDER = frozenset("former ex late then previous past future next would-be erstwhile onetime one-time".split())
_SENTENCE_OPENERS = frozenset(".!?:;\"“”‘'(«—–\n")
_JOINERS = " -‐‑"  # what glues the parts of one name ("Kim Kardashian", "al-Assad")
_NEXT_WORD = re.compile(r"^[ \-‐‑]([^\W\d_][\w'’-]*)")
_PREVIOUS_WORD = re.compile(r"([^\W\d_][\w.'’-]*)[ \-‐‑]$")
_NAME_AFTER = re.compile(r"^,?\s+([^\W\d_][\w'’.-]*)")
_LAST_WORD = re.compile(r"([\w-]+)\W*$")

_COUNTRY_EVIDENCE = (Kind.ALIAS, Kind.METONYM, Kind.DEMONYM)
_OUTLET_KINDS = (Kind.OUTLET, Kind.OUTLET_SHORT)
Span = tuple[int, int, int]  # field, start, end
TagData = tuple[Span, dict[str, Any]]  # first mention, ActorTag fields


class Group(NamedTuple):
    """The patterns found at one span (several when a key is shared)."""

    field: int
    start: int
    end: int
    candidates: tuple[Candidate, ...]

    @property
    def span(self) -> Span:
        return self.field, self.start, self.end


class _SpanIndex:
    """Where kept spans start (with the ids found there) and end; built on first use (most articles never ask)."""

    def __init__(self, groups: Sequence[Group]) -> None:
        self._groups = groups

    @functools.cached_property
    def starts(self) -> dict[tuple[int, int], set[str]]:
        return {(g.field, g.start): {c.pattern.target for c in g.candidates} for g in self._groups}

    @functools.cached_property
    def ends(self) -> set[tuple[int, int]]:
        return {(g.field, g.end) for g in self._groups}


class Tagger:
    """Compiled once from the registries; ``tag`` is pure and thread-safe."""

    def __init__(
        self, registries: Registries, language_detector: LanguageDetector | None, name_forms: NameForms | None = None
    ) -> None:
        """``language_detector`` names the language of articles whose feed does not (None: only the feed's);
        ``name_forms`` gives the other written forms of names (their case forms in languages that decline them)."""
        self.registries = registries
        self.language_detector = language_detector
        self.name_forms = name_forms
        vocabulary = {Kind.MEDIA: MEDIA_PHRASES, Kind.REFERENCE: REFERENCE_NOUNS}
        self._matcher = Matcher(registries, vocabulary, name_forms)
        self.automaton_size = self._matcher.size
        self._topics = {rule.id: rule for rule in registries.topics}
        self._titles = {a.id: frozenset(fold(t).strip() for t in a.titles) for a in registries.actors}
        self._country_code = {a.id: a.country for a in registries.actors if a.type == "country" and a.country}
        forms = name_forms or no_other_forms
        self._short_forms = {
            a.id: frozenset(fold_keeping_case(f).strip() for s in a.short for f in (s, *forms(s)))
            for a in registries.actors
        }

    def tag(self, article: Article, desk_entities: DeskEntityMatcher | None = None) -> TaggedArticle:
        """``desk_entities``: the desks' own entities, matched in their own pass over the same folded text
        (compiled apart, so a desk's change rebuilds only them: ``streams.core.entities``)."""
        document = Document(article)
        names: list[Candidate] = []
        topic_hits: list[Candidate] = []
        references: list[Candidate] = []
        for candidate in self._matcher.scan(document):
            if candidate.pattern.is_topic:
                topic_hits.append(candidate)
            elif candidate.pattern.kind is Kind.REFERENCE:
                references.append(candidate)
            else:
                names.append(candidate)
        groups = longest_first(names)
        actors = self._actors(document, groups)
        for country_id, span in self._countries_inside_longer_mentions(names, groups):
            actors.setdefault(country_id, []).append(span)
        outlet_mentions = self._outlets(document, groups)
        media = [c for g in groups for c in g.candidates if c.pattern.kind is Kind.MEDIA]
        countries = functools.cache(lambda: self._country_mentions(groups, actors))
        sourcing = source(document, self.registries.outlets, outlet_mentions, media, countries, references)
        outlet_spans: dict[str, list[Span]] = defaultdict(list)
        for mention in sourcing.story_mentions:
            outlet_spans[mention.outlet.id].append((mention.field, mention.start, mention.end))
        tags = [self._actor_tag(document, actor_id, spans) for actor_id, spans in actors.items()]
        tags += [self._outlet_tag(document, outlet_id, spans) for outlet_id, spans in outlet_spans.items()]
        if desk_entities is not None:
            tags += desk_entities.tags(document)
        tags.sort(key=lambda tag: (tag[0], tag[1]["id"]))
        topics = score_topics(self._topics, topic_hits, document)
        language = article.language
        if language is None and self.language_detector is not None:
            language = self.language_detector.detect(" ".join((article.title, article.summary, article.content)))
        # One validation of plain data: pydantic-core builds the nested models faster than Python constructors.
        return TaggedArticle.model_validate(
            {
                **dict(article),
                "schema_version": TAGGED_SCHEMA_VERSION,  # an article of any version is tagged as the current one
                "language": language,
                "actors": [tag for _, tag in tags],
                "topics": topics,
                "state_media": sourcing.state_media,
            }
        )

    # ----------------------------------------------------------------------- actors
    def _actors(self, document: Document, groups: Sequence[Group]) -> dict[str, list[Span]]:
        strong: dict[str, list[Span]] = defaultdict(list)
        shared: list[tuple[Span, set[str]]] = []
        pending_short: list[Group] = []
        foreign: dict[str, list[tuple[int, int]]] = defaultdict(list)
        spans = _SpanIndex(groups)
        for group in groups:
            span = group.span
            aliases: list[str] = []
            bare_short = False
            for candidate in group.candidates:
                pattern = candidate.pattern
                kind = pattern.kind
                if kind is Kind.ALIAS:
                    if pattern.target not in aliases:
                        aliases.append(pattern.target)
                elif kind is Kind.SHORT:
                    if pattern.title is None:
                        bare_short = True
                    else:
                        strong[pattern.target].append(span)
                elif (
                    kind is Kind.METONYM
                    or kind is Kind.DEMONYM
                    or (kind is Kind.OFFICE and self._is_current_holder(document, group, pattern.target, spans))
                ):
                    strong[pattern.target].append(span)
            if len(aliases) > 1:
                shared.append((span, set(aliases)))
            elif aliases:
                strong[aliases[0]].append(span)
            elif bare_short:
                if self._is_part_of_other_name(document, group, spans):
                    foreign[_cased(document, group)].append((group.field, group.start))
                else:
                    pending_short.append(group)
        for span, owners in shared:
            for owner in owners & strong.keys():
                strong[owner].append(span)
        for group in pending_short:
            resolved = self._antecedent(document, group, strong, foreign)
            if resolved is not None:
                strong[resolved].append(group.span)
        return strong

    def _countries_inside_longer_mentions(
        self, names: Sequence[Candidate], groups: Sequence[Group]
    ) -> Iterator[tuple[str, Span]]:
        """The country named inside a person's mention ("Russian President Vladimir Putin", "North Korean leader
        Kim") or an unnamed state-media phrase ("North Korean media"): the longer name wins the span, but the
        article still names the country (and the phrase gets its country from it)."""
        containers = [
            g
            for g in groups
            if any(
                c.pattern.kind is Kind.MEDIA
                or ((a := self.registries.actors.get(c.pattern.target)) and a.type == "person")
                for c in g.candidates
            )
        ]
        if not containers:
            return
        for candidate in names:
            if candidate.pattern.kind not in (Kind.DEMONYM, Kind.ALIAS):
                continue
            if candidate.pattern.target not in self._country_code:
                continue
            for group in containers:
                if group.field == candidate.field and group.start <= candidate.start and candidate.end <= group.end:
                    if (group.start, group.end) != (candidate.start, candidate.end):
                        yield candidate.pattern.target, (candidate.field, candidate.start, candidate.end)
                    break

    @staticmethod
    def _is_current_holder(document: Document, group: Group, actor_id: str, spans: _SpanIndex) -> bool:
        """Not "the former Russian president", not "the Russian president, Boris Yeltsin" (someone else's name)."""
        text = document.texts[group.field]
        previous = _LAST_WORD.search(text[max(0, group.start - 30) : group.start])
        if previous and previous.group(1).lower() in _NOT_THE_HOLDER:
            return False
        following = _NAME_AFTER.match(text[group.end : group.end + 60])
        if following and following.group(1)[0].isupper() and following.group(1).lower() not in _CALENDAR_WORDS:
            return actor_id in spans.starts.get((group.field, group.end + following.start(1)), ())
        return True

    def _is_part_of_other_name(self, document: Document, group: Group, spans: _SpanIndex) -> bool:
        """ "Kim Kardashian", "Asma al-Assad": a short form glued to a capitalised word that is no title or entity."""
        if document.is_headline_case(group.field):
            return False
        text = document.texts[group.field]
        start, end = group.start, group.end
        if end + 1 < len(text) and text[end] in _JOINERS and text[end + 1].isupper():
            following = _NEXT_WORD.match(text[end : end + 40])
            if following and (group.field, end + 1) not in spans.starts:
                return True
        if start < 2 or text[start - 1] not in _JOINERS or not text[start - 2].isalpha():
            return False
        preceding = _PREVIOUS_WORD.search(text[max(0, start - 40) : start])
        if not preceding or not preceding.group(1)[0].isupper():
            return False
        word = preceding.group(1)
        word_start = start - len(preceding.group(0))
        titles = set().union(*(self._titles.get(c.pattern.target, frozenset()) for c in group.candidates))
        before = text[:word_start].rstrip(" ")
        return not (
            word.lower().rstrip(".") in _HONORIFICS
            or fold(word).strip() in titles
            or word.endswith(("'s", "’s"))
            or not before
            or before[-1] in _SENTENCE_OPENERS
            or (group.field, word_start) in spans.starts
            or (group.field, word_start + len(word)) in spans.ends
        )

    def _antecedent(
        self,
        document: Document,
        group: Group,
        strong: dict[str, list[Span]],
        foreign: dict[str, list[tuple[int, int]]],
    ) -> str | None:
        """The actor of the nearest full name sharing this short form before it (in a headline: the first)."""
        form = _cased(document, group)
        owners = {c.pattern.target for c in group.candidates if c.pattern.kind is Kind.SHORT}
        events: list[tuple[tuple[int, int], str | None]] = [(position, None) for position in foreign.get(form, [])]
        for actor_id, spans in strong.items():
            if form in self._short_forms.get(actor_id, frozenset()):
                events.extend(((field, start), actor_id) for field, start, _ in spans)
        if not events:
            return None
        events.sort(key=lambda e: (e[0], e[1] or ""))
        here = (group.field, group.start)
        before = [e for e in events if e[0] < here]
        chosen = before[-1][1] if before else events[0][1]
        return chosen if chosen in owners else None

    def _country_mentions(self, groups: Sequence[Group], actors: Mapping[str, list[Span]]) -> list[CountryMention]:
        """Every name, metonym and demonym of a country, and every tagged actor of a country (people,
        organisations): what resolves unnamed "state media" to a country."""
        mentions = [
            CountryMention(g.field, g.start, g.end, country)
            for g in groups
            for c in g.candidates
            if c.pattern.kind in _COUNTRY_EVIDENCE and (country := self._country_code.get(c.pattern.target)) is not None
        ]
        named = {(m.field, m.start, m.end) for m in mentions}
        for actor_id, spans in actors.items():
            actor = self.registries.actors.get(actor_id)
            if actor is None or not actor.country:
                continue
            if actor.type != "country":
                mentions.extend(CountryMention(f, s, e, actor.country, direct=False) for f, s, e in spans)
            else:  # a country named inside a longer mention (``_countries_inside_longer_mentions``)
                mentions.extend(CountryMention(*span, actor.country) for span in spans if span not in named)
        return sorted(mentions, key=lambda m: (m.field, m.start))

    # ----------------------------------------------------------------------- outlets
    def _outlets(self, document: Document, groups: Sequence[Group]) -> list[OutletMention]:
        found = [(g, c) for g in groups for c in g.candidates if c.pattern.kind in _OUTLET_KINDS]
        named = {c.pattern.target for _, c in found if c.pattern.kind is Kind.OUTLET}
        mentions: list[OutletMention] = []
        for group, candidate in found:
            outlet = self.registries.outlets.get(candidate.pattern.target)
            if outlet is None:
                continue
            if candidate.pattern.kind is Kind.OUTLET_SHORT and not (
                outlet.id in named or has_outlet_cue(document, group.field, group.start, group.end, outlet.cues)
            ):
                continue
            mentions.append(OutletMention(group.field, group.start, group.end, outlet))
        return mentions

    # ----------------------------------------------------------------------- output
    def _actor_tag(self, document: Document, actor_id: str, spans: Iterable[Span]) -> TagData:
        actor = self.registries.actors.get(actor_id)
        assert actor is not None
        return tag_data(document, spans, id=actor.id, name=actor.name, type=actor.type, country=actor.country)

    def _outlet_tag(self, document: Document, outlet_id: str, spans: Iterable[Span]) -> TagData:
        outlet = self.registries.outlets.get(outlet_id)
        assert outlet is not None
        return tag_data(document, spans, id=outlet.id, name=outlet.name, type="outlet", country=outlet.country)


def tag_data(document: Document, spans: Iterable[Span], **actor: str | None) -> TagData:
    """An ``ActorTag`` as plain data, keyed by its first mention (tags are listed in reading order)."""
    ordered = sorted(set(spans))
    mentions = [
        {"field": FIELDS[field], "start": start, "end": end, "text": document.texts[field][start:end]}
        for field, start, end in ordered
    ]
    return ordered[0], {**actor, "mentions": mentions}


def longest_first(candidates: Iterable[Candidate]) -> list[Group]:
    """Group candidates by span and keep, among overlapping spans, the longest ones; in reading order.

    One sweep finds clusters of overlapping spans (mostly a full name and its short form inside it); only those
    are sorted by length.
    """
    by_span: dict[Span, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        by_span[candidate.field, candidate.start, candidate.end].append(candidate)
    kept: list[Span] = []
    cluster: list[Span] = []
    cluster_field, cluster_end = -1, -1
    for span in sorted(by_span):
        field, start, end = span
        if field == cluster_field and start < cluster_end:
            cluster.append(span)
            cluster_end = max(cluster_end, end)
            continue
        kept.extend(cluster if len(cluster) == 1 else _longest_of(cluster))
        cluster, cluster_field, cluster_end = [span], field, end
    kept.extend(cluster if len(cluster) == 1 else _longest_of(cluster))
    kept.sort()
    return [Group(field, start, end, tuple(by_span[field, start, end])) for field, start, end in kept]


def _longest_of(cluster: list[Span]) -> list[Span]:
    if len(cluster) == 2:  # the usual cluster, a full name and its short form: the longer one, else the first
        (_, start_a, end_a), (_, start_b, end_b) = cluster
        length_a, length_b = end_a - start_a, end_b - start_b
        return [cluster[0] if (length_a, -start_a) >= (length_b, -start_b) else cluster[1]]
    chosen: list[Span] = []
    for span in sorted(cluster, key=lambda s: (s[1] - s[2], s[1])):
        if all(span[2] <= other[1] or other[2] <= span[1] for other in chosen):
            chosen.append(span)
    return chosen


def _cased(document: Document, group: Group) -> str:
    return fold_keeping_case(document.texts[group.field][group.start : group.end]).strip()

"""Feed bytes to ``Article``s: feedparser on defused bytes, then one normalisation rule per field.

Survivable feedparser complaints ("bozo": a wrong declared encoding, an ill-formed document its loose
parser still read) keep the entries and come back as a warning; a document with no feed structure at
all is a ``FeedFailure("not_a_feed")``. Nothing here touches the network, the disk or the clock.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser

from connectors.core.errors import FeedFailure
from connectors.core.feedlist import FeedSpec
from connectors.core.hostile import defuse_xml
from connectors.core.text import (
    clip,
    credit_from_label,
    credits_in_caption,
    html_to_text,
    normalise_language,
    normalise_whitespace,
)
from connectors.core.urls import article_id_for_guid, article_id_for_url, canonical_url, host_of
from connectors.core.websub import HubLinks, discover_hub
from streams.core.models import Article, Source

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})
_PASSED_HEADERS = ("content-type", "content-language")


@dataclass(frozen=True)
class ParseLimits:
    max_entries: int = 500
    title_chars: int = 1_000
    summary_chars: int = 10_000
    content_chars: int = 100_000
    max_credits: int = 20
    guid_chars: int = 2_000


DEFAULT_PARSE_LIMITS = ParseLimits()


@dataclass(frozen=True)
class FeedEntry:
    """A normalised entry: the article plus the GUID that de-duplicates it within its feed."""

    article: Article
    guid: str | None


@dataclass(frozen=True)
class ParsedFeed:
    entries: tuple[FeedEntry, ...]
    ttl: timedelta | None = None
    skipped: int = 0
    """Entries dropped: beyond ``max_entries`` or with neither a usable link nor a GUID."""
    warning: str | None = None
    """A survivable parser complaint, one line."""
    websub: HubLinks | None = None
    """The feed's WebSub hub and self links, when it declares both."""


def parse_feed(
    data: bytes,
    feed: FeedSpec,
    fetched: datetime,
    headers: Mapping[str, str] | None = None,
    limits: ParseLimits = DEFAULT_PARSE_LIMITS,
) -> ParsedFeed:
    """Parse and normalise one feed document fetched at ``fetched`` (UTC-aware)."""
    passed = {k.lower(): v for k, v in (headers or {}).items() if k.lower() in _PASSED_HEADERS}
    passed.setdefault("content-type", "application/xml")  # feedparser flags a missing type as an error
    passed["content-location"] = feed.url
    # A BytesIO, never raw bytes: feedparser treats a bytes/str argument that looks like a URL or a
    # path as something to open.
    parsed = feedparser.parse(io.BytesIO(defuse_xml(data)), response_headers=passed)
    problem = _one_line(parsed.get("bozo_exception")) if parsed.get("bozo") else None
    if not parsed.get("version") and not parsed.entries:
        raise FeedFailure("not_a_feed", problem or "no RSS, Atom or RDF structure found")
    feed_language = normalise_language(parsed.feed.get("language") or passed.get("content-language"))
    entries: list[FeedEntry] = []
    seen_ids: set[str] = set()
    for raw in parsed.entries[: limits.max_entries]:
        entry = normalise_entry(raw, feed, fetched, feed_language, limits)
        if entry is not None and entry.article.id not in seen_ids:
            seen_ids.add(entry.article.id)
            entries.append(entry)
    return ParsedFeed(
        entries=tuple(entries),
        ttl=_ttl(parsed.feed.get("ttl")),
        skipped=len(parsed.entries) - len(entries),
        warning=problem,
        websub=discover_hub(link for link in parsed.feed.get("links") or () if isinstance(link, Mapping)),
    )


def normalise_entry(
    raw: Mapping[str, Any],
    feed: FeedSpec,
    fetched: datetime,
    feed_language: str | None = None,
    limits: ParseLimits = DEFAULT_PARSE_LIMITS,
) -> FeedEntry | None:
    """One feedparser entry as an ``Article``; ``None`` when it has neither a usable link nor a GUID."""
    guid = clip(_text_value(_field(raw, "id")), limits.guid_chars) or None
    link = _link(raw, guid)
    canonical = canonical_url(link) if link else None
    if canonical is not None:
        article_id = article_id_for_url(canonical)
    elif guid:
        article_id = article_id_for_guid(feed.url, guid)
    else:
        return None
    url = canonical or canonical_url(feed.url) or feed.url
    title, title_captions = _field_text(_field(raw, "title_detail"), _field(raw, "title"))
    summary, summary_captions = _field_text(_field(raw, "summary_detail"), _field(raw, "summary"))
    content, content_captions = _content_text(_field(raw, "content"))
    captions = (*title_captions, *summary_captions, *content_captions, summary, content)
    article = Article(
        id=article_id,
        url=url,
        title=clip(title, limits.title_chars),
        summary=clip(summary, limits.summary_chars),
        content=clip(content, limits.content_chars),
        published=_published(raw, fetched),
        fetched=fetched,
        language=feed.language or _entry_language(raw) or feed_language,
        source=Source(feed_url=feed.url, name=feed.name, domain=host_of(url) or host_of(feed.url), outlet=feed.outlet),
        credits=_credits(raw, captions, limits.max_credits),
    )
    return FeedEntry(article=article, guid=guid)


def _link(raw: Mapping[str, Any], guid: str | None) -> str | None:
    """The article's own address: feedburner's original link beats its proxy link; a URL GUID is a last resort."""
    candidates = [_text_value(_field(raw, "feedburner_origlink")), _text_value(_field(raw, "link"))]
    candidates += [
        _text_value(link.get("href"))
        for link in _field(raw, "links") or ()
        if isinstance(link, Mapping) and link.get("rel", "alternate") == "alternate"
    ]
    candidates.append(guid or "")
    return next((c for c in candidates if c and canonical_url(c)), None)


def _field_text(detail: Any, value: Any) -> tuple[str, tuple[str, ...]]:
    """Plain text of a title or summary (HTML converted, plain text kept) and any figure captions in it."""
    text = _text_value(value)
    if not text:
        return "", ()
    kind = detail.get("type") if isinstance(detail, Mapping) else "text/html"
    if kind in _HTML_TYPES:
        return html_to_text(text)
    return normalise_whitespace(text), ()


def _content_text(contents: Any) -> tuple[str, tuple[str, ...]]:
    """The entry's content: the first HTML alternative if there is one, else the first content."""
    items = [c for c in contents or () if isinstance(c, Mapping) and _text_value(c.get("value"))]
    if not items:
        return "", ()
    chosen = next((c for c in items if c.get("type") in _HTML_TYPES), items[0])
    return _field_text(chosen, chosen.get("value"))


def _published(raw: Mapping[str, Any], fetched: datetime) -> datetime | None:
    """Publication time in UTC; a time after ``fetched`` is clamped to it; unparseable is ``None``."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = _field(raw, key)
        if parsed is None:
            continue
        try:
            year, month, day, hour, minute, second = tuple(parsed)[:6]
            when = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)  # leap seconds
        except (TypeError, ValueError, OverflowError):
            continue
        return min(when, fetched)
    return None


def _entry_language(raw: Mapping[str, Any]) -> str | None:
    for key in ("title_detail", "summary_detail"):
        detail = _field(raw, key)
        if isinstance(detail, Mapping) and (language := normalise_language(_text_value(detail.get("language")))):
            return language
    return None


def _credits(raw: Mapping[str, Any], captions: tuple[str, ...], limit: int) -> tuple[str, ...]:
    """``media:credit`` values (labels such as "Photograph:" removed), then credits found in captions."""
    found = [
        credit_from_label(_text_value(item.get("content")))
        for item in _field(raw, "media_credit") or ()
        if isinstance(item, Mapping)
    ]
    for caption in captions:
        found += credits_in_caption(caption)
    return tuple(dict.fromkeys(c for c in found if c))[:limit]


def _ttl(value: Any) -> timedelta | None:
    """RSS ``<ttl>`` is minutes; anything that is not a small positive integer is ignored."""
    text = _text_value(value).strip()
    if not text.isdigit() or not 0 < int(text) <= 7 * 24 * 60:
        return None
    return timedelta(minutes=int(text))


def _field(raw: Mapping[str, Any], key: str) -> Any:
    """``raw[key]`` or ``None``, bypassing ``FeedParserDict``'s deprecated aliases (which warn)."""
    return dict.get(raw, key) if isinstance(raw, dict) else raw.get(key)


def _text_value(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _one_line(error: Any) -> str | None:
    if error is None:
        return None
    message = normalise_whitespace(str(error)).replace("\n", " ")
    return clip(f"{type(error).__name__}: {message}" if message else type(error).__name__, 300)

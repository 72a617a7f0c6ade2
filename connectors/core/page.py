"""An article page's bytes to its main text, credits, byline, canonical URL and published time.

Main-text extraction is trafilatura's (decision 0901): it is the reference of the field and is scored on
real pages nobody here wrote (``wirewatch bench extraction``). Around it, three rules of our own:

* **Decoding** follows the HTML standard's order — the HTTP ``charset``, a byte-order mark, a ``<meta>``
  declaration, then detection — via w3lib (Scrapy's); trafilatura itself ignores ``<meta charset>`` and
  would also inflate a compressed body, so it only ever gets a ``str``.
* **Captions go to credits**: ``<figcaption>`` and photo-credit elements describe a picture, not the story, so
  they become the article's ``credits`` (where the tagger reads a state outlet as a photo credit, not as
  sourcing) and a line of the main text that is one of them is dropped. They are taken out of the *text*, not of
  the tree: removing them before extraction changes which block trafilatura picks (``wirewatch bench
  extraction``: F1 0.922 that way against 0.926, one page keeping only its teaser).
* The text is NFC-normalised (trafilatura's ``extract`` does it, ``bare_extraction`` does not), and tables are
  kept (results, figures and lists are part of a story: recall 0.936 → 0.946 for precision 0.908 → 0.907).
* **The canonical URL** (``link rel=canonical``, else ``og:url``) counts only when it stays on the site that
  served the page: a page may not claim another site's article (and so suppress it as a duplicate).

Nothing here touches the network, the disk or the clock.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

import trafilatura
from htmldate import find_date
from lxml.html import HtmlElement
from w3lib.encoding import html_to_unicode

from connectors.core.errors import FeedFailure
from connectors.core.text import clip, credit_from_label, normalise_whitespace
from connectors.core.urls import canonical_url, host_of

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_CAPTIONS = "//figcaption | //*[@itemprop='caption']"
_CREDIT_ELEMENTS = (
    "//*[@itemprop='copyrightHolder' or @itemprop='creditText']"
    " | //figure//*[contains(concat(' ', normalize-space(@class), ' '), ' credit ')]"
)
_CANONICAL_QUERIES = (
    "//link[@href and contains(concat(' ', translate(@rel, 'CANOIL', 'canoil'), ' '), ' canonical ')]/@href",
    "//meta[@content and (@property='og:url' or @name='og:url')]/@content",
)
"""``link rel=canonical`` first, then ``og:url``."""
_CAPTION_CHARS = 400
_BYLINE_CHARS = 200


@dataclass(frozen=True)
class PageLimits:
    max_text_chars: int = 100_000
    max_credits: int = 20
    max_tree_elements: int = 200_000
    """A page with more elements than this is not an article (it is a listing or a trap): no extraction."""


DEFAULT_PAGE_LIMITS = PageLimits()


@dataclass(frozen=True)
class PageText:
    """What an article page adds to its feed entry."""

    text: str
    """Main text, one paragraph per line, boilerplate removed."""
    credits: tuple[str, ...] = ()
    byline: str | None = None
    canonical_url: str | None = None
    """The page's own canonical address, only when it is on the serving site."""
    published: datetime | None = None
    encoding: str = "utf-8"


def is_html(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` names HTML; a missing one counts (servers forget it, the parser copes)."""
    if not content_type:
        return True
    return content_type.split(";", 1)[0].strip().lower() in HTML_TYPES


def decode_page(body: bytes, content_type: str | None) -> tuple[str, str]:
    """``(encoding, text)`` of an HTML body: HTTP charset, BOM, ``<meta>`` declaration, then detection."""
    encoding, text = html_to_unicode(content_type, body)
    return encoding, text


def extract_page(
    body: bytes,
    final_url: str,
    fetched: datetime,
    content_type: str | None = None,
    limits: PageLimits = DEFAULT_PAGE_LIMITS,
) -> PageText:
    """The main text and metadata of the page served at ``final_url`` (fetched at ``fetched``, UTC-aware).

    A published time after ``fetched`` is clamped to it; ``FeedFailure`` when the page has no main text.

    Reasons: ``not_html`` (the type says otherwise), ``no_main_text`` (nothing article-like on it).
    """
    if not is_html(content_type):
        raise FeedFailure("not_html", f"Content-Type {clip(content_type or '', 80)!r} is not HTML")
    encoding, markup = decode_page(body, content_type)
    tree = trafilatura.load_html(markup)
    if tree is None:
        raise FeedFailure("no_main_text", "the page could not be parsed as HTML")
    if sum(1 for _ in tree.iter()) > limits.max_tree_elements:
        raise FeedFailure("no_main_text", f"more than {limits.max_tree_elements} elements: not an article page")
    canonical = _canonical(tree, final_url)
    published = _published(tree, fetched)
    captions = _captions(tree)
    document = trafilatura.bare_extraction(
        tree,
        url=final_url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    extracted = normalise_whitespace(unicodedata.normalize("NFC", getattr(document, "text", None) or ""))
    text = "\n".join(line for line in extracted.split("\n") if line not in captions)
    if not text:
        raise FeedFailure("no_main_text", "no main text found on the page")
    byline = normalise_whitespace(getattr(document, "author", None) or "") or None
    return PageText(
        text=clip(text, limits.max_text_chars),
        credits=tuple(filter(None, map(credit_from_label, captions)))[: limits.max_credits],
        byline=clip(byline, _BYLINE_CHARS) if byline else None,
        canonical_url=canonical,
        published=published,
        encoding=encoding,
    )


def _captions(tree: HtmlElement) -> tuple[str, ...]:
    """Photo-credit and caption texts (whitespace-normalised, NFC, clipped), credits first, each once."""
    found: list[str] = []
    for element in [*tree.xpath(_CREDIT_ELEMENTS), *tree.xpath(_CAPTIONS)]:
        if isinstance(element, HtmlElement):
            text = unicodedata.normalize("NFC", " ".join(element.text_content().split()))
            if text:
                found.append(clip(text, _CAPTION_CHARS))
    return tuple(dict.fromkeys(found))


def _canonical(tree: HtmlElement, final_url: str) -> str | None:
    """``link rel=canonical`` (else ``og:url``), resolved against the page, kept only on the serving site."""
    served_host = host_of(final_url)
    for query in _CANONICAL_QUERIES:
        for value in tree.xpath(query):
            candidate = canonical_url(urljoin(final_url, str(value).strip()))
            if candidate and same_site(host_of(candidate), served_host):
                return candidate
    return None


def same_site(a: str, b: str) -> bool:
    """Two hosts of one site: equal, or one a subdomain of the other (``edition.cnn.com`` / ``cnn.com``)."""
    return bool(a and b) and (a == b or a.endswith("." + b) or b.endswith("." + a))


def _published(tree: HtmlElement, fetched: datetime) -> datetime | None:
    """The page's own publication time in UTC (its metadata first; no free-text guessing), at most ``fetched``."""
    found = find_date(
        tree,
        extensive_search=False,
        original_date=True,
        outputformat="%Y-%m-%dT%H:%M:%S%z",
        # htmldate compares dates, not times: a page published earlier today must pass (the clamp below bounds it)
        max_date=(fetched + timedelta(days=1)).strftime("%Y-%m-%d"),
    )
    if not found:
        return None
    try:
        when = datetime.fromisoformat(found)
    except ValueError:
        return None
    when = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    return min(when, fetched)

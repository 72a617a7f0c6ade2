"""When an article's page is fetched, and what its extracted text changes in the article.

``auto`` fetches the page when the feed's own text (summary plus content) is shorter than
``AUTO_MIN_FEED_CHARS``: every teaser of the real feeds in ``../shared/corpus`` but one is below it (345
items: medians 97-585 characters, the longest 1,922), while a feed that carries whole articles
(``content:encoded``) is above it, so ``auto`` fetches for teaser feeds and leaves full-content feeds alone.

Every page outcome is one of ``PAGE_OUTCOMES`` (a metric label); whatever it is, the article is produced —
with the page's text when ``extracted``, otherwise with the feed's.
"""

from __future__ import annotations

from typing import Final

from connectors.core.feedlist import FulltextMode
from connectors.core.page import PageText
from connectors.core.schedule import FAILURE_REASONS
from connectors.core.urls import article_id_for_url
from streams.core.models import Article

AUTO_MIN_FEED_CHARS: Final = 1_500
MAX_CREDITS: Final = 20

PAGE_OUTCOMES: Final[tuple[str, ...]] = (
    "extracted",
    "shorter_than_feed",
    "duplicate",
    "robots_disallowed",
    "not_html",
    "no_main_text",
    "deadline",
    *(reason for reason in FAILURE_REASONS if reason not in {"not_a_feed"}),
)
"""``extracted``: the page's text is the article's content. ``shorter_than_feed``: the page said less than the
feed (a paywall, a consent wall). ``duplicate``: the page's canonical URL is an article already produced.
``robots_disallowed``: robots.txt refuses us (or could not be read: RFC 9309 §2.3.1.4). ``deadline``: the page
did not arrive within the article's page deadline. The rest are the fetcher's failure reasons."""


def wants_page(article: Article, mode: FulltextMode) -> bool:
    """Whether to fetch the page of a new article from a feed whose ``fulltext`` setting is ``mode``."""
    if mode == "never":
        return False
    if mode == "always":
        return True
    return len(article.summary) + len(article.content) < AUTO_MIN_FEED_CHARS


def with_page(article: Article, page: PageText) -> Article | None:
    """``article`` with the page's main text as its content, or ``None`` when the page says less than the feed.

    The page's canonical URL (already checked to be on the serving site) becomes the article's address and
    so its id: the same story reached through a tracking or mobile link is then one article. The feed's
    published time wins; the page's fills it in when the feed gave none. Captions and credits of both are kept.
    """
    if len(page.text) <= max(len(article.content), len(article.summary)):
        return None
    url = page.canonical_url or article.url
    credits = tuple(dict.fromkeys((*article.credits, *page.credits)))[:MAX_CREDITS]
    return replace_article(
        article,
        id=article_id_for_url(url) if url != article.url else article.id,
        url=url,
        content=page.text,
        content_source="page",
        credits=credits,
        byline=page.byline,
        published=article.published or page.published,
    )


def replace_article(article: Article, **changes: object) -> Article:
    """A copy of ``article`` with ``changes``, validated like any article (a frozen pydantic model)."""
    return Article.model_validate(article.model_dump() | changes)

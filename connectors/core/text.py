"""Plain text out of feed HTML, credits out of captions, BCP-47 language tags out of feed metadata.

``html.parser`` from the standard library is used for HTML: it is forgiving (never raises on broken
markup), streams, and feedparser has already sanitised the markup it hands us.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose start or end is a line break in the rendered text.
_BLOCK_ELEMENTS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
        "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
        "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_INVISIBLE_ELEMENTS = frozenset({"script", "style", "noscript", "template", "head", "title", "iframe", "object"})
_VOID_ELEMENTS = frozenset({"br", "hr", "img", "input", "meta", "link", "source", "wbr", "area", "base", "col"})
_SPACES = re.compile(r"[^\S\n]+")
# C0/C1 controls (tab and newline are whitespace) and lone surrogates: not text, and not encodable as JSON UTF-8.
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_BLANK_LINES = re.compile(r"\s*\n\s*")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.captions: list[str] = []
        self._hidden_depth = 0
        self._caption_start: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _INVISIBLE_ELEMENTS and tag not in _VOID_ELEMENTS:
            self._hidden_depth += 1
        if tag in _BLOCK_ELEMENTS:
            self.parts.append("\n")
        if tag == "figcaption":
            self._caption_start = len(self.parts)

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE_ELEMENTS and self._hidden_depth:
            self._hidden_depth -= 1
        if tag == "figcaption" and self._caption_start is not None:
            self.captions.append(normalise_whitespace("".join(self.parts[self._caption_start :])))
            self._caption_start = None
        if tag in _BLOCK_ELEMENTS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(data)


def html_to_text(markup: str) -> tuple[str, tuple[str, ...]]:
    """The visible text of ``markup`` (one line per block) and the texts of its ``<figcaption>``s."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    return normalise_whitespace("".join(extractor.parts)), tuple(c for c in extractor.captions if c)


def normalise_whitespace(text: str) -> str:
    """Runs of spaces become one space, runs of blank lines one line break, control characters go."""
    text = _NOT_TEXT.sub("", text.replace("\r", "\n").replace("\xa0", " "))
    return _BLANK_LINES.sub("\n", _SPACES.sub(" ", text)).strip()


def is_text(value: str) -> bool:
    """True when ``value`` has no control characters or lone surrogates (safe for the wire as is)."""
    return _NOT_TEXT.search(value) is None


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a word boundary when one is near, with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ", max(0, limit - 80))
    return (cut[:space] if space > 0 else cut).rstrip() + "…"


# "Photograph: Jane Doe/TASS", "Photo credit: Yonhap", "Credit: KCNA via Reuters"
_CREDIT_LABEL = re.compile(r"^\s*(?:photo(?:graph)?s?|pictures?|images?|(?:photo\s+)?credits?)\s*[:：]\s*", re.I)
_CAPTION_CREDITS = (
    # "… this week. Photograph: Ed Jones/AFP/Getty Images" (the Guardian, many others)
    re.compile(r"(?:^|(?<=[\s.(]))(?:Photograph|Photo|Picture|Image)s?\s*(?:credit)?\s*:\s*([^\n()]{2,120})"),
    # "(AP Photo/Ahn Young-joon)", "(Yonhap Photo)", "(KCNA via AP)", "(REUTERS/Kim Hong-Ji)"
    re.compile(r"\(((?:[^()\n]{1,60}?\bPhoto\b[^()\n]{0,60})|(?:[^()\n]{1,60}?\bvia\s+[A-Z][^()\n]{1,40})|(?:[A-Z]{2,}/[^()\n]{2,60}))\)"),
)  # fmt: skip
_CREDIT_LIMIT = 200


def credit_from_label(text: str) -> str:
    """A ``media:credit`` value without its "Photograph:"-style label."""
    return clip(_CREDIT_LABEL.sub("", normalise_whitespace(text)), _CREDIT_LIMIT)


def credits_in_caption(caption: str) -> list[str]:
    """Photo credits written into a caption or an article text in the usual agency styles."""
    found: list[str] = []
    for pattern in _CAPTION_CREDITS:
        for match in pattern.finditer(caption):
            credit = clip(match.group(1).strip().rstrip(".").strip(), _CREDIT_LIMIT)
            if credit:
                found.append(credit)
    return found


_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")


def normalise_language(value: str | None) -> str | None:
    """A BCP-47 tag in its conventional case (``en-US``, ``zh-Hant-TW``), or ``None`` when ``value`` is not one."""
    if not value:
        return None
    candidate = value.strip().split(",")[0].split(";")[0].strip()
    if not _LANGUAGE_TAG.match(candidate):
        return None
    primary, *subtags = re.split(r"[-_]", candidate)
    formatted = [primary.lower()]
    for subtag in subtags:
        if len(subtag) == 4 and subtag.isalpha():
            formatted.append(subtag.title())
        elif len(subtag) == 2 and subtag.isalpha():
            formatted.append(subtag.upper())
        else:
            formatted.append(subtag.lower())
    return "-".join(formatted)

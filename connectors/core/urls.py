"""Canonical URLs and stable article ids.

The same story reached through two feeds, a tracking link or a different query order must get the same
id, because the id is the Kafka key and the de-duplication key downstream.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import SplitResult, unquote_plus, urlsplit

from connectors.core.text import is_text

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that identify a campaign, a click or a syndication partner, never the document.
_TRACKING_PREFIXES = ("utm_", "at_", "ns_", "pk_", "mtm_", "hsa_", "itm_", "__twitter")
_TRACKING_NAMES = frozenset(
    {
        "fbclid", "gclid", "dclid", "gclsrc", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
        "li_fat_id", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "igshid", "si", "ocid", "cmpid",
        "cmp", "smid", "smtyp", "emc", "partner", "ito", "feedtype", "feedname", "rss", "rssfeed",
        "sr_share", "spm", "share", "soc_src", "soc_trk", "wt.mc_id", "wt.mc_ev", "xtor", "ref_src",
    }
)  # fmt: skip
_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")


def is_tracking_parameter(name: str) -> bool:
    key = unquote_plus(name).strip().lower()
    return key in _TRACKING_NAMES or key.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str) -> str | None:
    """The http(s) URL in one spelling, or ``None`` when ``url`` is not a usable web address.

    Lower-case scheme and host, no default port, no user info, no fragment, no tracking parameters,
    the remaining query pairs sorted (their own encoding kept), percent-escapes in upper case.
    """
    if not is_text(url):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host or any(c.isspace() for c in host):
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    pairs = sorted(p for p in parts.query.split("&") if p and not is_tracking_parameter(p.split("=", 1)[0]))
    path = _upper_escapes(parts.path) or "/"
    return SplitResult(scheme, netloc, path, _upper_escapes("&".join(pairs)), "").geturl()


def _upper_escapes(text: str) -> str:
    return _PERCENT_ESCAPE.sub(lambda m: m.group(0).upper(), text)


def host_of(url: str) -> str:
    """The lower-case host of ``url`` without a leading ``www.`` (``""`` when there is none)."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""
    return host.removeprefix("www.")


def article_id_for_url(canonical: str) -> str:
    """Stable id of an article with a usable link: 128 bits of SHA-256 of its canonical URL."""
    return _digest("url", canonical)


def article_id_for_guid(feed_url: str, guid: str) -> str:
    """Stable id of an article without a usable link: its GUID is only unique within its feed."""
    return _digest("guid", feed_url, guid)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]

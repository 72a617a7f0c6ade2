"""Internal DTD subsets and entity declarations are removed before parsing, in any encoding."""

from __future__ import annotations

import pytest

from connectors.core.hostile import defuse_xml
from tests.support.feed_server import billion_laughs, quadratic_blowup


def test_internal_subset_is_removed_and_the_rest_kept() -> None:
    data = b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "x">\n<!-- a ] comment > -->]>\n<rss>&a;</rss>'
    assert defuse_xml(data) == b'<?xml version="1.0"?>\n<!DOCTYPE rss>\n<rss>&a;</rss>'


def test_external_identifiers_without_a_subset_stay() -> None:
    data = b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://x.example/rss.dtd"><rss/>'
    assert defuse_xml(data) == data


def test_stray_entity_declarations_are_removed() -> None:
    assert defuse_xml(b'<rss><!ENTITY x "y"><title>t</title></rss>') == b"<rss><title>t</title></rss>"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_wide_and_bom_encodings_are_defused_too(codec: str) -> None:
    document = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "b">]><rss>&a;</rss>'
    assert defuse_xml(document.encode(codec)).decode(codec) == '<?xml version="1.0"?><!DOCTYPE r><rss>&a;</rss>'


@pytest.mark.parametrize("document", [billion_laughs(), quadratic_blowup()])
def test_known_attacks_lose_their_declarations(document: bytes) -> None:
    defused = defuse_xml(document)
    assert b"<!ENTITY" not in defused
    assert len(defused) <= len(document)


def test_documents_without_declarations_are_unchanged() -> None:
    data = "<rss><title>Ünïcödé &amp; more</title></rss>".encode()
    assert defuse_xml(data) == data

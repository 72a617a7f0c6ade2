"""HTML to text, credits from labels and captions, BCP-47 tags, clipping."""

from __future__ import annotations

import pytest

from connectors.core.text import (
    clip,
    credit_from_label,
    credits_in_caption,
    html_to_text,
    normalise_language,
    normalise_whitespace,
)


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>One</p><p>Two &amp; three</p>", "One\nTwo & three"),
        ("Line<br/>break", "Line\nbreak"),
        ("<b>Kim</b>   met <i>Putin</i>&nbsp;today", "Kim met Putin today"),
        ("<script>alert(1)</script><style>p{}</style>Visible", "Visible"),
        ("<ul><li>a</li><li>b</li></ul>", "a\nb"),
        ("<p>unclosed <b>bold", "unclosed bold"),
        ("&lt;not a tag&gt; &#8220;quoted&#8221;", "<not a tag> “quoted”"),
        ('<img src="x.jpg" alt="ignored"/>', ""),
        ("text\x00with\x07controls", "textwithcontrols"),
    ],
)
def test_html_to_text(markup: str, text: str) -> None:
    assert html_to_text(markup)[0] == text


def test_html_to_text_returns_figure_captions() -> None:
    text, captions = html_to_text(
        "<figure><img src='a.jpg'/><figcaption>Kim Jong Un in Pyongyang. Photo: KCNA via Reuters</figcaption>"
        "</figure><p>Body</p>"
    )
    assert text == "Kim Jong Un in Pyongyang. Photo: KCNA via Reuters\nBody"
    assert captions == ("Kim Jong Un in Pyongyang. Photo: KCNA via Reuters",)


@pytest.mark.parametrize(
    ("label", "credit"),
    [
        ("Photograph: Mikhail Klimentyev/TASS", "Mikhail Klimentyev/TASS"),
        ("Photo credit: Yonhap", "Yonhap"),
        ("  KCNA, via Associated Press ", "KCNA, via Associated Press"),
        ("Image: Xinhua / Barcroft Images", "Xinhua / Barcroft Images"),
    ],
)
def test_credit_labels_are_removed(label: str, credit: str) -> None:
    assert credit_from_label(label) == credit


@pytest.mark.parametrize(
    ("caption", "credits"),
    [
        ("Theresa May in London. Photograph: Matt Dunham/AP", ["Matt Dunham/AP"]),
        ("Missiles on parade (AP Photo/Ahn Young-joon)", ["AP Photo/Ahn Young-joon"]),
        ("Kim inspects a factory (KCNA via AP).", ["KCNA via AP"]),
        ("Putin in Moscow (REUTERS/Maxim Shemetov)", ["REUTERS/Maxim Shemetov"]),
        ("The talks (held in Hanoi) ended early.", []),
        ("He said he would photograph: no credit here", []),
    ],
)
def test_credits_in_captions(caption: str, credits: list[str]) -> None:
    assert credits_in_caption(caption) == credits


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("en", "en"),
        ("EN-us", "en-US"),
        ("en_GB", "en-GB"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("ko-KR, en;q=0.5", "ko-KR"),
        ("", None),
        (None, None),
        ("english", None),
        ("12", None),
    ],
)
def test_languages_become_bcp47_tags(raw: str | None, tag: str | None) -> None:
    assert normalise_language(raw) == tag


def test_clip_cuts_at_a_word_boundary_with_an_ellipsis() -> None:
    text = "word " * 100
    clipped = clip(text, 50)
    assert len(clipped) <= 50
    assert clipped.endswith("word…")
    assert clip("short", 50) == "short"


def test_whitespace_is_normalised() -> None:
    assert normalise_whitespace("  a \t b\r\n\n\n c\xa0d ") == "a b\nc d"

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.core.sentences import segment


def _sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in segment(text).sentences]


def test_abbreviations_initials_and_quotes_do_not_end_sentences() -> None:
    text = (
        'The U.S. State Dept. said it was "concerned." Mr. Blinken spoke at 3 p.m. Wednesday. '
        "J. Smith of Reuters agreed."
    )
    assert _sentences(text) == [
        'The U.S. State Dept. said it was "concerned."',
        "Mr. Blinken spoke at 3 p.m. Wednesday.",
        "J. Smith of Reuters agreed.",
    ]


def test_lower_case_after_a_question_mark_continues_the_sentence() -> None:
    assert _sentences('He asked "why?" and left. Then silence.') == ['He asked "why?" and left.', "Then silence."]


def test_cjk_full_stops_split_without_spaces() -> None:
    assert _sentences("金正恩会见了普京。双方签署了协议。") == ["金正恩会见了普京。", "双方签署了协议。"]


def test_paragraphs_split_on_line_breaks_and_sentences_stay_inside_them() -> None:
    text = "First paragraph. Still first.\n\nSecond paragraph\nThird line"
    segments = segment(text)
    assert [text[a:b] for a, b in segments.paragraphs] == [
        "First paragraph. Still first.",
        "Second paragraph",
        "Third line",
    ]
    assert segments.paragraph_of(text.index("Still")) == 0
    assert segments.paragraph_of(text.index("Third")) == 2
    assert segments.sentence_of(text.index("Still")) == 1


@given(st.text(alphabet=st.sampled_from(list("Ab. ?!\n\"'。x1")), max_size=200))
def test_spans_are_ordered_disjoint_and_cover_every_visible_character(text: str) -> None:
    segments = segment(text)
    for spans in (segments.sentences, segments.paragraphs):
        previous_end = 0
        for start, end in spans:
            assert previous_end <= start <= end <= len(text)
            previous_end = end
    covered = {i for start, end in segments.sentences for i in range(start, end)}
    assert all(i in covered for i, char in enumerate(text) if not char.isspace())

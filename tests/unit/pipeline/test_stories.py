from __future__ import annotations

from streams.core.stories import SimilarityThresholds, is_same_story, signature, sketch_jaccard, story_key

PACT = (
    "Russia and North Korea sign mutual defence pact in Pyongyang. "
    "Russian President Vladimir Putin and North Korean leader Kim Jong Un signed a treaty on Wednesday pledging "
    "mutual military assistance if either country is attacked, the strongest link between the two in decades."
)
PACT_SYNDICATED = PACT + " Reporting by Example Wire; editing by Jane Roe."
PACT_REWRITE = (
    "Putin and Kim sign treaty pledging military assistance. "
    "North Korean leader Kim Jong Un and Russian President Vladimir Putin signed a pact in Pyongyang pledging "
    "mutual assistance if either country is attacked, a defence treaty that deepens military ties."
)
BIRTHDAY = (
    "Kim Jong Un sends birthday greetings to Vladimir Putin. "
    "North Korean leader wished the Russian president good health and success in a message carried by state "
    "media on Monday, praising friendship between the peoples."
)


def test_syndicated_copy_is_the_same_story() -> None:
    assert is_same_story(signature(PACT), signature(PACT_SYNDICATED), SimilarityThresholds())


def test_rewrite_of_the_same_event_is_the_same_story() -> None:
    assert is_same_story(signature(PACT), signature(PACT_REWRITE), SimilarityThresholds())


def test_another_event_with_the_same_people_is_another_story() -> None:
    assert not is_same_story(signature(PACT), signature(BIRTHDAY), SimilarityThresholds())
    assert not is_same_story(signature(PACT_REWRITE), signature(BIRTHDAY), SimilarityThresholds())


def test_signature_and_story_key_are_deterministic_and_case_and_accent_blind() -> None:
    assert signature(PACT) == signature(PACT.upper())
    assert signature("Café talks in Zürich") == signature("cafe talks in zurich")
    assert story_key(signature(PACT)) == story_key(signature(PACT))
    assert story_key(signature(PACT)) != story_key(signature(BIRTHDAY))


def test_sketch_jaccard_bounds() -> None:
    sig = frozenset(signature(PACT).words)
    assert sketch_jaccard(sig, sig) == 1.0
    assert sketch_jaccard(sig, frozenset()) == 0.0
    assert 0.0 <= sketch_jaccard(sig, frozenset(signature(BIRTHDAY).words)) < 0.4

"""Language detection for articles whose feed gives none (sentences written for this test)."""

from __future__ import annotations

import pytest

from streams.core.tagger import Tagger

SAMPLES = {
    "en": "The foreign ministers met in Geneva on Tuesday to discuss a ceasefire and the exchange of prisoners.",
    "fr": "Les ministres des affaires étrangères se sont réunis mardi à Genève pour discuter d'un cessez-le-feu.",
    "de": "Die Außenminister trafen sich am Dienstag in Genf, um über eine Waffenruhe zu sprechen.",
    "es": "Los ministros de Asuntos Exteriores se reunieron el martes en Ginebra para hablar de un alto el fuego.",
    "ru": "Министры иностранных дел встретились во вторник в Женеве, чтобы обсудить прекращение огня.",
    "ko": "외교장관들은 화요일 제네바에서 만나 휴전과 포로 교환 문제를 논의했다.",
    "zh": "各国外交部长星期二在日内瓦会晤，讨论停火和交换战俘问题，会谈持续了三个小时。",
}


@pytest.mark.parametrize(("language", "text"), SAMPLES.items())
def test_detects_the_language_of_a_sentence(test_tagger: Tagger, language: str, text: str) -> None:
    assert test_tagger.language_detector.detect(text) == language


@pytest.mark.parametrize("text", ["", "KCNA", "12 345 678", "Kim Jong Un"])
def test_too_little_text_gives_no_answer(test_tagger: Tagger, text: str) -> None:
    assert test_tagger.language_detector.detect(text) is None


def test_the_widened_model_scores_exactly_as_the_shipped_one(test_tagger: Tagger) -> None:
    """The detector's weights are widened to float32 once (speed): answers and confidences stay the shipped
    model's."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    shipped = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    detector = test_tagger.language_detector
    assert detector is not None
    for text in SAMPLES.values():
        assert detector._identifier.classify(text) == shipped.classify(text)

"""Language identification for articles whose feed does not say (py3langid: offline, small, fast).

py3langid is a maintained fork of langid.py (Lui & Baldwin): a naive Bayes model over byte n-grams for 97
languages, shipped inside the package. With ``norm_probs`` it returns a probability; below ``MIN_CONFIDENCE``,
or on too little text, the answer is None rather than a guess. Codes are ISO 639-1, valid BCP-47 primary tags.
"""

from __future__ import annotations

from py3langid.langid import MODEL_FILE, LanguageIdentifier

MIN_CONFIDENCE = 0.5
MIN_LETTERS = 20
SAMPLE_CHARS = 160


class LanguageDetector:
    """Loaded once (about 0.4 s); ``detect`` only reads the model, so one instance serves every thread."""

    def __init__(self) -> None:
        self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

    def detect(self, text: str) -> str | None:
        sample = text[:SAMPLE_CHARS]
        if sum(map(str.isalpha, sample)) < MIN_LETTERS:
            return None
        language, confidence = self._identifier.classify(sample)
        return str(language) if confidence >= MIN_CONFIDENCE else None

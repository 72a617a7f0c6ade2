"""Language identification for articles whose feed does not say (py3langid: offline, small, fast).

py3langid is a maintained fork of langid.py (Lui & Baldwin): a naive Bayes model over byte n-grams for 97
languages, shipped inside the package. With ``norm_probs`` it returns a probability; below ``MIN_CONFIDENCE``,
or on too little text, the answer is None rather than a guess. Codes are ISO 639-1, valid BCP-47 primary tags.
"""

from __future__ import annotations

from typing import Protocol

MIN_CONFIDENCE = 0.5
MIN_LETTERS = 20
SAMPLE_CHARS = 160


class Identifier(Protocol):
    """py3langid's ``LanguageIdentifier`` with ``norm_probs``: (language, probability) for a text."""

    def classify(self, text: str) -> tuple[str, float]: ...


class LanguageDetector:
    """Over a loaded model (``streams.infra.registry_files.load_language_detector`` reads it: about 0.4 s);
    ``detect`` only reads the model, so one instance serves every thread."""

    def __init__(self, identifier: Identifier) -> None:
        self._identifier = identifier

    def detect(self, text: str) -> str | None:
        sample = text[:SAMPLE_CHARS]
        if sum(map(str.isalpha, sample)) < MIN_LETTERS:
            return None
        language, confidence = self._identifier.classify(sample)
        return str(language) if confidence >= MIN_CONFIDENCE else None

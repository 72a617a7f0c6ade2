"""The files the tagger is built from: the registries (the shipped ones in ``streams/registry/data``, or a
directory an operator names), read here and parsed by the pure core (``streams.core.registry.parse_registries``),
and the language model; and the tagger built from them, the one every process and tool uses."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from pathlib import Path

from streams.core.errors import ConfigError
from streams.core.language import LanguageDetector
from streams.core.models import Article, TaggedArticle
from streams.core.registry import Problem, Registries, RegistryError, parse_registries
from streams.core.tagger import Tagger
from streams.registry import DATA_DIR

Tag = Callable[[Article], TaggedArticle]


def default_data_dir() -> Path:
    return DATA_DIR


def load_registries(data_dir: Path | str | None = None, *, paths: Iterable[Path | str] | None = None) -> Registries:
    """Load and validate the registry files in ``data_dir`` (default: the shipped ones), or exactly ``paths``;
    countries also get their names in other languages from CLDR (``streams.infra.country_names``)."""
    if paths is None:
        directory = Path(data_dir) if data_dir is not None else default_data_dir()
        if not directory.is_dir():
            raise ConfigError(f"registry directory not found: {directory}")
        paths = sorted(directory.glob("*.yaml"))
    sources = []
    unreadable = []
    for path in map(Path, paths):
        try:
            sources.append((path.name, path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as err:
            unreadable.append(Problem(path.name, 1, 1, "", f"cannot read: {err}"))
    if unreadable:
        raise RegistryError(unreadable)
    from streams.infra.country_names import with_country_names

    return with_country_names(parse_registries(sources))


@functools.cache
def shipped_registries() -> Registries:
    """The shipped registries, loaded once per process (for look-ups such as a desk entity's duplicate check)."""
    return load_registries()


@functools.cache
def load_language_detector() -> LanguageDetector:
    """py3langid's bundled model, read once per process (about 0.4 s), its weights widened to float32 once:
    the model ships them as float16, which numpy widens again on every product (a third of ``classify``); the
    scores are the same, the table takes 57 MB instead of 28."""
    import numpy as np
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    shipped = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier = LanguageIdentifier(
        shipped.nb_ptc.astype(np.float32), shipped.nb_pc, shipped.nb_classes, shipped.tk_nextmove,
        shipped.tk_output, norm_probs=True, tk_row=shipped.tk_row,
    )  # fmt: skip
    return LanguageDetector(identifier)


def shipped_tagger(registries: Registries | None = None) -> Tagger:
    """A tagger over ``registries`` (default: the shipped ones) with the language model: what every process uses."""
    from streams.infra.inflection import name_forms

    return Tagger(registries if registries is not None else load_registries(), load_language_detector(), name_forms)

"""The registry files on disk: the shipped ones (``streams/registry/data``) or a directory an operator names,
read here and parsed by the pure core (``streams.core.registry.parse_registries``); and the default tagger
built from them, the one every process and tool uses."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from streams.core.errors import ConfigError
from streams.core.models import Article, TaggedArticle
from streams.core.registry import Problem, Registries, RegistryError, parse_registries
from streams.registry import DATA_DIR

Tag = Callable[[Article], TaggedArticle]


def default_data_dir() -> Path:
    return DATA_DIR


def load_registries(data_dir: Path | str | None = None, *, paths: Iterable[Path | str] | None = None) -> Registries:
    """Load and validate the registry files in ``data_dir`` (default: the shipped ones), or exactly ``paths``."""
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
    return parse_registries(sources)


def default_tagger() -> Tag:
    """The shipped registries compiled once (imported lazily: compiling takes a moment)."""
    from streams.core.tagger import Tagger

    tag: Tag = Tagger(load_registries()).tag
    return tag

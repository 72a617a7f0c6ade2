"""An installed wheel, not only a checkout, runs the dev broker and the demo: every file the tools read at run
time is inside the package and named by the package-data globs (decision 0702)."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_runtime_data_file_is_shipped_in_the_wheel() -> None:
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["streams"]
    package = REPO / "streams"
    shipped = {path for pattern in globs for path in package.glob(pattern) if path.is_file()}
    needed = {
        path
        for folder in ("tools/data", "registry/data", "api/static")
        for path in (package / folder).rglob("*")
        if path.is_file() and path.name != "__init__.py" and "__pycache__" not in path.parts
    }
    assert needed, "the walk found no data files"
    assert sorted(str(p.relative_to(package)) for p in needed - shipped) == []
    assert (package / "tools/data/kafka/pom.xml") in shipped
    assert (package / "tools/data/demo/watches.yaml") in shipped

"""The layers of decision 0701, enforced on every module's imports (type-only imports included: an arrow is an
arrow). A module may import its own layer and those below it, never one above:

    3  streams.cli, streams.tools          argument parsing; tooling (broker, demo, benchmarks, reliability)
    2  streams.worker, streams.api,        the shells: the Faust worker, the desk API, the connector
       connectors (its shell)
    1  streams.infra                       settings, errors, Kafka topics, compacted followers, URL guard, …
    0  streams.core, connectors.core       pure: values in, values out

and, beside the ranks: the desk API never imports the worker (it gets what it needs as ``WorkerHost``), and
only layer 3 imports the connectors' shell. The pure cores' own rules (no I/O, no clock) are in
``test_core_purity.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("streams", "connectors")

LAYERS: dict[str, int] = {
    "streams.core": 0,
    "connectors.core": 0,
    "streams.infra": 1,
    "streams.registry": 1,
    "streams.worker": 2,
    "streams.api": 2,
    "connectors": 2,
    "streams.cli": 3,
    "streams.tools": 3,
    "streams": 0,  # the package root holds only ``__version__``
}
FORBIDDEN_BESIDE_RANKS: dict[str, tuple[str, ...]] = {
    "streams.api": ("streams.worker",),
    "streams.worker": ("connectors",),
    "streams.infra": ("connectors",),
}


def layer_of(module: str) -> str:
    """The longest key of ``LAYERS`` that ``module`` is, or is inside."""
    candidates = [name for name in LAYERS if module == name or module.startswith(name + ".")]
    return max(candidates, key=len)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path) -> set[str]:
    """Every wirewatch module ``path`` imports, absolute or relative, at module level or inside functions."""
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # ``from streams import x``
    return {name for name in names if name.split(".")[0] in PACKAGES}


def modules() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (REPO / package).rglob("*.py"))


def arrows_against_the_layers(path: Path) -> list[str]:
    source = layer_of(module_name(path))
    wrong = []
    for target in sorted(imported(path)):
        if not any(target == name or target.startswith(name + ".") for name in LAYERS):
            continue
        destination = layer_of(target)
        if LAYERS[destination] > LAYERS[source]:
            wrong.append(f"{target} (layer {LAYERS[destination]} above {LAYERS[source]})")
        elif destination == "connectors" and source not in ("connectors", "streams.cli", "streams.tools"):
            wrong.append(f"{target} (only the command line and the tools use the connector's shell)")
        elif any(destination == f or destination.startswith(f + ".") for f in FORBIDDEN_BESIDE_RANKS.get(source, ())):
            wrong.append(f"{target} (forbidden from {source})")
    return wrong


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_import_points_down_the_layers(path: Path) -> None:
    assert arrows_against_the_layers(path) == []


def test_the_walk_sees_every_layer() -> None:
    seen = {layer_of(module_name(path)) for path in modules()}
    assert set(LAYERS) - {"streams.registry"} <= seen


def test_an_arrow_pointing_up_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "streams" / "core" / "leak.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from streams.worker.app import create_app\nfrom . import models\n")
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    assert arrows_against_the_layers(fake) == [
        "streams.worker.app (layer 2 above 0)",
        "streams.worker.app.create_app (layer 2 above 0)",
    ]

"""The pure cores stay pure: no Kafka, Faust, HTTP, sockets, files, clock or global randomness under
``streams/core`` and ``connectors/core`` (what they import of wirewatch is ``test_layers.py``'s)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORES = [REPO / "streams" / "core", REPO / "connectors" / "core"]
FORBIDDEN_MODULES = {
    "faust", "mode", "kafka", "aiokafka", "aiohttp", "httpx", "requests", "urllib3",
    "http", "socket", "asyncio", "time", "random", "sqlite3", "prometheus_client", "os", "pathlib", "shutil",
    "glob", "tempfile", "secrets", "uuid",
}  # fmt: skip
FORBIDDEN_ROOTS = {name for name in FORBIDDEN_MODULES if "." not in name}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "monotonic"}


def _core_files() -> list[Path]:
    return sorted(path for core in CORES for path in core.rglob("*.py"))


def _imported_modules(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_core_module_imports_nothing_impure(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    offending = {name for name in _imported_modules(tree) if name.split(".")[0] in FORBIDDEN_ROOTS}
    offending |= _imported_modules(tree) & FORBIDDEN_MODULES
    assert not offending, f"{path.name} imports {sorted(offending)}"


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_core_module_opens_no_file(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    opens = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "open")
            or (isinstance(node.func, ast.Attribute) and node.func.attr in {"read_text", "read_bytes", "open"})
        )
    ]
    assert not opens, f"{path.name} opens files at lines {opens}: read them in streams.infra and pass the text"


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_core_module_never_reads_the_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    calls = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in FORBIDDEN_CALLS
    }
    assert not calls, f"{path.name} calls {sorted(calls)}: pass time in as a parameter"


def test_the_walk_sees_the_core() -> None:
    assert any(p.name == "models.py" for p in _core_files())

"""feedparser's own test corpus (≈2,200 files from its sdist) through ``wirewatch feed parse``: 0 crashes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from connectors.offline import parse_files
from streams.core.models import Article
from streams.infra.settings import load_settings
from tests.support.processes import child_env

pytestmark = pytest.mark.integration

VERSION = "6.0.14"


@pytest.fixture(scope="session")
def feedparser_corpus() -> list[Path]:
    """Every file under tests/ of the feedparser sdist, downloaded once into the wirewatch cache."""
    cache = load_settings().home / "feedparser-corpus"
    root = cache / f"feedparser-{VERSION}" / "tests"
    if not root.is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", f"feedparser=={VERSION}",
             "-d", str(cache), "-q"],
            check=True, timeout=300,
        )  # fmt: skip
        with tarfile.open(cache / f"feedparser-{VERSION}.tar.gz") as sdist:
            sdist.extractall(cache, filter="data")
    files = sorted(path for path in root.rglob("*") if path.is_file())
    assert len(files) > 2000
    return files


def test_every_corpus_file_parses_without_a_crash(feedparser_corpus: list[Path]) -> None:
    out, err = io.StringIO(), io.StringIO()
    summary = parse_files(feedparser_corpus, out, err)
    failures = err.getvalue().splitlines()
    print(f"feedparser corpus: {summary}")
    assert summary.files == len(feedparser_corpus)
    assert summary.crashed == 0, "\n".join(line for line in failures if "internal error" in line)
    assert len(failures) == summary.failed
    articles = [Article.from_wire(line) for line in out.getvalue().splitlines()]
    assert len(articles) == summary.articles > 50
    for family in ("wellformed", "illformed", "encoding", "entities"):
        assert any(f"/{family}/" in str(path) for path in feedparser_corpus)


def test_the_cli_contract_on_a_sample(feedparser_corpus: list[Path], tmp_path: Path) -> None:
    sample = feedparser_corpus[:: max(1, len(feedparser_corpus) // 60)]
    not_a_feed = tmp_path / "page.html"
    not_a_feed.write_text("<html><body>hello</body></html>")
    missing = tmp_path / "missing.xml"
    run = subprocess.run(
        [sys.executable, "-m", "streams.cli.main", "feed", "parse", *map(str, sample), str(not_a_feed), str(missing)],
        capture_output=True, text=True, env=child_env(), timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0
    assert "Traceback" not in run.stderr
    errors = run.stderr.splitlines()
    assert f"{not_a_feed}: not_a_feed: no RSS, Atom or RDF structure found" in errors
    assert f"{missing}: cannot read: No such file or directory" in errors
    assert all(line.split(": ")[0] in {*map(str, sample), str(not_a_feed), str(missing)} for line in errors)
    for line in run.stdout.splitlines():
        assert json.loads(line)["schema_version"] == 2
        Article.from_wire(line)


def test_usage_errors_exit_non_zero() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "streams.cli.main", "feed", "parse"],
        capture_output=True, text=True, env=child_env(), timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert "FILE" in run.stderr

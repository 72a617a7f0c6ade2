"""``wirewatch tag`` (the JSONL contract) and ``wirewatch registry check``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from streams.cli.main import main
from streams.cli.tagging import tag_lines
from streams.core.tagger import Tagger

GOOD = {
    "id": "a1",
    "url": "https://news.example/a1",
    "title": "Putin meets Kim Jong Un",
    "fetched": "2026-11-27T08:00:00Z",
    "source": {"feed_url": "https://news.example/rss", "name": "Example", "domain": "news.example"},
    "something_new": {"ignored": True},
}
TAGGED_FIELDS = {
    "schema_version", "id", "url", "title", "summary", "content", "published", "fetched", "language", "source",
    "credits", "content_source", "byline", "actors", "topics", "state_media",
}  # fmt: skip


def test_tags_good_lines_and_reports_bad_ones(test_tagger: Tagger) -> None:
    lines = [json.dumps(GOOD), "\n", "{not json", json.dumps({**GOOD, "id": ""}), json.dumps({**GOOD, "id": "a2"})]
    out, errors = io.BytesIO(), io.StringIO()
    assert tag_lines(test_tagger, lines, out, errors) == 1
    written = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [w["id"] for w in written] == ["a1", "a2"]
    assert {a["id"] for a in written[0]["actors"]} >= {"Q7747", "Q56226"}
    reported = errors.getvalue().splitlines()
    assert len(reported) == 2
    assert reported[0].startswith("wirewatch: line 3: not a valid Article")
    assert reported[1].startswith("wirewatch: line 4: not a valid Article: id:")


def test_all_good_lines_exit_zero(test_tagger: Tagger) -> None:
    assert tag_lines(test_tagger, [json.dumps(GOOD)], io.BytesIO(), io.StringIO()) == 0


def test_tag_command_reads_stdin_and_writes_exactly_the_contract_fields() -> None:
    wirewatch = Path(sys.executable).with_name("wirewatch")
    done = subprocess.run(
        [str(wirewatch), "tag"], input=json.dumps(GOOD) + "\n", capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    tagged = json.loads(done.stdout)
    assert set(tagged) == TAGGED_FIELDS
    assert set(tagged["state_media"]) == {"publisher", "cited", "state_sourced"}
    assert tagged["language"] is None or isinstance(tagged["language"], str)


def test_registry_check_prints_counts(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["registry", "check"])
    assert exited.value.code == 0
    printed = capsys.readouterr().out
    for heading in ("registry OK", "entities:", "aliases:", "outlets:", "topics:"):
        assert heading in printed


def test_registry_check_fails_with_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outlet = "{id: x, name: X, type: outlet, country: XX1, category: odd, state: 1}"
    (tmp_path / "outlets.yaml").write_text(f'schema: 1\nversion: "2026.11.27"\noutlets:\n  - {outlet}\n')
    with pytest.raises(SystemExit) as exited:
        main(["registry", "check", str(tmp_path)])
    assert exited.value.code == 1
    errors = capsys.readouterr().err.splitlines()
    assert any(line.startswith("outlets.yaml:4:") and ".country:" in line for line in errors)
    assert any(".category:" in line for line in errors)
    assert errors[-1].endswith(f"problem(s) in {tmp_path}")

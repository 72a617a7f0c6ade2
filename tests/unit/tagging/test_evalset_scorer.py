"""The evaluation set's scorer on texts written for the test: each figure moves when the tagger errs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from streams.core.tagger import Tagger
from streams.tools.bench.evalset import OutletNames, evaluate, load_labels, report

TEXTS = {
    "en-1": "Kim congratulates Putin\n\nNorth Korean leader Kim Jong Un congratulated Russian President Vladimir "
    "Putin on his birthday, state media said on Tuesday. The Korean Central News Agency said the message was sent.",
    "en-2": "Seoul holds drills\n\nSouth Korea held drills on Monday, the defence ministry said.\n\nPhoto: KCNA via AP",
}
LABELS = [
    {
        "id": "en-1", "language": "en", "text_file": "texts/en-1.txt", "classes": ["unnamed_country"],
        "actors": ["Kim Jong Un", "Vladimir Putin", "Nobody Inregistry"],
        "citations": [{"outlet": "Korean Central News Agency", "country": "KP", "state": True, "role": "cited",
                       "evidence": "The Korean Central News Agency said"}],
        "unnamed_state_media": ["KP"], "state_sourced": True,
    },
    {
        "id": "en-2", "language": "en", "text_file": "texts/en-2.txt", "classes": ["negative_photo_credit"],
        "actors": ["South Korea"],
        "citations": [{"outlet": "KCNA", "country": "KP", "state": True, "role": "photo_credit", "evidence": "KCNA"}],
        "unnamed_state_media": [], "state_sourced": False,
    },
]  # fmt: skip


@pytest.fixture
def evaluation_set(tmp_path: Path) -> tuple[Path, Path]:
    set_dir, labels_dir = tmp_path / "set", tmp_path / "labels"
    (set_dir / "texts").mkdir(parents=True)
    labels_dir.mkdir()
    labels = []
    for label in LABELS:
        data = TEXTS[str(label["id"])].encode()
        (set_dir / str(label["text_file"])).write_bytes(data)
        labels.append({**label, "sha256": hashlib.sha256(data).hexdigest()})
    (labels_dir / "labels-en.yaml").write_text(yaml.safe_dump({"schema": 1, "articles": labels}), encoding="utf-8")
    return set_dir, labels_dir


def test_figures_of_a_correct_tagging(test_tagger: Tagger, evaluation_set: tuple[Path, Path]) -> None:
    set_dir, labels_dir = evaluation_set
    result = evaluate(test_tagger, load_labels(labels_dir), set_dir)
    overall = result.rows["all"]
    assert (overall["actors_labelled"], overall["actors_found"]) == (4, 3)  # the unknown name is a miss
    assert (overall["sources_labelled"], overall["sources_found"]) == (2, 2)  # KCNA and the unnamed KP state media
    assert (overall["state_sourced"], overall["flagged"], overall["negatives"], overall["false_flags"]) == (1, 1, 1, 0)
    assert overall["wrong_credits"] == 0
    assert result.rows["class negative_photo_credit"]["articles"] == 1
    assert any("not in the registry" in line for line in result.problems["en-1"])
    table = "\n".join(report(result))
    assert "| state-media citations found | 1.00 (2/2) | ≥ 0.90 |" in table


def test_a_citation_of_the_wrong_country_is_a_wrong_credit(
    test_tagger: Tagger, evaluation_set: tuple[Path, Path]
) -> None:
    set_dir, labels_dir = evaluation_set
    path = labels_dir / "labels-en.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["articles"][0]["citations"] = []
    document["articles"][0]["unnamed_state_media"] = ["RU"]
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    overall = evaluate(test_tagger, load_labels(labels_dir), set_dir).rows["all"]
    assert overall["wrong_credits"] >= 1
    assert overall["sources_found"] == 0


def test_a_changed_text_is_not_scored(test_tagger: Tagger, evaluation_set: tuple[Path, Path]) -> None:
    set_dir, labels_dir = evaluation_set
    (set_dir / "texts" / "en-2.txt").write_text("edited", encoding="utf-8")
    result = evaluate(test_tagger, load_labels(labels_dir), set_dir)
    assert result.rows["all"]["articles"] == 1
    assert any("differs" in line for line in result.skipped)


def test_labelled_outlet_names_resolve_with_or_by_their_bracketed_acronym(test_tagger: Tagger) -> None:
    names = OutletNames(test_tagger.registries.outlets)
    kcna = names.resolve("Korean Central News Agency")
    assert kcna is not None
    assert names.resolve("Korean Central News Agency (KCNA)") is kcna
    assert names.resolve("North Korea's agency (KCNA)") is kcna
    assert names.resolve("Nobody's Gazette") is None

"""The named policy for a record whose processing raised an unexpected error: dead-letter it and go on, or end
the process before Faust acknowledges it (an agent that raises gets its record acknowledged, so a crash that
let Faust shut down would pass the record)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from streams.core.models import Article, DeadLetter
from streams.infra.settings import load_settings
from streams.worker.app import EXIT_PROCESSING_ERROR, create_app
from tests.unit.pipeline.factories import tagged


@dataclass
class FakeStream:
    events_to_yield: list[Any]

    async def events(self) -> AsyncIterator[Any]:
        for event in self.events_to_yield:
            yield event


@dataclass
class Recorder:
    sent: list[bytes] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)

    async def send(self, key: bytes | None, value: bytes) -> None:
        self.sent.append(value)

    def end(self, code: int) -> None:
        self.exit_codes.append(code)


ARTICLE = tagged("a1", "Kim meets Putin", "Kim Jong Un met Vladimir Putin.").to_json()


def _event(offset: int, value: bytes = ARTICLE) -> Any:
    message = SimpleNamespace(tp=("p.articles.raw", 0), topic="p.articles.raw", partition=0, offset=offset)
    return SimpleNamespace(key=b"k", value=value, message=message)


async def _bug(_event: Any, _article: Article) -> None:
    raise ZeroDivisionError("a bug in a stage")


@pytest.mark.parametrize("policy", ["dead_letter", "crash"])
async def test_an_unexpected_error_is_dead_lettered_or_ends_the_process_before_the_next_record(
    tmp_path: Path, policy: str
) -> None:
    settings = load_settings(topic_prefix="policy", home=tmp_path, worker_on_processing_error=policy)
    pipeline = create_app(settings).pipeline  # type: ignore[attr-defined]
    recorder = Recorder()
    pipeline.deadletter = recorder
    pipeline._end_process = recorder.end
    handled: list[int] = []

    async def handle(event: Any, article: Article) -> None:
        handled.append(event.message.offset)
        await _bug(event, article)

    await pipeline.run_stage("tag", FakeStream([_event(7), _event(8)]), Article, handle)

    if policy == "crash":
        assert recorder.exit_codes == [EXIT_PROCESSING_ERROR]
        assert recorder.sent == []  # nothing to acknowledge it by: the restarted worker reads offset 7 again
        assert handled == [7]
    else:
        assert recorder.exit_codes == []
        assert [DeadLetter.from_wire(v).reason for v in recorder.sent] == ["processing_error"] * 2
        assert handled == [7, 8]


async def test_a_record_that_does_not_decode_is_dead_lettered_without_reaching_the_stage(tmp_path: Path) -> None:
    pipeline = create_app(load_settings(topic_prefix="policy", home=tmp_path)).pipeline  # type: ignore[attr-defined]
    recorder = Recorder()
    pipeline.deadletter = recorder
    seen: list[str] = []

    async def handle(_event: Any, article: Article) -> None:
        seen.append(article.id)

    await pipeline.run_stage("tag", FakeStream([_event(1, b'{"not": "an article"}'), _event(2)]), Article, handle)

    [letter] = [DeadLetter.from_wire(v) for v in recorder.sent]
    assert (letter.reason, letter.offset) == ("invalid_message", 1)
    assert "not a valid Article" in letter.error
    assert seen == ["a1"]

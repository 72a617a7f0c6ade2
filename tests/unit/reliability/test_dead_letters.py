"""A dead letter always fits in a Kafka record, whatever record it describes (found by the hostile sweep)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from streams.core.models import DeadLetter
from streams.infra.settings import load_settings
from streams.worker.app import DEAD_LETTER_KEY_BYTES, DEAD_LETTER_PAYLOAD_BYTES, create_app

KAFKA_RECORD_LIMIT = 1024 * 1024


@dataclass
class SentRecords:
    """Stands in for the dead-letter topic: keeps what the stage sends."""

    sent: list[tuple[bytes | None, bytes]] = field(default_factory=list)

    async def send(self, key: bytes | None, value: bytes) -> None:
        self.sent.append((key, value))


async def test_a_record_that_nearly_filled_kafka_gets_a_dead_letter_that_still_fits(tmp_path: Path) -> None:
    pipeline = create_app(load_settings(topic_prefix="letters", home=tmp_path)).pipeline  # type: ignore[attr-defined]
    topic = pipeline.deadletter = SentRecords()
    value = b'{"content": "' + b"x" * 1_000_000 + b'"}'
    key = b"k" * 600_000

    await pipeline.dead_letter("tag", "processing_error", "too large to tag", key, value)

    [(sent_key, sent_value)] = topic.sent
    assert len(sent_value) + len(sent_key or b"") < KAFKA_RECORD_LIMIT // 2
    letter = DeadLetter.from_wire(sent_value)
    assert letter.payload.encode() == value[:DEAD_LETTER_PAYLOAD_BYTES]  # the start of the original bytes
    cut = f"[payload cut to the first {DEAD_LETTER_PAYLOAD_BYTES} of {len(value)} bytes]"
    assert letter.error == f"too large to tag {cut}"
    assert sent_key == key[:DEAD_LETTER_KEY_BYTES]


async def test_an_ordinary_dead_letter_keeps_the_record_whole(tmp_path: Path) -> None:
    pipeline = create_app(load_settings(topic_prefix="letters", home=tmp_path)).pipeline  # type: ignore[attr-defined]
    topic = pipeline.deadletter = SentRecords()

    await pipeline.dead_letter("decide", "invalid_message", "not JSON", b"w-1", b"\xff not json")

    letter = DeadLetter.from_wire(topic.sent[0][1])
    assert (letter.key, letter.error, letter.payload_encoding) == ("w-1", "not JSON", "base64")

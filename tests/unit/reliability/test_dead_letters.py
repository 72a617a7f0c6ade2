"""A dead letter always fits in a Kafka record, whatever record it describes (found by the hostile sweep)."""

from __future__ import annotations

from datetime import UTC, datetime

from streams.core.deadletters import DEAD_LETTER_KEY_BYTES, DEAD_LETTER_PAYLOAD_BYTES, Origin, dead_letter
from streams.core.models import DeadLetter

KAFKA_RECORD_LIMIT = 1024 * 1024
NOW = datetime(2026, 12, 2, tzinfo=UTC)


def test_a_record_that_nearly_filled_kafka_gets_a_dead_letter_that_still_fits() -> None:
    value = b'{"content": "' + b"x" * 1_000_000 + b'"}'
    key = b"k" * 600_000

    sent_key, built = dead_letter("tag", "processing_error", "too large to tag", key, value, None, NOW)

    sent_value = built.to_json()
    assert len(sent_value) + len(sent_key or b"") < KAFKA_RECORD_LIMIT // 2
    letter = DeadLetter.from_wire(sent_value)
    assert letter.payload.encode() == value[:DEAD_LETTER_PAYLOAD_BYTES]  # the start of the original bytes
    cut = f"[payload cut to the first {DEAD_LETTER_PAYLOAD_BYTES} of {len(value)} bytes]"
    assert letter.error == f"too large to tag {cut}"
    assert sent_key == key[:DEAD_LETTER_KEY_BYTES]


def test_an_ordinary_dead_letter_keeps_the_record_whole_and_where_it_was_read() -> None:
    origin = Origin("p.pairs", 3, 41)
    _, built = dead_letter("decide", "invalid_message", "not JSON", b"w-1", b"\xff not json", origin, NOW)

    letter = DeadLetter.from_wire(built.to_json())
    assert (letter.key, letter.error, letter.payload_encoding) == ("w-1", "not JSON", "base64")
    assert (letter.topic, letter.partition, letter.offset, letter.failed_at) == ("p.pairs", 3, 41, NOW)

"""A dead letter for a record no stage could process: its stage, reason and as much of the original bytes as
always fits in a Kafka record (1 MiB), even when the record it describes nearly filled one — a dead letter too
large to send would crash the stage that sends it (decision 0603)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from streams.core.models import DeadLetter

DEAD_LETTER_PAYLOAD_BYTES = 256 * 1024
DEAD_LETTER_KEY_BYTES = 1024
ERROR_CHARS = 2000


@dataclass(frozen=True)
class Origin:
    """Where the record was read, when it was read from a topic."""

    topic: str
    partition: int
    offset: int


def dead_letter(
    stage: str,
    reason: str,
    error: str,
    key: bytes | None,
    value: bytes | None,
    origin: Origin | None,
    failed_at: datetime,
) -> tuple[bytes | None, DeadLetter]:
    """The key to send it under and the dead letter, both cut to fit."""
    error = error[:ERROR_CHARS]
    if value is not None and len(value) > DEAD_LETTER_PAYLOAD_BYTES:
        error += f" [payload cut to the first {DEAD_LETTER_PAYLOAD_BYTES} of {len(value)} bytes]"
        value = value[:DEAD_LETTER_PAYLOAD_BYTES]
    key = key[:DEAD_LETTER_KEY_BYTES] if key is not None else None
    payload, encoding = _payload_text(value)
    letter = DeadLetter(
        stage=stage,
        reason=reason,
        error=error,
        topic=origin.topic if origin else None,
        partition=origin.partition if origin else None,
        offset=origin.offset if origin else None,
        key=key.decode("utf-8", errors="replace") if key is not None else None,
        payload=payload,
        payload_encoding=encoding,
        failed_at=failed_at,
    )
    return key, letter


def _payload_text(value: bytes | None) -> tuple[str, Literal["utf-8", "base64"]]:
    if value is None:
        return "", "utf-8"
    try:
        return value.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(value).decode(), "base64"

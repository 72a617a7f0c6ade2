"""Which deliveries of an article to process: the first one, and that same record delivered again.

At-least-once delivery hands a worker the same record again after a crash or a rebalance; that is a
redelivery and must be processed again (its effects may not have been sent). Another record with the same
article id — a syndicated copy fetched twice, a connector shard's overlap — is a duplicate and is dropped.
The duplicate filter keeps, per article id, a *mark* of its first delivery: ``"<partition>:<offset>@<unix s>"``.
"""

from __future__ import annotations

SEEN_TTL_S = 3 * 86400
"""How long an article id is remembered: copies further apart than this are tagged again."""


def delivery_mark(partition: int, offset: int, now_s: float) -> bytes:
    return f"{partition}:{offset}@{int(now_s)}".encode()


def is_duplicate(first: bytes | None, partition: int, offset: int) -> bool:
    """Whether a delivery of (``partition``, ``offset``) is a duplicate of the first one, marked ``first``."""
    return first is not None and not first.startswith(f"{partition}:{offset}@".encode())


def is_expired(mark: bytes, now_s: float, ttl_s: float = SEEN_TTL_S) -> bool:
    return int(mark.rsplit(b"@", 1)[1]) < now_s - ttl_s

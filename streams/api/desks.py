"""Desks and their tokens: one place for the rules the ``desk`` CLI and the admin API share.

A token is 32 random bytes (URL-safe base64) behind a short prefix that secret scanners can match. Only
its SHA-256 is stored: for a high-entropy token a fast hash is enough (nothing to brute-force), and lookups
stay cheap on every request. ``rotate`` replaces the hash, so the old token stops working at once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from streams.api.records import DESK_NAME_PATTERN, DeskRecord, publish, read_desks, webhook_view
from streams.core.errors import WirewatchError
from streams.infra.settings import Settings

TOKEN_PREFIX = "wwd_"  # noqa: S105 - a prefix, not a token
_DESK_NAME = re.compile(DESK_NAME_PATTERN)


class DeskError(WirewatchError):
    """A desk request cannot be honoured (bad name, unknown or existing desk)."""


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_desk_name(name: str) -> str:
    if not _DESK_NAME.match(name):
        raise DeskError(
            f"invalid desk name {name!r}: use 1-64 of a-z, 0-9, '-' and '_', starting with a letter or digit"
        )
    return name


def new_desk(name: str, now: datetime) -> tuple[DeskRecord, str]:
    """A new desk record and its token (the token exists only in the return value)."""
    token = new_token()
    return DeskRecord(name=check_desk_name(name), token_sha256=token_sha256(token), created_at=now), token


def rotated_desk(desk: DeskRecord, now: datetime) -> tuple[DeskRecord, str]:
    token = new_token()
    return desk.model_copy(update={"token_sha256": token_sha256(token), "rotated_at": now}), token


def desk_for_token(desks: Iterable[DeskRecord], token: str) -> DeskRecord | None:
    """The desk whose token this is; every stored hash is compared in constant time."""
    digest = token_sha256(token)
    found = None
    for desk in desks:
        if hmac.compare_digest(desk.token_sha256, digest):
            found = desk
    return found


def is_admin_token(settings: Settings, token: str) -> bool:
    if settings.admin_token is None or not settings.admin_token.get_secret_value():
        return False
    return hmac.compare_digest(token_sha256(settings.admin_token.get_secret_value()), token_sha256(token))


# --------------------------------------------------------------------------- writes (CLI and admin API)
class DeskExists(DeskError):
    """A desk of that name exists (the API answers 409)."""


class NoSuchDesk(DeskError):
    """No desk of that name (the API answers 404)."""


def check_known_desk(name: str, known: Iterable[str]) -> None:
    if name not in set(known):
        raise NoSuchDesk(f"no desk {name!r}")


def add_desk(settings: Settings, name: str, existing: Iterable[str], now: datetime) -> tuple[DeskRecord, str]:
    if check_desk_name(name) in set(existing):
        raise DeskExists(f"desk {name!r} exists (rotate its token for a new one)")
    desk, token = new_desk(name, now)
    publish(settings, settings.topics.desks, desk.name, desk)
    return desk, token


def rotate_desk(settings: Settings, desk: DeskRecord | None, name: str, now: datetime) -> tuple[DeskRecord, str]:
    if desk is None:
        raise NoSuchDesk(f"no desk {name!r}")
    updated, token = rotated_desk(desk, now)
    publish(settings, settings.topics.desks, updated.name, updated)
    return updated, token


@dataclass(frozen=True)
class DeskObjects:
    """Everything a desk owns besides its record, by key: what removing the desk tombstones."""

    watches: list[str] = field(default_factory=list)
    webhooks: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    progress: list[str] = field(default_factory=list)


def remove_desk(settings: Settings, name: str, owned: DeskObjects) -> None:
    """Tombstone the desk, then its watches, webhooks, entities and look-back results (a removed desk must not
    keep firing alerts, nor leave its names in every worker's automaton)."""
    from streams.infra.compacted import publish_many

    topics = settings.topics
    publish(settings, topics.desks, name, None)
    for topic, keys in (
        (topics.watches, owned.watches), (topics.webhooks, owned.webhooks), (topics.entities, owned.entities),
        (topics.history, owned.history), (topics.lookback_progress, owned.progress),
    ):  # fmt: skip
        if keys:
            publish_many(settings, topic, [(key, None) for key in keys])


def remove_desk_everywhere(settings: Settings, name: str) -> None:
    """``desk rm`` without a worker: find what the desk owns by reading the topics."""
    import asyncio

    from streams.infra.entities import current_entities
    from streams.infra.lookback import read_history, read_progress
    from streams.infra.watches import current_watches

    check_known_desk(name, read_desks(settings))
    hooks = asyncio.run(webhook_view(settings).snapshot())
    owned = DeskObjects(
        watches=[w.watch_id for w in current_watches(settings).values() if w.desk == name],
        webhooks=[h.webhook_id for h in hooks.values() if h.desk == name],
        entities=[e.entity_id for e in current_entities(settings).values() if e.desk == name],
        history=[key for key, hit in read_history(settings).items() if hit.candidate.watch.desk == name],
        progress=[key for key, p in read_progress(settings).items() if p.desk == name],
    )
    remove_desk(settings, name, owned)

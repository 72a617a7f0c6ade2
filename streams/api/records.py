"""Desk and webhook records: their wire shapes, and reading or writing their compacted topics.

Both topics hold state (latest value per key, a tombstone deletes), like the watches topic. Workers follow
them with ``streams.infra.compacted.CompactedView``; the ``desk`` CLI reads them once and writes with ``publish``. Only
hashes of desk tokens are stored; webhook signing secrets have to be stored as they are (signing needs them),
so the webhooks topic must be as protected as the broker itself (docs/decisions/0401-desk-api-design.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, Field

from streams.core.models import VersionedModel, WireModel
from streams.infra.compacted import CompactedView, OnInvalid, publish
from streams.infra.settings import Settings

DESK_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
WebhookFormat = Literal["standard", "slack"]


class DeskRecord(VersionedModel):
    """A desk (``desks``, compacted, key = ``name``): who may call the API as this desk."""

    TOPIC: ClassVar[str] = "desks"

    name: Annotated[str, Field(pattern=DESK_NAME_PATTERN)]
    token_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    created_at: AwareDatetime
    rotated_at: AwareDatetime | None = None


class SigningSecret(WireModel):
    secret: Annotated[str, Field(pattern=r"^whsec_[A-Za-z0-9+/=]+$")]
    expires_at: AwareDatetime | None = None
    """``None`` for the current secret; a rotated-away one keeps signing until then."""


class WebhookRecord(VersionedModel):
    """A desk's webhook endpoint (``webhooks``, compacted, key = ``webhook_id``)."""

    TOPIC: ClassVar[str] = "webhooks"

    webhook_id: Annotated[str, Field(pattern=r"^wh-[0-9a-f]{16}$")]
    desk: Annotated[str, Field(pattern=DESK_NAME_PATTERN)]
    url: Annotated[str, Field(min_length=1, max_length=2048)]
    format: WebhookFormat = "standard"
    description: Annotated[str, Field(max_length=200)] = ""
    secrets: tuple[SigningSecret, ...]
    enabled: bool = True
    disabled_reason: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets that sign a delivery made at ``now``: the current one plus any still overlapping."""
        return [s.secret for s in self.secrets if s.expires_at is None or s.expires_at > now]


def desk_view(settings: Settings, on_invalid: OnInvalid | None = None) -> CompactedView[DeskRecord]:
    return CompactedView(settings.kafka_bootstrap, settings.topics.desks, DeskRecord, lambda d: d.name, on_invalid)


def webhook_view(settings: Settings, on_invalid: OnInvalid | None = None) -> CompactedView[WebhookRecord]:
    topic = settings.topics.webhooks
    return CompactedView(settings.kafka_bootstrap, topic, WebhookRecord, lambda w: w.webhook_id, on_invalid)


def read_desks(settings: Settings, timeout_s: float = 30.0) -> dict[str, DeskRecord]:
    """All desks as the workers will see them (the CLI's view)."""
    return desk_view(settings).read(timeout_s)


__all__ = ["DESK_NAME_PATTERN", "CompactedView", "DeskRecord", "SigningSecret", "WebhookRecord", "publish"]

"""The webhook state machine and the endpoints an alert goes to, decided without I/O (the dispatcher applies)."""

from __future__ import annotations

import random
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from streams.api.records import SigningSecret, WebhookRecord
from streams.api.webhooks import Delivery, RetryPolicy, after_attempt, eligible_endpoints
from tests.unit.pipeline.factories import T0

POLICY = RetryPolicy(base_s=10, factor=3, max_s=3 * 3600, max_attempts=3)


@pytest.mark.parametrize(
    ("attempts", "outcome", "final", "disable", "dead_letter"),
    [
        (0, "delivered", "delivered", False, None),
        (0, "gone", "gone", True, "endpoint_gone"),  # 410: disabled for every alert, this one dead-lettered
        (0, "http_5xx", None, False, None),  # retried later
        (1, "timeout", None, False, None),
        (2, "connection_error", "exhausted", False, "exhausted"),  # the third attempt was the last
        (2, "delivered", "delivered", False, None),  # a last attempt that succeeds is delivered
    ],
)
def test_after_an_attempt(
    attempts: int, outcome: str, final: str | None, disable: bool, dead_letter: str | None
) -> None:
    delivery = Delivery(webhook_id="wh-1", attempts=attempts, next_at=0.0)
    decided = after_attempt(delivery, outcome, "HTTP 503", 1000.0, POLICY, random.Random(1))
    assert (decided.final, decided.disable_endpoint, decided.dead_letter_reason) == (final, disable, dead_letter)
    assert decided.delivery.attempts == attempts + 1
    assert decided.delivery.status == (final or "pending")
    assert decided.delivery.last_error == (None if outcome == "delivered" else "HTTP 503")
    if final is None:
        assert 1000.0 + 5 <= decided.delivery.next_at <= 1000.0 + 10 * 3**attempts  # half fixed, half jitter


def _hook(number: int, desk: str, enabled: bool = True, created_after_s: float = -60) -> WebhookRecord:
    return WebhookRecord(
        webhook_id=f"wh-{number:016x}",
        desk=desk,
        url="https://hooks.example/x",
        secrets=(SigningSecret(secret="whsec_" + "A" * 43),),
        enabled=enabled,
        created_at=T0 + timedelta(seconds=created_after_s),
        updated_at=T0,
    )


def test_an_alert_goes_to_its_desks_enabled_endpoints_that_existed_when_it_fired() -> None:
    alert: Any = SimpleNamespace(desk="korea", fired_at=T0)
    hooks = [
        _hook(1, "korea"),
        _hook(2, "china"),  # another desk's
        _hook(3, "korea", enabled=False),  # disabled (a 410 earlier, or by the desk)
        _hook(4, "korea", created_after_s=30),  # added after the alert fired: no back-fill
        _hook(5, "korea", created_after_s=0),
    ]
    assert [h.webhook_id for h in eligible_endpoints(hooks, alert)] == [f"wh-{1:016x}", f"wh-{5:016x}"]

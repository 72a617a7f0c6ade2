"""The desk API's pure rules: tokens, event ids, retry schedule, signatures across a secret rotation, Slack
escaping."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from streams.api.desks import DeskError, desk_for_token, new_desk, rotated_desk
from streams.api.records import SigningSecret, WebhookRecord
from streams.api.service import new_signing_secret
from streams.api.store import event_id, parse_event_id
from streams.api.webhooks import payload, retry_delay, signature_headers, slack_escape
from streams.core.models import SurgeFigures, SurgeStory
from tests.support.desks import make_alert

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_a_token_finds_its_desk_until_rotated() -> None:
    alpha, alpha_token = new_desk("alpha", NOW)
    beta, beta_token = new_desk("beta", NOW)
    assert alpha_token not in alpha.model_dump_json()  # only the hash is stored
    assert desk_for_token([alpha, beta], alpha_token) == alpha
    assert desk_for_token([alpha, beta], beta_token) == beta
    assert desk_for_token([alpha, beta], alpha_token + "x") is None
    rotated, new_token = rotated_desk(alpha, NOW)
    assert desk_for_token([rotated, beta], alpha_token) is None
    assert desk_for_token([rotated, beta], new_token) == rotated


@pytest.mark.parametrize("name", ["", "Alpha", "-x", "a" * 65, "a b", "../etc"])
def test_desk_names_are_checked(name: str) -> None:
    with pytest.raises(DeskError):
        new_desk(name, NOW)


def test_event_ids_belong_to_one_store() -> None:
    assert parse_event_id("ab12cd34", event_id("ab12cd34", 42)) == 42
    for other in ("ffff0000-42", "ab12cd34-", "ab12cd34-x", "42", "ab12cd34-" + "9" * 19):
        assert parse_event_id("ab12cd34", other) is None


def test_retry_delays_grow_to_the_cap_with_jitter_over_hours() -> None:
    rng = random.Random(1)
    delays = [retry_delay(n, 10, 3, 3 * 3600, rng) for n in range(1, 13)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(3 * 3600, 10 * 3 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert sum(delays) > 4 * 3600  # twelve attempts span hours, not minutes


def test_rotation_signs_with_the_old_secret_until_the_overlap_ends() -> None:
    old, new = new_signing_secret(), new_signing_secret()
    hook = WebhookRecord(
        webhook_id="wh-0123456789abcdef",
        desk="alpha",
        url="https://hooks.example/x",
        secrets=(SigningSecret(secret=new), SigningSecret(secret=old, expires_at=NOW + timedelta(hours=1))),
        created_at=NOW,
        updated_at=NOW,
    )
    alert = make_alert("alpha", 1)
    body = payload(alert, "standard")
    now = datetime.now(UTC)  # the signature's timestamp must be fresh for receivers
    headers = signature_headers(alert.alert_id, body, hook.signing_secrets(NOW), now)
    assert headers["webhook-id"] == alert.alert_id
    assert Webhook(old).verify(body, headers) == Webhook(new).verify(body, headers)
    later = signature_headers(alert.alert_id, body, hook.signing_secrets(NOW + timedelta(hours=2)), now)
    Webhook(new).verify(body, later)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, later)


def test_slack_text_cannot_become_markup() -> None:
    assert slack_escape("<!channel> & <https://x|y>") == "&lt;!channel&gt; &amp; &lt;https://x|y&gt;"
    alert = make_alert("alpha", 1, title="<!here> breaking")
    assert b"<!here>" not in payload(alert, "slack")


def test_a_surge_reaches_slack_as_its_figures_and_top_stories_escaped() -> None:
    alert = make_alert("alpha", 1, title="Kim arrives")
    story = SurgeStory(
        story_id="s1", articles=7, title="<!channel> Kim in Moscow", url="https://x/a|b>", article_id="a"
    )
    figures = SurgeFigures(window_s=900, window_start=NOW, count=9, expected=0.4, p_value=1e-9, top_stories=(story,))
    surge = alert.model_copy(update={"kind": "surge", "surge": figures})
    message = json.loads(payload(surge, "slack"))
    assert "surging: 9 articles in 15 min, about 0.4 expected" in message["text"]
    body = message["blocks"][0]["text"]["text"]
    assert "<https://x/a%7Cb%3E|&lt;!channel&gt; Kim in Moscow> (7)" in body
    assert "<!channel>" not in body
    assert json.loads(payload(surge, "standard"))["data"]["kind"] == "surge"

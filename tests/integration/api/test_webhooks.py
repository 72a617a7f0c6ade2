"""Webhooks against a local receiver that fails (500, timeouts) and recovers: every alert arrives, retries
keep the ``webhook-id``, signatures verify with the Standard Webhooks library, 410 disables the endpoint,
a 302 is never followed, exhausted deliveries reach the dead-letter topic, and delivery state survives a
worker restart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from streams.core.models import DeadLetter
from streams.infra.kafka_topics import ensure_topics
from tests.integration.api.conftest import FAST_WEBHOOKS, ApiWorker, api_settings
from tests.support.desks import OpenApiClient, make_alert, produce_alerts, start_api_worker, wait_api_ready
from tests.support.kafka import consume
from tests.support.processes import Child
from tests.support.webhook_receiver import Received, WebhookReceiver

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver().running() as running:
        yield running


def add_webhook(api_worker: ApiWorker, token: str, url: str, **extra: str) -> dict[str, str]:
    created = api_worker.client.call("POST", "/api/v1/webhooks", token, json={"url": url, **extra})
    assert created.status_code == 201, created.text
    body: dict[str, str] = created.json()
    assert body["secret"].startswith("whsec_")
    return body


def verified(request: Received, secret: str) -> dict[str, object]:
    payload: dict[str, object] = Webhook(secret).verify(request.body, request.headers)
    return payload


def test_a_failing_receiver_gets_every_alert_once_it_recovers(api_worker: ApiWorker, receiver: WebhookReceiver) -> None:
    token = api_worker.new_desk("hooked")
    # 1st attempt 500, 2nd stalls past the 1 s timeout, 3rd succeeds.
    url = receiver.on("/flaky", lambda n: {1: 500, 2: 2.0}.get(n, 200))
    hook = add_webhook(api_worker, token, url)
    alerts = [make_alert("hooked", n) for n in range(5)]
    produce_alerts(api_worker.settings, alerts + alerts[:2])  # redelivered alerts are not delivered again
    ids = {a.alert_id for a in alerts}
    receiver.wait_for(lambda: {r.headers["webhook-id"] for r in receiver.at("/flaky") if r.status == 200} == ids)

    for alert in alerts:
        attempts = [r for r in receiver.at("/flaky") if r.headers["webhook-id"] == alert.alert_id]
        assert [r.status for r in attempts] == [500, 0, 200]
        assert len({r.body for r in attempts}) == 1, "every attempt sends the same body"
        payload = verified(attempts[-1], hook["secret"])
        assert payload["type"] == "alert.fired"
        assert payload["data"] == json.loads(alert.to_json())
    with pytest.raises(Exception, match="signature"):
        verified(receiver.at("/flaky")[0], "whsec_" + "A" * 44)


def test_410_disables_the_endpoint_and_302_is_not_followed(api_worker: ApiWorker, receiver: WebhookReceiver) -> None:
    token = api_worker.new_desk("hooked-gone")
    gone = add_webhook(api_worker, token, receiver.on("/gone", lambda _n: 410))
    add_webhook(api_worker, token, receiver.on("/redirect", lambda _n: 302))
    produce_alerts(api_worker.settings, [make_alert("hooked-gone", 1)])
    receiver.wait_for(lambda: len(receiver.at("/redirect")) >= 3)  # retried like any failure
    assert receiver.at("/redirect-target") == []
    assert len(receiver.at("/gone")) == 1
    view = api_worker.client.call("GET", f"/api/v1/webhooks/{gone['webhook_id']}", token).json()
    assert view["enabled"] is False
    assert "410" in view["disabled_reason"]

    produce_alerts(api_worker.settings, [make_alert("hooked-gone", 2)])
    receiver.wait_for(lambda: len({r.headers["webhook-id"] for r in receiver.at("/redirect")}) == 2)
    assert len(receiver.at("/gone")) == 1, "a disabled endpoint gets nothing more"
    letters = [DeadLetter.from_wire(r.value) for r in consume_dead_letters(api_worker, 2)]
    assert {(d.stage, d.reason) for d in letters} >= {("webhook", "endpoint_gone")}


def consume_dead_letters(api_worker: ApiWorker, expected: int) -> list[object]:
    return list(consume(api_worker.settings.kafka_bootstrap, api_worker.settings.topics.deadletter, expected, 30))


def test_exhausted_deliveries_go_to_the_dead_letter_topic(api_worker: ApiWorker, receiver: WebhookReceiver) -> None:
    token = api_worker.new_desk("hooked-down")
    add_webhook(api_worker, token, receiver.on("/down", lambda _n: 503))
    alert = make_alert("hooked-down", 1)
    produce_alerts(api_worker.settings, [alert])
    receiver.wait_for(lambda: len(receiver.at("/down")) >= int(FAST_WEBHOOKS["WIREWATCH_WEBHOOK_MAX_ATTEMPTS"]))

    def exhausted() -> list[DeadLetter]:
        records = consume(api_worker.settings.kafka_bootstrap, api_worker.settings.topics.deadletter, 100, 3)
        letters = [DeadLetter.from_wire(r.value) for r in records]
        return [d for d in letters if d.reason == "exhausted" and d.key == alert.alert_id]

    receiver.wait_for(lambda: len(exhausted()) == 1, timeout_s=30)
    letter = exhausted()[0]
    assert letter.stage == "webhook"
    assert "HTTP 503" in letter.error
    assert json.loads(letter.payload)["alert_id"] == alert.alert_id
    assert len(receiver.at("/down")) == int(FAST_WEBHOOKS["WIREWATCH_WEBHOOK_MAX_ATTEMPTS"])


def test_secret_rotation_signs_with_both_secrets_and_slack_gets_escaped_text(
    api_worker: ApiWorker, receiver: WebhookReceiver
) -> None:
    token = api_worker.new_desk("hooked-slack")
    hook = add_webhook(api_worker, token, receiver.on("/slack", lambda _n: 200), format="slack")
    rotated = api_worker.client.call("POST", f"/api/v1/webhooks/{hook['webhook_id']}/rotate-secret", token)
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    produce_alerts(api_worker.settings, [make_alert("hooked-slack", 1, title="<script>alert(1)</script> <!channel>")])
    receiver.wait_for(lambda: len(receiver.at("/slack")) == 1)
    request = receiver.at("/slack")[0]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    message = verified(request, hook["secret"])
    assert verified(request, new_secret) == message
    text = str(message["text"])
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt;" in text
    assert "<script>" not in json.dumps(message)


def test_webhook_targets_go_through_the_url_guard(api_worker: ApiWorker) -> None:
    token = api_worker.new_desk("hooked-guard")
    for target in ("ftp://127.0.0.1/hook", "file:///etc/passwd", "not a url", "http:///no-host"):
        answer = api_worker.client.call("POST", "/api/v1/webhooks", token, json={"url": target})
        assert answer.status_code == 422, target
        assert answer.json()["code"] == "invalid_url"


def test_delivery_state_survives_a_worker_restart(
    kafka_bootstrap: str, tmp_path: Path, receiver: WebhookReceiver, children: list[Child]
) -> None:
    settings = api_settings(kafka_bootstrap, tmp_path / "home")
    ensure_topics(settings)
    slow = {**FAST_WEBHOOKS, "WIREWATCH_WEBHOOK_MAX_ATTEMPTS": "50", "WIREWATCH_WEBHOOK_RETRY_MAX_S": "1"}
    first, base = start_api_worker(settings, tmp_path, "first", **slow)
    children.append(first)
    wait_api_ready(first, base)
    worker = ApiWorker(settings, base, first, OpenApiClient(base))
    token = worker.new_desk("survivor")
    recovered = False
    add_webhook(worker, token, receiver.on("/later", lambda _n: 200 if recovered else 500))
    alerts = [make_alert("survivor", n) for n in range(3)]
    produce_alerts(settings, alerts)
    receiver.wait_for(lambda: {r.headers["webhook-id"] for r in receiver.at("/later")} == {a.alert_id for a in alerts})
    assert first.stop() == 0
    failed_before = len(receiver.at("/later"))

    recovered = True
    second, base = start_api_worker(settings, tmp_path, "second", **slow)
    children.append(second)
    wait_api_ready(second, base)
    delivered = lambda: {r.headers["webhook-id"] for r in receiver.at("/later") if r.status == 200}  # noqa: E731
    receiver.wait_for(lambda: delivered() == {a.alert_id for a in alerts}, timeout_s=60)
    assert all(r.status == 500 for r in receiver.at("/later")[:failed_before])

"""The live stream: resuming with ``Last-Event-ID`` loses and repeats nothing, across 50 reconnects while
alerts flow; unknown cursors get an explicit ``reset``; heartbeats and ``retry`` advice are sent."""

from __future__ import annotations

import random
import threading
import time

import pytest
import requests

from tests.integration.api.conftest import ApiWorker
from tests.support.desks import Event, bearer, make_alert, produce_alerts, sse_events, sse_lines

pytestmark = pytest.mark.integration

ALERTS = 160
RECONNECTS = 50


def open_stream(api_worker: ApiWorker, token: str, last_event_id: str | None) -> requests.Response:
    headers = {**bearer(token), **({"Last-Event-ID": last_event_id} if last_event_id else {})}
    response = requests.get(f"{api_worker.base}/api/v1/alerts/stream", headers=headers, stream=True, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/event-stream"
    return response


def test_a_client_reconnecting_50_times_sees_every_alert_exactly_once(api_worker: ApiWorker) -> None:
    token = api_worker.new_desk("streamer")
    start = api_worker.client.call("GET", "/api/v1/alerts?limit=1", token).json()["stream_cursor"]
    mine = [make_alert("streamer", n) for n in range(ALERTS)]
    theirs = [make_alert("elsewhere", n) for n in range(ALERTS // 4)]

    def flow() -> None:
        for batch in range(0, ALERTS, 4):
            chunk = mine[batch : batch + 4]
            # The pipeline is at-least-once: some alerts come again and must not be streamed again.
            produce_alerts(api_worker.settings, chunk + chunk[:1] + theirs[batch // 4 : batch // 4 + 1])
            time.sleep(0.05)

    producer = threading.Thread(target=flow)
    producer.start()
    rng = random.Random(6)
    seen: list[str] = []
    cursors: list[int] = []
    last_id, connections = start, 0
    deadline = time.monotonic() + 90
    try:
        while len(seen) < ALERTS and time.monotonic() < deadline:
            response = open_stream(api_worker, token, last_id)
            connections += 1
            wanted = rng.randint(1, 4) if connections <= RECONNECTS else ALERTS
            got = 0
            for event in sse_events(response):
                if event.type != "alert":
                    assert event.type == "retry"
                    continue
                assert event.id is not None
                item = event.json()
                assert item["cursor"] == event.id
                seen.append(item["alert"]["alert_id"])
                cursors.append(int(event.id.rsplit("-", 1)[1]))
                last_id, got = event.id, got + 1
                if got >= wanted or len(seen) >= ALERTS:
                    break
            response.close()  # drop the connection mid-stream
    finally:
        producer.join()
    assert connections > RECONNECTS
    assert len(seen) == len(set(seen)), "an alert was streamed twice"
    assert set(seen) == {a.alert_id for a in mine}
    assert cursors == sorted(set(cursors)), "event ids must increase"


def first_events(response: requests.Response, count: int) -> list[Event]:
    events = []
    for event in sse_events(response):
        events.append(event)
        if len(events) >= count:
            break
    response.close()
    return events


def test_an_unknown_cursor_gets_a_reset_event_then_the_stream_goes_on(api_worker: ApiWorker) -> None:
    token = api_worker.new_desk("resetter")
    for foreign in ("0badc0de-5", "not-a-cursor", None):
        head = api_worker.client.call("GET", "/api/v1/health", token).json()["store"]["head"]
        future = head.rsplit("-", 1)[0] + "-999999999"
        events = first_events(open_stream(api_worker, token, foreign or future), 2)
        assert events[0].type == "retry"
        assert int(events[0].data[0]) > 0
        assert events[1].type == "reset"
        assert events[1].json()["reason"] == "unknown_cursor"
        assert events[1].id == events[1].json()["cursor"] == head


def test_an_idle_stream_sends_heartbeats(api_worker: ApiWorker) -> None:
    token = api_worker.new_desk("listener")
    response = open_stream(api_worker, token, None)
    started = time.monotonic()
    lines: list[str] = []
    for line in sse_lines(response):  # nothing is produced for this desk: only advice and heartbeats come
        lines.append(line)
        if lines.count(": heartbeat") >= 2:
            break
    response.close()
    assert lines[0].startswith("retry: ")
    assert [line for line in lines if line] == [lines[0], ": heartbeat", ": heartbeat"]
    assert time.monotonic() - started < 5  # configured every second here (at most 15 s by default)

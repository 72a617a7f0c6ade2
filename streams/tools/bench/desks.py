"""``wirewatch bench desks``: the desk API's delivery latencies and query rate on one local worker.

A worker (own topic prefix, deleted afterwards) serves one desk with a live stream open and one webhook to a
local receiver; alerts are produced straight onto the alerts topic at a steady rate, and each one's time from
produce to the SSE event and to the webhook request is measured. Then concurrent clients page through
``GET /api/v1/alerts`` for a few seconds, beside the worker's bare ``/health`` route as the ceiling of its
web server in the same run.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web
from kafka import KafkaProducer

from streams.api.desks import new_desk
from streams.api.records import publish
from streams.core.models import Alert
from streams.infra.kafka_topics import delete_prefix_topics, ensure_topics
from streams.infra.processes import running_worker
from streams.infra.settings import Settings
from streams.tools.figures import percentile

CLIENTS = 8


@dataclass(frozen=True)
class DeskFigures:
    alerts: int
    rate: float
    sse_ms: list[float]
    webhook_ms: list[float]
    query_rps: float
    health_rps: float


def run_desk_bench(
    settings: Settings, alerts: int, rate: float, seconds: float, log: Path, say: Callable[[str], None]
) -> DeskFigures:
    ensure_topics(settings)
    admin = "bench-" + secrets.token_hex(8)
    desk, token = new_desk("bench", datetime.now(UTC))
    publish(settings, settings.topics.desks, desk.name, desk)
    extra = {
        "WIREWATCH_ADMIN_TOKEN": admin,
        "WIREWATCH_ALLOW_PRIVATE_NETWORKS": "true",
        "WIREWATCH_API_RATE_LIMIT": "1000000/second",
    }
    try:
        with running_worker(settings, log, **extra):
            say(f"worker started (log: {log})")
            return asyncio.run(_measure(settings, token, admin, alerts, rate, seconds, say))
    finally:
        delete_prefix_topics(settings)


async def _measure(
    settings: Settings, token: str, admin: str, count: int, rate: float, seconds: float, say: Callable[[str], None]
) -> DeskFigures:
    base = f"http://127.0.0.1:{settings.web_port}"
    auth = {"Authorization": f"Bearer {token}"}
    produced: dict[str, float] = {}
    to_sse: dict[str, float] = {}
    to_hook: dict[str, float] = {}

    async def receive(request: web.Request) -> web.Response:
        to_hook.setdefault(request.headers["webhook-id"], time.perf_counter() - produced[request.headers["webhook-id"]])
        return web.Response(status=204)

    receiver = web.Application()
    receiver.router.add_post("/hook", receive)
    runner = web.AppRunner(receiver, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook_url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    async with aiohttp.ClientSession() as session:
        await _until_ready(session, base, auth)
        async with session.post(f"{base}/api/v1/webhooks", json={"url": hook_url}, headers=auth) as answer:
            answer.raise_for_status()
        say(f"desk ready; producing {count} alerts at {rate:g}/s")
        stream = asyncio.create_task(_follow(session, base, auth, produced, to_sse, count))
        await asyncio.sleep(0.5)
        await asyncio.to_thread(_produce, settings, count, rate, produced)
        deadline = time.monotonic() + 60
        while (len(to_sse) < count or len(to_hook) < count) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        stream.cancel()
        say(f"querying for {seconds:g} s with {CLIENTS} clients")
        query_rps = await _rate(session, f"{base}/api/v1/alerts?limit=50", auth, seconds)
        health_rps = await _rate(session, f"{base}/health", {}, seconds)
    await runner.cleanup()
    return DeskFigures(count, rate, sorted(to_sse.values()), sorted(to_hook.values()), query_rps, health_rps)


async def _until_ready(session: aiohttp.ClientSession, base: str, auth: dict[str, str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            async with session.get(f"{base}/api/v1/health", headers=auth) as answer:
                if answer.status == 200 and (await answer.json())["status"] == "ok":
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.5)
    raise TimeoutError("bench worker did not become ready")


async def _follow(
    session: aiohttp.ClientSession,
    base: str,
    auth: dict[str, str],
    produced: dict[str, float],
    arrived: dict[str, float],
    count: int,
) -> None:
    async with session.get(f"{base}/api/v1/alerts/stream", headers=auth, timeout=aiohttp.ClientTimeout()) as answer:
        async for line in answer.content:
            if line.startswith(b"data: "):
                alert_id = json.loads(line[6:])["alert"]["alert_id"]
                arrived[alert_id] = time.perf_counter() - produced[alert_id]
                if len(arrived) >= count:
                    return


def _produce(settings: Settings, count: int, rate: float, produced: dict[str, float]) -> None:
    """Alerts for the bench desk at a steady rate; each one's send time is recorded just before sending."""
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=0)
    started = time.perf_counter()
    try:
        for n in range(count):
            alert = _alert(n)
            time.sleep(max(0.0, started + n / rate - time.perf_counter()))
            produced[alert.alert_id] = time.perf_counter()
            producer.send(settings.topics.alerts, key=alert.alert_id.encode(), value=alert.to_json())
        producer.flush(30)
    finally:
        producer.close()


def _alert(n: int) -> Alert:
    now = datetime.now(UTC).isoformat()
    source = {"feed_url": "https://bench.example/feed", "name": "Bench", "domain": "bench.example"}
    return Alert.from_wire(
        {
            "alert_id": f"bench-{n}-{secrets.token_hex(4)}",
            "watch_id": "w-bench",
            "desk": "bench",
            "entities": [{"id": "Q56226", "name": "Kim Jong Un"}, {"id": "Q7747", "name": "Vladimir Putin"}],
            "story_id": f"s-{n}",
            "article": {"id": f"a-{n}", "url": f"https://bench.example/{n}", "title": f"Story {n}", "source": source},
            "evidence": [f"Kim Jong Un met Vladimir Putin (story {n})."],
            "state_media": {"state_sourced": False},
            "fired_at": now,
            "latency_s": 0.1,
        }
    )


async def _rate(session: aiohttp.ClientSession, url: str, headers: dict[str, str], seconds: float) -> float:
    done = 0
    stop = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            async with session.get(url, headers=headers) as answer:
                await answer.read()
                answer.raise_for_status()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return done / (time.perf_counter() - started)


def format_figures(figures: DeskFigures) -> str:
    delivered = f"delivered: SSE {len(figures.sse_ms)}, webhook {len(figures.webhook_ms)}"
    rows = [f"alerts {figures.alerts} at {figures.rate:g}/s; {delivered}"]
    for name, values in (("produce -> SSE event", figures.sse_ms), ("produce -> webhook request", figures.webhook_ms)):
        rows.append(
            f"{name:<28} p50 {percentile(values, 0.5) * 1000:7.1f} ms  p95 {percentile(values, 0.95) * 1000:7.1f} ms"
            f"  max {max(values, default=float('nan')) * 1000:7.1f} ms"
        )
    rows.append(f"GET /api/v1/alerts?limit=50   {figures.query_rps:8.0f} req/s ({CLIENTS} clients)")
    rows.append(f"GET /health (web ceiling)     {figures.health_rps:8.0f} req/s ({CLIENTS} clients)")
    return "\n".join(rows)

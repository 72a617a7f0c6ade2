"""A minimal Faust app for the foundation test: upper-cases values from one topic into another."""

from __future__ import annotations

import os

import faust

app = faust.App(
    os.environ["RELAY_APP_ID"],
    broker=f"kafka://{os.environ['WIREWATCH_KAFKA_BOOTSTRAP']}",
    store="memory://",
    web_enabled=False,
    topic_partitions=1,
)
source = app.topic(os.environ["RELAY_SOURCE"], key_serializer="raw", value_serializer="raw")
target = app.topic(os.environ["RELAY_TARGET"], key_serializer="raw", value_serializer="raw")


@app.agent(source)
async def relay(stream):  # type: ignore[no-untyped-def]
    async for event in stream.events():
        await target.send(key=event.key, value=event.value.upper(), headers=event.headers)

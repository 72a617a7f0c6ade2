"""Hostile input sweep: malformed records put straight on every topic a worker reads.

``articles.raw`` (tag stage), ``pairs`` (decide stage), ``alerts`` (webhook stage) and the compacted state
topics ``watches``, ``desks`` and ``webhooks``: bytes that are not UTF-8, not JSON, JSON of the wrong shape or
contract, an unknown schema version, nesting deep enough to exhaust a recursive parser, a lone surrogate, a
record without a key, a key that differs from the record's own id, a tombstone where data is expected. Each must
land in the dead-letter topic with its stage and a reason, and the worker must keep going: a valid article sent
after the sweep still fires its alert.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from kafka import KafkaProducer

from streams.core.models import Alert, Article, DeadLetter, Source, WireError
from streams.tools.reliability.harness import Bench, Scenario, publish_watches, scenario
from streams.tools.reliability.traffic import read_topic


@dataclass(frozen=True)
class Poison:
    topic: str
    """Attribute of ``TopicNames``."""
    stage: str
    """The stage whose dead letter it must become."""
    label: str
    marker: str | None
    """The start of its key (``hostile-007-``), unique in the sweep; None for the record without a key."""
    value: bytes | None
    key_padding: int = 0
    """Bytes appended to the key (a key far larger than any id)."""

    @property
    def key(self) -> bytes | None:
        return None if self.marker is None else self.marker.encode() + b"k" * self.key_padding

    def is_reported_by(self, letter: DeadLetter) -> bool:
        if letter.stage != self.stage or not letter.reason:
            return False
        return letter.key is None if self.marker is None else (letter.key or "").startswith(self.marker)


_NOT_UTF8 = b"\xff\xfe\xfa not utf-8"
_DEEP = b"[" * 100_000 + b"]" * 100_000
_UNKNOWN_VERSION = json.dumps({"schema_version": 99}).encode()
_SURROGATE = b'{"schema_version": 1, "id": "\\ud800"}'
RECORD_LIMIT_BYTES = 1_000_000
"""Kafka's default largest record (``message.max.bytes`` is 1 MiB plus a little): the near-limit article's size."""

# Common shapes for every topic, then what is particular to each.
_ANY_TOPIC = (
    ("bytes that are not UTF-8", _NOT_UTF8),
    ("truncated JSON", b'{"schema_version": 1, "id": "a'),
    ("a JSON array", b"[1, 2, 3]"),
    ("a JSON string", b'"hello"'),
    ("an unknown schema version", _UNKNOWN_VERSION),
    ("100,000 levels of nesting", _DEEP),
    ("a lone surrogate escape", _SURROGATE),
)
_STAGES = {
    "articles_raw": "tag",
    "pairs": "decide",
    "alerts": "webhook",
    "watches": "watches",
    "desks": "desks",
    "webhooks": "webhooks",
}
_COMPACTED = ("watches", "desks", "webhooks")


def poisons() -> list[Poison]:
    """Every hostile record of the sweep."""
    found: list[tuple[str, str, bytes | None]] = []
    for topic in _STAGES:
        found += [(topic, label, value) for label, value in _ANY_TOPIC]
    for topic in ("articles_raw", "pairs", "alerts"):
        found.append((topic, "a tombstone (null value)", None))
        found.append((topic, "another contract's record (a desk-less watch)", _watch_like()))
    for topic in _COMPACTED:  # a keyless record cannot reach these: the broker refuses it on compacted topics
        found.append((topic, "a valid-looking record under another key", _state_record(topic)))
    found.append(("articles_raw", "an article of nearly 1 MB whose tags outgrow a record", _near_limit_article()))
    sweep = [
        Poison(topic, _STAGES[topic], label, f"hostile-{n:03d}-", value)
        for n, (topic, label, value) in enumerate(found)
    ]
    sweep.append(Poison("articles_raw", "tag", "a key of 512 KiB", f"hostile-{len(found):03d}-", b"{}", 512 * 1024))
    sweep.append(Poison("articles_raw", "tag", "a record without a key", None, b'{"schema_version": 1}'))
    return sweep


def _near_limit_article() -> bytes:
    sentence = "Kim Jong Un met Vladimir Putin in Pyongyang to discuss grain shipments. "
    article = Article(
        id="near-the-record-limit",
        url="https://hostile.example/near-the-record-limit",
        title="Kim Jong Un met Vladimir Putin",
        content=sentence * ((RECORD_LIMIT_BYTES - 1000) // len(sentence)),
        fetched=datetime.now(UTC),
        source=Source(feed_url="https://hostile.example/rss", name="Hostile", domain="hostile.example"),
    )
    return article.to_json()


def _watch_like() -> bytes:
    return json.dumps({"schema_version": 1, "watch_id": "w-1", "entities": ["Q1", "Q2"]}).encode()


def _state_record(topic: str) -> bytes:
    """A record of the topic's own contract whose id is not the key it is written under."""
    if topic == "watches":
        record = {"schema_version": 1, "watch_id": "w-other", "desk": "d", "entities": ["Q56226", "Q7747"]}
    elif topic == "desks":
        record = {"schema_version": 1, "name": "other", "token_sha256": "0" * 64, "created_at": "2026-01-01T00:00:00Z"}
    else:
        record = {
            "schema_version": 1, "webhook_id": "wh-0000000000000000", "desk": "d", "url": "https://hooks.example/x",
            "secrets": [{"secret": "whsec_AAAA"}], "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }  # fmt: skip
    return json.dumps(record).encode()


@dataclass(frozen=True)
class HostileSpec:
    timeout_s: float = 60.0
    """How long to wait for every dead letter and the follow-up alert."""

    @classmethod
    def short(cls) -> HostileSpec:
        return cls()  # the sweep is the same size either way


@dataclass(frozen=True)
class HostileFigures:
    sent: int
    caught: int
    missed: tuple[str, ...]
    reasons: dict[str, int]
    follow_up_alerted: bool
    tracebacks: int
    crashed: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.missed and self.follow_up_alerted and not self.crashed

    def report(self) -> str:
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(self.reasons.items()))
        return "\n".join(
            [
                "hostile input sweep — malformed records on raw, pairs, alerts, watches, desks and webhooks",
                f"hostile records sent            {self.sent:8d}",
                f"dead-lettered with a reason     {self.caught:8d}  ({reasons})",
                *(f"  NOT dead-lettered: {label}" for label in self.missed),
                f"valid article alerted after     {'yes' if self.follow_up_alerted else 'NO':>8}",
                f"tracebacks in the worker log    {self.tracebacks:8d}",
                f"processes that exited by itself {len(self.crashed):8d} {' '.join(self.crashed)}".rstrip(),
                f"result: {'PASS' if self.passed else 'FAIL'}",
            ]
        )


def run_hostile(spec: HostileSpec, bench: Bench) -> HostileFigures:
    sweep = poisons()
    with scenario(
        bench.bootstrap, "hostile", bench.workdir, bench.say, partitions=1, keep_topics=bench.keep_topics
    ) as run:
        publish_watches(run)
        run.start_workers(run.worker("a"))
        names = run.settings.topics
        follow_up = _follow_up_article()
        _send(bench.bootstrap, [(getattr(names, p.topic), p.key, p.value) for p in sweep])
        _send(bench.bootstrap, [(names.articles_raw, follow_up.id.encode(), follow_up.to_json())])
        letters, alerted = _wait(run, sweep, follow_up.id, spec.timeout_s)
        missed = tuple(f"{p.topic}: {p.label}" for p in sweep if not any(map(p.is_reported_by, letters)))
        return HostileFigures(
            sent=len(sweep),
            caught=len(sweep) - len(missed),
            missed=missed,
            reasons=dict(Counter(letter.reason for letter in letters)),
            follow_up_alerted=alerted,
            tracebacks=run.tracebacks(),
            crashed=tuple(run.crashed()),
        )


def _send(bootstrap: str, records: list[tuple[str, bytes | None, bytes | None]]) -> None:
    """(topic, key, value) one at a time, each acknowledged (a refused record would take its batch down with it)."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=2 * RECORD_LIMIT_BYTES)
    try:
        for topic, key, value in records:
            producer.send(topic, key=key, value=value).get(timeout=30)
    finally:
        producer.close()


def _follow_up_article() -> Article:
    now = datetime.now(UTC)
    return Article(
        id=f"after-the-sweep-{now.timestamp():.0f}",
        url="https://after.example/sweep",
        title="Kim Jong Un met Vladimir Putin after the hostile sweep",
        summary="Kim Jong Un met Vladimir Putin in Pyongyang on Tuesday, the state agency said.",
        fetched=now,
        source=Source(feed_url="https://after.example/rss", name="After", domain="after.example"),
    )


def _alerted(run: Scenario, article_id: str) -> bool:
    """Whether an alert names the article (the alerts topic also holds the sweep's own malformed records)."""
    for record in read_topic(run.settings.kafka_bootstrap, run.settings.topics.alerts):
        with contextlib.suppress(WireError):
            if Alert.from_wire(record.value).article.id == article_id:
                return True
    return False


def _wait(run: Scenario, sweep: list[Poison], article_id: str, timeout_s: float) -> tuple[list[DeadLetter], bool]:
    """Until every poison has its dead letter and the follow-up article its alert (or the time is up)."""
    deadline = time.monotonic() + timeout_s
    while True:
        letters = run.dead_letters()
        alerted = _alerted(run, article_id)
        if (alerted and all(any(map(p.is_reported_by, letters)) for p in sweep)) or time.monotonic() > deadline:
            return letters, alerted
        time.sleep(1.0)

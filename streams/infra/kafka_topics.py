"""The Kafka topics of docs/concepts/pipeline.md ("Topics and contracts") and their settings, created idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from streams.core.errors import BrokerUnavailable
from streams.infra.settings import Settings

_DAY_MS = 24 * 3600 * 1000
ARTICLE_RETENTION_S = 7 * 86400
"""How long ``articles.raw`` (and ``articles.tagged``) keep articles: how far a look back reaches."""
ALERT_RETENTION_S = 30 * 86400
"""How long the alerts topic keeps alerts; the desk alert store prunes its rows after as long."""


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)


def topic_specs(settings: Settings) -> list[TopicSpec]:
    t, n = settings.topics, settings.topic_partitions
    return [
        TopicSpec(t.articles_raw, n, {"retention.ms": str(ARTICLE_RETENTION_S * 1000)}),
        TopicSpec(t.articles_tagged, n, {"retention.ms": str(ARTICLE_RETENTION_S * 1000)}),
        # Watches are state: the latest value per watch_id, a tombstone deletes it.
        TopicSpec(t.watches, 1, {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}),
        TopicSpec(t.pairs, n, {"retention.ms": str(2 * _DAY_MS)}),
        TopicSpec(t.alerts, n, {"retention.ms": str(ALERT_RETENTION_S * 1000)}),
        TopicSpec(t.deadletter, 1, {"retention.ms": str(14 * _DAY_MS)}),
        # Desk records and webhook endpoints are state too: latest value per key, a tombstone deletes.
        TopicSpec(t.desks, 1, {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}),
        TopicSpec(t.webhooks, 1, {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}),
        # Feeds are state too, one partition per share of hosts (``connectors.feeds.host_partition``).
        TopicSpec(t.feeds, n, {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}),
        TopicSpec(t.feed_state, n, {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}),
        TopicSpec(t.entities, 1, {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}),
        # One look-back job per stretch of an articles.raw partition, on that partition's number: the workers
        # share them as they share articles (the jobs' group); a job is done when its progress says so.
        TopicSpec(t.lookback_jobs, n, {"retention.ms": str(2 * _DAY_MS)}),
        TopicSpec(t.lookback_progress, 1, {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}),
        TopicSpec(t.history, 1, {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}),
    ]


def admin_client(settings: Settings, timeout_s: float = 10.0) -> KafkaAdminClient:
    try:
        return KafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap,
            client_id=settings.group_id("admin"),
            request_timeout_ms=int(timeout_s * 1000),
        )
    except KafkaError as err:
        raise BrokerUnavailable(f"no Kafka broker answers at {settings.kafka_bootstrap}: {err}") from err


def ensure_topics(settings: Settings, specs: list[TopicSpec] | None = None) -> list[str]:
    """Create the topics that do not exist yet; return the names created. Safe to call any time."""
    specs = topic_specs(settings) if specs is None else specs
    admin = admin_client(settings)
    try:
        existing = set(admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        created: list[str] = []
        for spec in missing:
            try:
                admin.create_topics(
                    [
                        NewTopic(
                            spec.name,
                            num_partitions=spec.partitions,
                            replication_factor=settings.topic_replication,
                            topic_configs=spec.configs,
                        )
                    ],
                    wait_for_metadata=True,
                )
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass  # another process won the race: the topic exists, which is all we need
        return created
    finally:
        admin.close()


def prefix_topics(settings: Settings, admin: KafkaAdminClient) -> list[str]:
    """Every topic of this prefix: wirewatch's own and Faust's (changelogs, repartitions) under the app id."""
    return [t for t in admin.list_topics() if t.startswith((f"{settings.topic_prefix}.", f"{settings.app_id}-"))]


def delete_prefix_topics(settings: Settings, wait_s: float = 0.0) -> list[str]:
    """Delete every topic of this prefix (benchmarks and the demo clean up after themselves)."""
    import time

    admin = admin_client(settings)
    try:
        mine = prefix_topics(settings, admin)
        if mine:
            admin.delete_topics(mine, timeout_ms=30000)
        deadline = time.monotonic() + wait_s
        while mine and set(mine) & set(admin.list_topics()) and time.monotonic() < deadline:
            time.sleep(0.5)
        return mine
    finally:
        admin.close()

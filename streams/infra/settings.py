"""The one typed, frozen settings object of every wirewatch process.

Sources, highest priority first: keyword arguments, ``WIREWATCH_*`` environment variables, a ``.env``
file in the working directory, a YAML file named by ``WIREWATCH_CONFIG``, then the defaults below.
Topic names, the Faust app id and consumer group ids all derive from ``topic_prefix`` so that two
prefixes on one broker never share state.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from streams.core.errors import ConfigError


def _default_home() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wirewatch"


class TopicNames:
    """Names of the topics of docs/concepts/pipeline.md ("Topics and contracts") under one prefix."""

    def __init__(self, prefix: str) -> None:
        self.articles_raw = f"{prefix}.articles.raw"
        self.articles_tagged = f"{prefix}.articles.tagged"
        self.watches = f"{prefix}.watches"
        self.alerts = f"{prefix}.alerts"
        self.deadletter = f"{prefix}.deadletter"
        self.pairs = f"{prefix}.pairs"
        """Internal: tagged articles that matched a watch, re-keyed by watch id (one watch, one worker)."""
        self.desks = f"{prefix}.desks"
        """Desk records with token hashes (compacted, key = desk name)."""
        self.webhooks = f"{prefix}.webhooks"
        """Desk webhook endpoints with their signing secrets (compacted, key = webhook id)."""
        self.feeds = f"{prefix}.feeds"
        """Feeds managed at run time (compacted, key = canonical feed URL, partition by host)."""
        self.feed_state = f"{prefix}.feed.state"
        """Each feed's polling state, read by its next owner (compacted, key and partition as ``feeds``)."""
        self.entities = f"{prefix}.entities"
        """Desk-defined entities (compacted, key = entity id)."""
        self.lookback_jobs = f"{prefix}.lookback.jobs"
        """Look-back work: one stretch of one ``articles.raw`` partition per record, on the same partition."""
        self.lookback_progress = f"{prefix}.lookback.progress"
        """How far each look-back job got (compacted, key = lookback id and job)."""
        self.history = f"{prefix}.history"
        """History matches found by look-backs (compacted, key = watch id and article id)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="WIREWATCH_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        validate_default=True,
        use_attribute_docstrings=True,  # each field's docstring is its description (docs/reference/configuration.md)
    )

    kafka_bootstrap: str = "127.0.0.1:9092"
    """Kafka bootstrap servers, ``host:port[,host:port…]``."""
    topic_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")] = "wirewatch"
    """Prefix of every topic; the Faust app id (``<prefix>-worker``) and the consumer groups derive from it, so
    two prefixes never share state."""
    topic_partitions: Annotated[int, Field(ge=1, le=1024)] = 4
    """Partitions of the article, pairs and alert topics: the unit of scale-out (workers ≤ partitions)."""
    topic_replication: Annotated[int, Field(ge=1, le=16)] = 1
    """Replication factor of the topics wirewatch creates."""
    web_port: Annotated[int, Field(ge=1, le=65535)] = 6066
    """The worker's web server: ``/health``, ``/metrics``, the desk API and page."""
    connector_metrics_port: Annotated[int, Field(ge=0, le=65535)] = 9108
    """The connector's ``/metrics`` port (0: none)."""
    websub_listen: Annotated[str | None, Field(pattern=r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$")] = None
    """Where a connector serves WebSub callbacks (``HOST:PORT``) and subscribes the feeds that declare a hub;
    unset: no WebSub, every feed polled (``connect --websub-listen``)."""
    websub_callback_base: Annotated[str | None, Field(pattern=r"^https?://[^\s/?#]+[^\s?#]*$")] = None
    """The URL hubs reach the connector's ``websub_listen`` at, one per connector (a subscription's callback
    belongs to it); unset: ``http://HOST:PORT`` of the listening socket (``connect --websub-callback-base``)."""
    web_bind: str = "127.0.0.1"
    """Address the worker's web server listens on (``0.0.0.0`` in containers)."""
    web_host: str = "127.0.0.1"
    """Host name other workers use to reach this one (Faust table routing)."""
    store: Annotated[str, Field(pattern=r"^(memory|rocksdb)://")] = "memory://"
    """Faust table store: ``memory://`` recovers tables from their changelogs at start; ``rocksdb://`` keeps
    them on disk under ``home`` (needs the ``rocksdb`` extra)."""
    worker_id: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")] = None
    """A stable identity for this worker in its group (Kafka static membership): a worker restarted with the
    same id takes its partitions back at once instead of after its predecessor's session timed out. One per
    worker and never two at once (a StatefulSet pod name, a compose service name); unset, the worker is a
    dynamic member and every restart waits for the session timeout."""
    worker_session_timeout_s: Annotated[float, Field(ge=6, le=300)] = 20.0
    """How long a worker may go silent before the group gives its partitions to the others: the failover time
    of a worker that never comes back (decision 0606)."""
    worker_heartbeat_interval_s: Annotated[float, Field(gt=0, le=30)] = 2.0
    """How often a worker tells its group it is alive; at most a third of the session timeout."""
    worker_leave_group_on_stop: bool = True
    """On SIGTERM, leave the group so the others take the partitions over at once (scale-in, a deploy). Set
    false for restarts that bring the same ``worker_id`` back within the session timeout."""
    worker_on_processing_error: Literal["dead_letter", "crash"] = "dead_letter"
    """What a stage does with a record whose processing raised an unexpected error (a bug, not a bad record):
    ``dead_letter`` sends it to the dead-letter topic, counted, and goes on; ``crash`` logs the traceback and ends
    the process at once with exit code 70, before the record is acknowledged, so a restart reads it again
    (Faust acknowledges a record whose agent raised: ending the process is the only way not to pass it)."""
    allow_private_networks: bool = False
    """Let feed fetches and webhooks reach loopback and private addresses (tests and the demo only)."""
    home: Path = Field(default_factory=_default_home)
    """Cache and state outside the repository: broker jars and data, connector state, desk store."""
    admin_token: SecretStr | None = None
    """The desk API's admin token (manages desks); never logged."""
    api_rate_limit: str = "600/minute"
    """Requests per desk token (or per address without a valid token), in ``limits`` notation."""
    api_max_body_bytes: Annotated[int, Field(ge=1024, le=10 * 1024 * 1024)] = 64 * 1024
    """Request body cap of the desk API (413 above it)."""
    sse_retention_s: Annotated[int, Field(ge=60)] = 24 * 3600
    """How far back ``Last-Event-ID`` resumes the live stream; older cursors get a ``reset`` event."""
    sse_heartbeat_s: Annotated[float, Field(gt=0, le=15)] = 15.0
    """A heartbeat comment on the live stream after this much silence."""
    webhook_timeout_s: Annotated[float, Field(gt=0, le=60)] = 10.0
    """One webhook delivery attempt's deadline."""
    webhook_retry_base_s: Annotated[float, Field(gt=0)] = 10.0
    """First retry delay; each later one is ``webhook_retry_factor`` times longer (with jitter)."""
    webhook_retry_factor: Annotated[float, Field(ge=1)] = 3.0
    """Growth of the retry delay per attempt."""
    webhook_retry_max_s: Annotated[float, Field(gt=0)] = 3 * 3600.0
    """The longest retry delay."""
    webhook_max_attempts: Annotated[int, Field(ge=1, le=50)] = 12
    """Attempts before a delivery goes to the dead-letter topic."""
    webhook_secret_overlap_s: Annotated[int, Field(ge=0)] = 24 * 3600
    """How long a rotated-away webhook secret still signs deliveries beside the new one."""
    lookback_job_records: Annotated[int, Field(ge=1, le=1_000_000)] = 5000
    """Offsets of one ``articles.raw`` partition per look-back job: a job lost with its worker is redone whole,
    and progress moves a job at a time."""

    @field_validator("kafka_bootstrap")
    @classmethod
    def _check_bootstrap(cls, value: str) -> str:
        for server in value.split(","):
            host, sep, port = server.strip().rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port…], got {value!r}")
        return value

    @model_validator(mode="after")
    def _check_heartbeat(self) -> Settings:
        if self.worker_heartbeat_interval_s * 3 > self.worker_session_timeout_s:
            raise ValueError(
                "worker_heartbeat_interval_s must be at most a third of worker_session_timeout_s "
                f"(got {self.worker_heartbeat_interval_s:g} and {self.worker_session_timeout_s:g})"
            )
        return self

    @field_validator("api_rate_limit")
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        from limits import parse

        parse(value)  # raises ValueError with the reason
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        config_file = os.environ.get("WIREWATCH_CONFIG")
        if config_file:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)

    @cached_property
    def topics(self) -> TopicNames:
        return TopicNames(self.topic_prefix)

    @property
    def app_id(self) -> str:
        """Faust application id (also its consumer group and the prefix of its changelog topics)."""
        return f"{self.topic_prefix}-worker"

    def group_id(self, purpose: str) -> str:
        return f"{self.topic_prefix}-{purpose}"

    @property
    def bootstrap_port(self) -> int:
        return int(self.kafka_bootstrap.split(",")[0].rsplit(":", 1)[1])


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning validation errors into one readable ``ConfigError`` line."""
    from pydantic import ValidationError

    config_file = os.environ.get("WIREWATCH_CONFIG")
    if config_file and not Path(config_file).is_file():
        raise ConfigError(f"WIREWATCH_CONFIG names {config_file!r}, which is not a file")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in err.errors())
        raise ConfigError(f"invalid settings: {problems}") from err

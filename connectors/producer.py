"""Articles into ``<prefix>.articles.raw`` with kafka-python: idempotent, ``acks=all``, key = article id."""

from __future__ import annotations

from typing import Any, Protocol

from kafka import KafkaProducer
from kafka.errors import KafkaError

from connectors.core.normalize import FeedEntry
from streams.core.errors import BrokerUnavailable
from streams.infra.settings import Settings


class ArticleSink(Protocol):
    """Where new articles go; ``flush`` returns only when every article sent so far is durable."""

    def send(self, entry: FeedEntry) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


def article_headers(entry: FeedEntry) -> list[tuple[str, bytes]]:
    source = entry.article.source
    headers = [("feed_url", source.feed_url.encode()), ("feed", source.name.encode())]
    if source.outlet:
        headers.append(("outlet", source.outlet.encode()))
    return headers


class KafkaArticleSink:
    """A kafka-python producer that raises on flush when any send since the last flush failed."""

    def __init__(self, settings: Settings, flush_timeout_s: float = 60.0) -> None:
        self.topic = settings.topics.articles_raw
        self._flush_timeout_s = flush_timeout_s
        self._pending: list[Any] = []
        try:
            self._producer = KafkaProducer(
                bootstrap_servers=settings.kafka_bootstrap,
                client_id=settings.group_id("connector"),
                enable_idempotence=True,
                acks="all",
                linger_ms=20,
            )
        except KafkaError as err:
            raise BrokerUnavailable(f"no Kafka broker answers at {settings.kafka_bootstrap}: {err}") from err

    def send(self, entry: FeedEntry) -> None:
        article = entry.article
        try:
            future = self._producer.send(
                self.topic, key=article.id.encode(), value=article.to_json(), headers=article_headers(entry)
            )
        except KafkaError as err:  # no metadata within max_block_ms: the broker has been away for a while
            raise BrokerUnavailable(f"Kafka did not take the article: {err}") from err
        self._pending.append(future)

    def flush(self) -> None:
        try:
            self._producer.flush(timeout=self._flush_timeout_s)
            for future in self._pending:
                future.get(timeout=0)
        except KafkaError as err:
            raise BrokerUnavailable(f"Kafka did not acknowledge the articles: {err}") from err
        finally:
            self._pending.clear()

    def close(self) -> None:
        self._producer.close(timeout=self._flush_timeout_s)

"""The consumer-lag probe against the real broker: end offsets minus the group's committed offsets."""

from __future__ import annotations

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from streams.infra.observability import ConsumerLagProbe
from tests.support.kafka import create_topics, unique_name

pytestmark = pytest.mark.integration


def test_lag_is_end_minus_committed_per_partition(kafka_bootstrap: str) -> None:
    topic, group = unique_name("lag"), unique_name("lag-group")
    create_topics(kafka_bootstrap, [topic], partitions=3)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    for partition, count in ((0, 5), (1, 3)):
        for n in range(count):
            producer.send(topic, key=f"k{n}".encode(), value=b"v", partition=partition)
    producer.flush(30)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
    consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(2, "", -1)})
    consumer.close()

    lag = ConsumerLagProbe(kafka_bootstrap, group).measure([topic, unique_name("missing")])

    # p0: committed 2 of 5; p1: never committed, so all 3 count; p2: empty. A missing topic is left out.
    assert lag == {(topic, 0): 3, (topic, 1): 3, (topic, 2): 0}

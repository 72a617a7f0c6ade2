"""What every wirewatch process reports about itself and its consumer groups: the standard process metrics
and consumer-group lag measured with a Kafka admin client (no exporter runs beside the workers)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector, disable_created_metrics


def add_process_collectors(registry: CollectorRegistry) -> None:
    """Standard ``process_*`` (CPU, memory, file descriptors, start time) and ``python_info`` series.

    ``_created`` series are switched off process-wide: Prometheus does not use them here, and they would
    double the number of counter series every scrape carries.
    """
    disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in prometheus-client 0.26
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)


def group_positions(
    end: Mapping[tuple[str, int], int], committed: Mapping[tuple[str, int], int], start: Mapping[tuple[str, int], int]
) -> dict[tuple[str, int], int]:
    """Where the group stands in each partition of ``end``: its committed offset, or for a partition it never
    committed the first retained record (the worker reads from the earliest offset)."""
    return {tp: committed[tp] if committed.get(tp, -1) >= 0 else start.get(tp, 0) for tp in end}


def group_lag(
    end: Mapping[tuple[str, int], int], committed: Mapping[tuple[str, int], int], start: Mapping[tuple[str, int], int]
) -> dict[tuple[str, int], int]:
    """Lag per partition: end offset minus the group's position (``group_positions``)."""
    positions = group_positions(end, committed, start)
    return {tp: max(end_offset - positions[tp], 0) for tp, end_offset in end.items()}


class ConsumerLagProbe:
    """Measures the lag of a consumer group on some topics with a kafka-python admin client (blocking: run it in
    a thread). Computed in process because no Kafka exporter runs beside the workers; a client per measurement
    keeps a broker restart from leaving a broken connection behind."""

    def __init__(self, bootstrap: str, group_id: str) -> None:
        self.bootstrap = bootstrap
        self.group_id = group_id

    def measure(self, topics: Iterable[str]) -> dict[tuple[str, int], int]:
        return group_lag(*self.offsets(topics))

    def offsets(
        self, topics: Iterable[str]
    ) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int], dict[tuple[str, int], int]]:
        """Per partition of ``topics``: the end offset, the group's committed offset, the first retained one."""
        from kafka import KafkaAdminClient, TopicPartition
        from kafka.admin import OffsetSpec

        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=f"{self.group_id}-lag")
        try:
            partitions = [
                TopicPartition(described["name"], p["partition_index"])
                for described in admin.describe_topics(sorted(set(topics)))
                if described["error_code"] == 0
                for p in described["partitions"]
            ]
            if not partitions:
                return {}, {}, {}
            end = admin.list_partition_offsets(dict.fromkeys(partitions, OffsetSpec.LATEST))
            start = admin.list_partition_offsets(dict.fromkeys(partitions, OffsetSpec.EARLIEST))
            committed = admin.list_group_offsets({self.group_id: partitions})[self.group_id]
        finally:
            admin.close()
        return (
            {(tp.topic, tp.partition): found.offset for tp, found in end.items()},
            {(tp.topic, tp.partition): found.offset for tp, found in committed.items()},
            {(tp.topic, tp.partition): found.offset for tp, found in start.items()},
        )

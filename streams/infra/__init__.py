"""Layer 1, infrastructure shared by every process: settings, errors, Kafka topic names and admin, the
compacted-topic followers (watches, desks, webhooks), child processes, lag and process metrics.

Imports only ``streams.core`` and libraries (decision 0701).
"""

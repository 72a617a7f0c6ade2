"""The pure core of wirewatch: models, registries, taggers, alert decisions, story clustering.

Nothing under ``streams.core`` imports Faust, Kafka, HTTP clients or reads the clock: time and
randomness are parameters. ``tests/unit/test_core_purity.py`` walks the imports to keep it so.
"""

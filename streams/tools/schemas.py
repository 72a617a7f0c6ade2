"""JSON Schemas of the wire contracts, generated from ``streams.core.models`` into ``deploy/schemas/``.

Other programs (and our tests, on both the kafka-python and the Faust side) validate against these
files; ``wirewatch schemas --check`` fails when the committed files differ from the models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from streams.core.models import CONTRACTS, VersionedModel

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "deploy" / "schemas"


def all_contracts() -> dict[str, type[VersionedModel]]:
    """The pipeline's contracts plus the desk API's state topics (desks, webhooks) and the look backs'."""
    from connectors.core.feedlist import FeedRecord
    from connectors.core.feedstate import FeedStateRecord
    from streams.api.records import DeskRecord, WebhookRecord
    from streams.core.history import HistoryHit, LookbackJob, LookbackProgress

    return {
        **CONTRACTS, "desk": DeskRecord, "webhook": WebhookRecord, "feed": FeedRecord, "feed_state": FeedStateRecord,
        "lookback_job": LookbackJob,
        "lookback_progress": LookbackProgress, "history_hit": HistoryHit,
    }  # fmt: skip


def contract_schemas() -> dict[str, dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {}
    for name, model in all_contracts().items():
        schema = model.model_json_schema(mode="serialization")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://wirewatch.invalid/schemas/{name}.json"
        schemas[name] = schema
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in contract_schemas().items():
        path = directory / f"{name}.json"
        path.write_text(render(schema))
        written.append(path)
    return written


def stale_schemas(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names whose committed file is missing or differs from what the models generate."""
    stale = []
    for name, schema in contract_schemas().items():
        path = directory / f"{name}.json"
        if not path.is_file() or path.read_text() != render(schema):
            stale.append(name)
    return stale

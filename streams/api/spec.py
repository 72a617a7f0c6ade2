"""The API's operations, declared once: the aiohttp routes, the access rules the middleware enforces and the
OpenAPI 3.1 document are all built from the same ``Operation`` list, so they cannot disagree. Operations
served by other parts of the worker (``/health``, ``/metrics``, watch stats) are declared here too, without a
handler, so the document covers every route the worker serves."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from streams.api.schemas import Problem

Access = Literal["public", "desk", "admin", "desk_or_admin"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PROBLEM_TYPE = "application/problem+json"
STATUS_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    access: Access
    handler: Handler | None
    """``None``: the route is registered by another part of the worker."""
    ok: int = 200
    response: type[BaseModel] | str | None = None
    """A model (JSON), a media type (other bodies) or ``None`` (no body)."""
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    """Error statuses besides those implied by access, parameters and body."""
    owner: Callable[[web.Request], str | None] | None = field(default=None, compare=False)
    """For routes without our handler: the desk owning the addressed object (others get 404)."""

    def error_statuses(self) -> list[int]:
        implied: set[int] = set(self.errors)
        if self.access != "public":
            implied |= {401, 403, 429}
        if "{" in self.path and self.access != "public":
            implied.add(404)
        if self.query is not None:
            implied.add(400)
        if self.body is not None:
            implied |= {400, 413, 422}
        return sorted(implied)


def openapi_document(operations: list[Operation], version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``operations`` (pydantic's JSON Schemas are 2020-12, as 3.1 expects)."""
    models: set[tuple[type[BaseModel], Literal["validation", "serialization"]]] = {(Problem, "serialization")}
    for op in operations:
        if isinstance(op.response, type):
            models.add((op.response, "serialization"))
        if op.body is not None:
            models.add((op.body, "validation"))
    refs, defs = models_json_schema(
        sorted(models, key=lambda m: (m[0].__name__, m[1])), ref_template="#/components/schemas/{model}"
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "wirewatch desk API",
            "version": version,
            "description": (
                "Desks read their alerts (query and live stream), manage their watches and webhooks. Every call "
                "needs `Authorization: Bearer <token>`. Cursors and event ids are per API endpoint (per worker)."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _operation(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
    spec["security"] = [] if op.access == "public" else [{"bearer": []}]
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 200}}
        for name in _path_params(op.path)
    ]
    if op.query is not None:
        schema = op.query.model_json_schema()
        for name, prop in schema["properties"].items():
            parameters.append({"name": name, "in": "query", "required": False, "schema": prop})
    if op.operation_id == "streamAlerts":
        parameters.append(
            {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 200}}
        )
    if parameters:
        spec["parameters"] = parameters
    if op.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    responses: dict[str, Any] = {str(op.ok): _success(op, refs)}
    for status in op.error_statuses():
        responses[str(status)] = _problem_response(status, refs)
    spec["responses"] = responses
    return spec


def _success(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    if op.response is None:
        return {"description": "Done (no content)."}
    if isinstance(op.response, str):
        return {"description": "OK", "content": {op.response: {"schema": {"type": "string"}}}}
    return {"description": "OK", "content": {"application/json": {"schema": refs[(op.response, "serialization")]}}}


def _problem_response(status: int, refs: dict[Any, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": STATUS_TITLES[status],
        "content": {PROBLEM_TYPE: {"schema": refs[(Problem, "serialization")]}},
    }
    if status == 429:
        response["headers"] = {
            "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer", "minimum": 1}}
        }
    return response


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]

"""Fuzzing generated from the served OpenAPI document (schemathesis): whatever a desk sends, no 5xx, and
every answer has a documented status, content type and shape. The live stream never ends by design, so it
is left to the stream tests."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.api.conftest import ApiWorker
from tests.support.desks import bearer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fuzz_token(api_worker: ApiWorker) -> str:
    return api_worker.new_desk("fuzzer")


def test_no_request_makes_the_api_fail(api_worker: ApiWorker, fuzz_token: str) -> None:
    """Each operation gets its own Hypothesis run (schemathesis' lazy pytest loader does not work with
    pytest 9, so the strategies are driven directly)."""
    schema = schemathesis.openapi.from_url(f"{api_worker.base}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.exclude(operation_id="streamAlerts").get_all_operations()]
    assert len(operations) >= 20
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=api_worker.base, headers=bearer(fuzz_token), timeout=30, checks=checks)

        call()

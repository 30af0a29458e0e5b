"""schemathesis over /openapi.json: no 500 and no response the schema contradicts.

The API runs as `flowtape api` (development mode, no keys) over the seeded database, in its
own process: schemathesis calls it synchronously, which would block a server in this loop.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CheckFunction
from schemathesis.core.failures import FailureGroup

from infra.embedded import free_port
from infra.warehouse import Warehouse
from tests.conftest import Servers


@pytest.fixture(scope="module")
def served_api(
    servers: Servers, seeded: Warehouse, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    env = {**os.environ, **servers.environment(), "FLOWTAPE_DATA_DIR": str(folder),
           "CLICKHOUSE_DATABASE": seeded.database, "API_AUTH": "off"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "api", "--port", str(port), "--no-migrate",
         "--log-level", "warning"],
        cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base_url}/health", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.communicate()[0]) from None
                time.sleep(0.2)
        yield base_url
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
        assert "Traceback" not in output, output


# Every check runs but ignored_auth: development mode serves without keys by design (keys:
# test_auth.py). positive_data_acceptance is left out where no schema can say which values
# the server accepts: a statement's SQL, and a named query's own parameters.
NOT_CHECKED = [schemathesis.checks.ignored_auth]
VALIDITY_NOT_IN_SCHEMA = {"POST /v1/sql", "GET /v1/queries/{name}"}


def not_checked(label: str) -> list[CheckFunction]:
    if label in VALIDITY_NOT_IN_SCHEMA:
        return [*NOT_CHECKED, schemathesis.checks.positive_data_acceptance]
    return NOT_CHECKED


@pytest.mark.slow
def test_no_operation_answers_500_or_against_its_schema(served_api: str) -> None:
    schema = schemathesis.openapi.from_url(f"{served_api}/openapi.json")
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def holds(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=served_api, timeout=30, excluded_checks=not_checked(case.operation.label)
            )

        try:
            holds()
        except FailureGroup as found:  # every operation is run; all are reported together
            failures[operation.label] = str(found)
    assert len(operations) >= 10
    assert not failures, "\n\n".join(f"{label}: {found}" for label, found in failures.items())

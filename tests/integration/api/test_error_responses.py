"""Errors as OpenAPI documents them: an ErrorBody (`detail`, `code`) under a listed status."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.api.conftest import Api


@pytest.fixture
async def http(rest_api: Api):  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=rest_api.base_url, timeout=30) as client:
        yield client


@pytest.mark.parametrize("since", ["9" * 20, "2300-01-01T00:00:00Z", "1600-01-01"])
async def test_a_time_beyond_64_bit_nanoseconds_is_a_400_not_an_answer_for_another_time(
    http: httpx.AsyncClient, since: str
) -> None:
    response = await http.get("/v1/packets", params={"since": since})
    assert response.status_code == 400, response.text
    assert response.json() == {
        "detail": f"since: {since!r} is outside what 64-bit nanoseconds hold",
        "code": "bad_request",
    }


async def test_refusals_carry_a_code_and_are_listed_in_the_schema(
    http: httpx.AsyncClient,
) -> None:
    schema = (await http.get("/openapi.json")).json()["paths"]
    for path, template, params, status, code in (
        ("/v1/packets", "/v1/packets", {"until": "soon"}, 400, "bad_request"),
        ("/v1/packets/nope", "/v1/packets/{packet_id}", {}, 404, "not_found"),
        ("/v1/runs/nope/report", "/v1/runs/{run_id}/report", {}, 404, "not_found"),
        ("/v1/playback/nope", "/v1/playback/{run_id}", {}, 404, "not_found"),
        ("/v1/queries/nope", "/v1/queries/{name}", {}, 404, "not_found"),
    ):
        response = await http.get(path, params=params)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.json()["code"] == code
        documented = schema[template]["get"]["responses"][str(status)]
        assert documented["content"]["application/json"]["schema"]["required"] == [
            "detail", "code",
        ]  # fmt: skip


async def test_every_keyed_route_lists_401_403_and_429_with_retry_after(
    http: httpx.AsyncClient,
) -> None:
    schema = (await http.get("/openapi.json")).json()["paths"]
    keyed = {path: ops for path, ops in schema.items() if path.startswith("/v1/")}
    assert len(keyed) >= 10
    for path, operations in keyed.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"401", "403", "429"} <= responses.keys(), (method, path)
            assert "Retry-After" in responses["429"]["headers"], (method, path)

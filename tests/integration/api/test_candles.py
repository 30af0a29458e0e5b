"""`/v1/candles/{key}` against candles aggregated straight from the raw prints."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from api.app import create_app
from infra.warehouse import Warehouse
from tests.conftest import Servers, scratch_warehouse
from tests.integration.api.candle_session import (
    AAPL_CALL,
    AAPL_PUT,
    FUTURE,
    HOUR,
    MSFT_CALL,
    T0,
    TF_SECONDS,
    candle_session,
    direct_candles,
    option_prints,
)
from tests.integration.api.conftest import api_settings, serving

KEYS = [("contract", AAPL_CALL), ("contract", AAPL_PUT), ("contract", MSFT_CALL),
        ("underlying", "AAPL"), ("underlying", "MSFT"), ("equity", "AAPL"),
        ("crypto", "BTC-USDT"), ("future", FUTURE)]  # fmt: skip
PRICES = ("open", "high", "low", "close")


@pytest.fixture(scope="module")
def candle_warehouse(servers: Servers) -> Iterator[Warehouse]:
    with scratch_warehouse(servers) as warehouse:
        warehouse.insert_events(candle_session(), run_id="live", log_seq=1)
        # another run's prints of the same contracts in the same hours: never in live answers
        other = option_prints(random.Random(5), 50)
        warehouse.insert_events(other, run_id="replay-b", log_seq=1)
        yield warehouse


@pytest_asyncio.fixture(scope="module")
async def http(
    servers: Servers, candle_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    settings = api_settings(
        tmp_path_factory.mktemp("candles"), servers.nats_url, servers.clickhouse_url,
        candle_warehouse.database,
    )  # fmt: skip
    async with (
        serving(create_app(settings)) as api,
        httpx.AsyncClient(base_url=api.base_url, timeout=30) as client,
    ):
        yield client


async def candles(http: httpx.AsyncClient, key: str, **params: Any) -> dict[str, Any]:
    response = await http.get(f"/v1/candles/{key}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bare(candles: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The answer's candles without the display-only dollar fields."""
    out = [{k: v for k, v in c.items() if not k.endswith("_dollars")} for c in candles]
    for candle, shown in zip(out, candles, strict=True):
        for name in PRICES:
            value = candle[name]
            assert shown[f"{name}_dollars"] == (None if value is None else value / 10**9)
    return out


@pytest.mark.parametrize("tf", list(TF_SECONDS))
@pytest.mark.parametrize(("kind", "key"), KEYS)
async def test_every_tf_of_every_kind_equals_a_direct_aggregation_of_the_prints(
    http: httpx.AsyncClient, candle_warehouse: Warehouse, kind: str, key: str, tf: str
) -> None:
    body = await candles(http, key, tf=tf, kind=kind, limit=5000)
    expected = direct_candles(candle_warehouse, kind, key, tf)
    assert (body["kind"], body["tf"], body["seconds"]) == (kind, tf, TF_SECONDS[tf])
    assert body["count"] == len(expected) > 0
    assert bare(body["candles"], kind) == expected
    if tf == "1D":  # 30 hours from 14:30 UTC cross one UTC midnight
        assert len(expected) == 2


async def test_candles_of_a_run_hold_only_its_prints(
    http: httpx.AsyncClient, candle_warehouse: Warehouse
) -> None:
    live = await candles(http, AAPL_CALL, tf="1H", limit=5000)
    replay = await candles(http, AAPL_CALL, tf="1H", limit=5000, run_id="replay-b")
    assert bare(replay["candles"], "contract") == direct_candles(
        candle_warehouse, "contract", AAPL_CALL, "1H", run_id="replay-b"
    )
    assert replay["candles"] != live["candles"]


@pytest.mark.parametrize(("key", "kind"), [("AAPL", "equity"), ("MSFT", "underlying"),
                                           ("btc-usdt", "crypto"), ("esz4", "future"),
                                           (AAPL_CALL, "contract"),
                                           ("AAPL240119C00190000", "contract")])  # fmt: skip
async def test_a_key_without_kind_is_read_as_the_first_kind_holding_its_prints(
    http: httpx.AsyncClient, key: str, kind: str
) -> None:
    body = await candles(http, key, tf="1D")
    assert body["kind"] == kind
    assert body["key"] == (AAPL_CALL if kind == "contract" else key.upper())


SPELT = [("1h", "1H"), ("60", "1H"), ("4h", "4H"), ("240", "4H"), ("1d", "1D"), ("D", "1D"),
         ("1", "1m"), ("5", "5m"), ("1S", "1s")]  # fmt: skip


@pytest.mark.parametrize(("spelling", "name"), SPELT)
async def test_charting_spellings_of_tf_answer_as_their_frame(
    http: httpx.AsyncClient, spelling: str, name: str
) -> None:
    spelt = await candles(http, "AAPL", tf=spelling, limit=5000)
    named = await candles(http, "AAPL", tf=name, limit=5000)
    assert spelt["tf"] == name
    assert spelt["candles"] == named["candles"]


async def test_limit_keeps_the_last_buckets_oldest_first(
    http: httpx.AsyncClient, candle_warehouse: Warehouse
) -> None:
    expected = direct_candles(candle_warehouse, "contract", AAPL_CALL, "1m")
    body = await candles(http, AAPL_CALL, tf="1m", limit=7)
    assert bare(body["candles"], "contract") == expected[-7:]
    default = await candles(http, "BTC-USDT", tf="1s")
    assert default["count"] == min(500, len(direct_candles(candle_warehouse, "crypto",
                                                           "BTC-USDT", "1s")))  # fmt: skip


@pytest.mark.parametrize("tf", ["1s", "1H"])
@pytest.mark.parametrize(("kind", "key"), KEYS)
async def test_the_last_few_buckets_of_prints_read_at_query_time_are_the_newest(
    http: httpx.AsyncClient, candle_warehouse: Warehouse, kind: str, key: str, tf: str
) -> None:
    expected = direct_candles(candle_warehouse, kind, key, tf)
    for limit in (1, 2, 3, 40):  # a few fit the first look-back window, 40 do not
        body = await candles(http, key, tf=tf, kind=kind, limit=limit)
        assert bare(body["candles"], kind) == expected[-limit:], limit


@pytest.mark.parametrize("tf", ["1s", "5m", "4H"])
async def test_from_and_to_bound_the_bucket_starts(
    http: httpx.AsyncClient, candle_warehouse: Warehouse, tf: str
) -> None:
    since, until = T0 + 3 * HOUR + 17, T0 + 20 * HOUR  # `from` mid-second: that bucket is out
    expected = [
        c
        for c in direct_candles(candle_warehouse, "equity", "AAPL", tf)
        if since <= c["start_ns"] < until
    ]
    body = await candles(http, "AAPL", tf=tf, limit=5000, **{"from": since, "to": until})
    assert bare(body["candles"], "equity") == expected
    last_two = await candles(http, "AAPL", tf=tf, limit=2, to="2024-01-20T10:30:00Z")
    assert bare(last_two["candles"], "equity") == expected[-2:]


@pytest.mark.parametrize(("params", "detail"), [
    ({"tf": "2m"}, "tf: expected one of 1s, 1m, 5m, 1H, 4H, 1D"),
    ({"tf": "1M"}, "(1M is a month; a minute is 1m)"),
    ({"limit": "0"}, "limit: expected a whole number from 1 to 5000, got '0'"),
    ({"limit": "5001"}, "limit: expected a whole number from 1 to 5000, got '5001'"),
    ({"limit": "ten"}, "limit: expected a whole number from 1 to 5000, got 'ten'"),
    ({"kind": "bond"}, "kind: expected auto or one of contract, underlying, equity, crypto, "
                       "future, got 'bond'"),
])  # fmt: skip
async def test_a_bad_tf_limit_or_kind_is_one_422_line(
    http: httpx.AsyncClient, params: dict[str, str], detail: str
) -> None:
    response = await http.get("/v1/candles/AAPL", params=params)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_parameter"
    assert detail in body["detail"] and "\n" not in body["detail"]


@pytest.mark.parametrize(("key", "params"), [("NOPE", {}), ("AAPL", {"run_id": "nope"}),
                                             ("BTC-USDT", {"kind": "equity"}),
                                             ("AAPL  240119C00999000", {})])  # fmt: skip
async def test_a_key_without_prints_in_the_run_is_a_404(
    http: httpx.AsyncClient, key: str, params: dict[str, str]
) -> None:
    response = await http.get(f"/v1/candles/{key}", params=params)
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"
    assert key.upper() in response.json()["detail"] or "999" in response.json()["detail"]


@pytest.mark.parametrize("name", ["from", "to"])
async def test_a_bad_time_is_a_400_naming_its_parameter(http: httpx.AsyncClient, name: str) -> None:
    response = await http.get("/v1/candles/AAPL", params={name: "soon"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{name}: ")


async def test_the_schema_documents_the_tf_spellings_kinds_and_error_bodies(
    http: httpx.AsyncClient,
) -> None:
    operation = (await http.get("/openapi.json")).json()["paths"]["/v1/candles/{key}"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert {"1m", "1H", "4H", "1D", "1h", "60", "1d"} <= set(params["tf"]["schema"]["enum"])
    assert params["kind"]["schema"]["enum"] == [
        "auto", "contract", "underlying", "equity", "crypto", "future",
    ]  # fmt: skip
    assert params["limit"]["schema"]["type"] == "integer"
    for status in ("400", "404", "422"):
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        assert schema["required"] == ["detail", "code"]

"""The web panels' routes over the seeded session (tests/integration/api/session.py): option
prints with their inference, net premium per minute, top tickers, a run's span, venues."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from infra.warehouse import Warehouse
from tests.integration.api.conftest import Api
from tests.integration.api.session import SECOND
from tests.kit.events import option_print
from tests.kit.samples import T0

MINUTE_OF_T0 = T0 // (60 * SECOND) * 60 * SECOND  # 2023-11-14 22:13:00 UTC


@pytest_asyncio.fixture
async def http(rest_api: Api) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=rest_api.base_url, timeout=30) as client:
        yield client


async def test_option_prints_newest_first_with_premium_and_the_inference_where_there_is_one(
    http: httpx.AsyncClient,
) -> None:
    body = (await http.get("/v1/prints/options", params=dict(underlying="AAPL"))).json()
    rows = [
        (r["ts_event"], r["size"], r["premium_cents"], r["side"], r["bucket"])
        for r in body["items"]
    ]
    # the block: 300 lots at $3.00 = $90,000; the sweep: 4 and 6 lots at $1.50 = $600 and $900;
    # only the sweep's prints were placed against the NBBO (bought at the ask)
    assert rows == [
        (T0 + 60 * SECOND, 300, 9_000_000, None, None),
        (T0 + 40_000_000, 4, 60_000, "buy", "A"),
        (T0, 6, 90_000, "buy", "A"),
    ]
    sweep = body["items"][2]
    assert (sweep["nbbo_bid_px_dollars"], sweep["nbbo_ask_px_dollars"], sweep["right"]) == (
        1.4, 1.5, "C",
    )  # fmt: skip
    assert (await http.get("/v1/prints/options", params=dict(since="nonsense"))).status_code == 400


async def test_option_prints_of_calls_or_puts_only(
    http: httpx.AsyncClient, seeded: Warehouse
) -> None:
    contracts = {  # sequence -> OSI symbol; 9 from the end is C or P
        1: "AAPL  240119C00190000",
        2: "AAPL  240119P00190000",
        3: "AAPL7 240216C00185000",
        4: "AAPL  240216P00200000",
    }
    seeded.insert_events(
        [option_print(ts_event=T0 + k, ts_recv=T0 + k + 5, sequence=k, symbol=symbol)
         for k, symbol in contracts.items()],
        run_id="rights",
    )  # fmt: skip

    async def sequences(**params: str) -> set[int]:
        answer = await http.get("/v1/prints/options", params=dict(run_id="rights", **params))
        assert answer.status_code == 200, answer.text
        return {r["sequence"] for r in answer.json()["items"]}

    assert await sequences() == {1, 2, 3, 4}
    assert await sequences(right="C") == {1, 3}
    assert await sequences(right="P", underlying="AAPL") == {2, 4}
    refused = await http.get("/v1/prints/options", params=dict(right="X"))
    assert refused.status_code == 422 and "right" in refused.text


async def test_net_premium_per_minute_and_top_tickers_sum_the_placed_prints(
    http: httpx.AsyncClient,
) -> None:
    minutes = (await http.get("/v1/flow/net-premium", params=dict(underlying="AAPL"))).json()[
        "items"
    ]
    assert [(m["minute_ns"], m["call_buy_cents"], m["net_call_cents"], m["put_cents"])
            for m in minutes] == [(MINUTE_OF_T0, 150_000, 150_000, 0)]  # fmt: skip
    top = (await http.get("/v1/flow/top-tickers")).json()["items"]
    assert [(t["underlying"], t["prints"], t["call_cents"]) for t in top] == [("AAPL", 2, 150_000)]
    assert (await http.get("/v1/flow/net-premium", params=dict(underlying="MSFT"))).json()[
        "items"
    ] == []


async def test_a_runs_span_covers_its_packets_alerts_and_prints(http: httpx.AsyncClient) -> None:
    span = (await http.get("/v1/runs/live/span")).json()
    assert span == {
        "run_id": "live", "first_ns": T0, "last_ns": T0 + 60 * SECOND, "packets": 3, "alerts": 2,
    }  # fmt: skip
    missing = await http.get("/v1/runs/no-such-run/span")
    assert missing.status_code == 404 and "no run 'no-such-run'" in missing.json()["detail"]


async def test_equity_prints_of_a_run_without_any_are_an_empty_list(
    http: httpx.AsyncClient,
) -> None:
    body = (
        await http.get("/v1/prints/equities", params=dict(symbol="AAPL", off_exchange="true"))
    ).json()
    assert body == {"run_id": "live", "count": 0, "items": []}


async def test_venues_name_databentos_publishers(http: httpx.AsyncClient) -> None:
    venues = {v["publisher_id"]: v for v in (await http.get("/v1/venues")).json()["venues"]}
    assert (venues[1]["venue"], venues[1]["description"]) == ("GLBX", "CME Globex MDP 3.0")
    assert venues[2]["venue"] == "XNAS"

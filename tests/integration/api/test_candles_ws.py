"""The `candles` channel of `/v1/ws`: prints published on the real RAW stream, stored by the
real sink; the last update of each bucket equals `/v1/candles` once everything is stored."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from websockets.asyncio.client import ClientConnection, connect

from api.app import create_app
from infra.bus import Bus
from infra.embedded import clickhouse_server
from infra.warehouse import Warehouse
from live.sink.config import SinkConfig
from live.sink.service import Sink
from schemas.events import EquityPrint, Event
from schemas.subjects import raw_subject
from tests.conftest import Servers
from tests.integration.api.candle_session import (
    AAPL_CALL,
    FUTURE,
    HOUR,
    T0,
    cme_trades,
    crypto_trades,
    equity_prints,
    option_prints,
)
from tests.integration.api.conftest import Api, api_settings, serving

KEYS = [AAPL_CALL, "MSFT", "AAPL", "BTC-USDT", FUTURE]
KINDS = {AAPL_CALL: "contract", "MSFT": "underlying", "AAPL": "equity", "BTC-USDT": "crypto",
         FUTURE: "future"}  # fmt: skip
FAST_SINK = SinkConfig(batch_wait_s=0.1, fetch_timeout_s=0.1)


async def publish(bus: Bus, events: Sequence[Event], per_message: int = 8) -> None:
    """Each print type in messages of `per_message` prints, the types interleaved."""
    by_type: dict[type, list[Event]] = {}
    for event in events:
        by_type.setdefault(type(event), []).append(event)
    chunks = [(t, group[i : i + per_message]) for t, group in by_type.items()
              for i in range(0, len(group), per_message)]  # fmt: skip
    random.Random(3).shuffle(chunks)
    for event_type, chunk in chunks:
        await bus.publish(raw_subject(event_type, "databento"), chunk, run_id="live")


def session(rng: random.Random, start: int, span: int, count: int, seq0: int) -> list[Event]:
    return [
        *option_prints(rng, count, start=start, span=span, sequence0=seq0),
        *equity_prints(rng, count, start=start, span=span, sequence0=seq0),
        *crypto_trades(rng, count // 2, start=start, span=span, sequence0=seq0),
        *cme_trades(rng, count // 2, start=start, span=span, sequence0=seq0),
    ]


async def receive(ws: ClientConnection, timeout_s: float) -> dict[str, Any] | None:
    try:
        return json.loads(await asyncio.wait_for(ws.recv(), timeout_s))  # type: ignore[no-any-return]
    except TimeoutError:
        return None


async def subscribe(ws: ClientConnection, **command: Any) -> dict[str, Any]:
    await ws.send(json.dumps({"action": "subscribe", "channels": ["candles"], **command}))
    answer = await receive(ws, 30)
    assert answer is not None
    return answer


async def updates_until_quiet(ws: ClientConnection, quiet_s: float) -> list[dict[str, Any]]:
    found = []
    while (message := await receive(ws, quiet_s)) is not None:
        assert message["channel"] == "candles", message
        found.append(message)
    return found


@pytest.mark.slow
async def test_live_candles_end_equal_to_the_stored_answer_for_every_tf_and_kind(
    servers: Servers, bus: Bus, fresh_warehouse: Warehouse, tmp_path: Path
) -> None:
    rng = random.Random(11)
    stored_first = session(rng, T0, 10 * HOUR, 80, 0)
    await publish(bus, stored_first)
    await Sink(bus, fresh_warehouse, config=FAST_SINK).run_until_idle()
    # later prints: new hours (over 64 one-second buckets of AAPL's equity prints, more than
    # a series holds), and late ones into the stored hours (buckets the channel must read
    # from ClickHouse before it may send them) ...
    live = session(rng, T0 + 18 * HOUR, 12 * HOUR, 100, 10_000)
    late = session(rng, T0 + HOUR, 2 * HOUR, 12, 20_000)
    # ... and, last, prints into the first of those buckets again, long dropped from the
    # 1 s series: it must read them back, live prints included
    first_equity = sorted((e for e in live if type(e) is EquityPrint), key=lambda e: e.ts_recv)
    again = [
        msgspec.structs.replace(e, ts_recv=e.ts_recv + 1, sequence=e.sequence + 50_000)
        for e in [*first_equity[:3], *late[:3]]
    ]
    settings = api_settings(tmp_path, servers.nats_url, servers.clickhouse_url,
                            fresh_warehouse.database)  # fmt: skip
    tfs = ["1s", "1m", "5m", "1H", "4H", "1D"]
    async with serving(create_app(settings, candle_seed_wait_s=20)) as api:
        sockets = [await connect(api.ws_url) for _ in tfs]
        try:
            for ws, tf in zip(sockets, tfs, strict=True):
                ack = await subscribe(ws, symbols=KEYS, tf=tf)  # kinds found from the store
                assert ack["event"] == "subscribed" and ack["kinds"] == KINDS, ack
            await publish(bus, live + late)
            await publish(bus, again)
            await Sink(bus, fresh_warehouse, config=FAST_SINK).run_until_idle()
            received = await asyncio.gather(*(updates_until_quiet(ws, 3.0) for ws in sockets))
        finally:
            for ws in sockets:
                await ws.close()
        feed = api.app.state.candle_feed
        # one stored read per series at subscription, and more for the late buckets
        assert feed.metrics.stored_reads > len(tfs) * len(KEYS) and feed.metrics.incomplete == 0
        async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as http:
            for tf, updates in zip(tfs, received, strict=True):
                await assert_final_updates_equal_rest(http, tf, updates, live + late + again)


async def assert_final_updates_equal_rest(
    http: httpx.AsyncClient, tf: str, updates: list[dict[str, Any]], later: list[Event]
) -> None:
    final: dict[tuple[str, int], dict[str, Any]] = {}
    for update in updates:
        data = dict(update["data"])
        assert data.pop("tf") == tf and data.pop("kind") == KINDS[data["key"]]
        final[(data.pop("key"), data["start_ns"])] = data
    seconds = {"1s": 1, "1m": 60, "5m": 300, "1H": 3600, "4H": 14400, "1D": 86400}[tf]
    for key in KEYS:
        response = await http.get(f"/v1/candles/{key}", params={"tf": tf, "limit": 5000})
        stored = {c["start_ns"]: c for c in response.json()["candles"]}
        sent = {start: c for (k, start), c in final.items() if k == key}
        assert sent, (tf, key)
        for start, candle in sent.items():
            assert candle == stored[start], (tf, key, start)
        # every bucket a later print went into was sent
        touched = {
            e.ts_recv // 10**9 // seconds * seconds * 10**9
            for e in later
            if key in (getattr(e, "symbol", None), getattr(e, "underlying", None))
            and (KINDS[key] != "underlying" or type(e).__name__ == "OptionPrint")
            and (KINDS[key] != "equity" or type(e).__name__ == "EquityPrint")
            and (KINDS[key] != "future" or type(e).__name__ == "CmeTrade")
        }
        assert touched <= set(sent), (tf, key, sorted(touched - set(sent))[:3])


async def test_candle_subscriptions_refuse_a_bad_tf_kind_or_unknown_key_in_one_line(
    api_for_candles: Api,
) -> None:
    async with connect(api_for_candles.ws_url) as ws:
        for command, detail in (
            ({"symbols": ["AAPL"], "tf": "2m"}, "tf: expected one of 1s, 1m, 5m, 1H, 4H, 1D"),
            ({"symbols": ["AAPL"], "kind": "bond"}, "kind: expected one of contract"),
            ({"symbols": []}, "candles: name the keys in `symbols`"),
            ({"symbols": ["NOPE"]}, "candles: no prints of 'NOPE' stored in run 'live'"),
        ):
            answer = await subscribe(ws, **command)
            assert answer["event"] == "error" and answer["detail"].startswith(detail), answer
        ack = await subscribe(ws, symbols=["NOPE"], kind="equity", tf="1h")
        assert (ack["event"], ack["tf"], ack["kinds"]) == ("subscribed", "1H", {"NOPE": "equity"})
        feed = api_for_candles.app.state.candle_feed
        assert feed.reading
        await ws.send(json.dumps({"action": "unsubscribe", "channels": ["candles"]}))
        assert (await receive(ws, 10) or {}).get("event") == "unsubscribed"
        assert feed.series == {} and not feed.reading  # nobody left: RAW is not read


@pytest.fixture
async def api_for_candles(
    servers: Servers, bus: Bus, fresh_warehouse: Warehouse, tmp_path: Path
) -> Any:
    settings = api_settings(tmp_path, servers.nats_url, servers.clickhouse_url,
                            fresh_warehouse.database)  # fmt: skip
    async with serving(create_app(settings)) as api:
        yield api


async def test_with_clickhouse_stopped_rest_candles_are_503_and_a_subscription_one_error_line(
    servers: Servers, bus: Bus, tmp_path: Path
) -> None:
    clickhouse = clickhouse_server(tmp_path / "clickhouse")
    await asyncio.to_thread(clickhouse.start)
    try:
        settings = api_settings(tmp_path, servers.nats_url, clickhouse.url, "flowtape")
        async with serving(create_app(settings, migrate_schema=True)) as api:
            await asyncio.to_thread(clickhouse.stop)
            async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as http:
                response = await http.get("/v1/candles/AAPL")
                assert response.status_code == 503 and response.json()["code"] == "unavailable"
            async with connect(api.ws_url) as ws:
                answer = await subscribe(ws, symbols=["AAPL"], tf="1m")
                assert answer["event"] == "error" and answer["detail"].startswith("candles: ")
                assert "ClickHouse" in answer["detail"] and "\n" not in answer["detail"]
                await ws.send(json.dumps({"action": "ping"}))
                pong = await receive(ws, 10)
                assert pong is not None and pong["event"] == "pong"  # the connection stays
    finally:
        await asyncio.to_thread(clickhouse.stop)

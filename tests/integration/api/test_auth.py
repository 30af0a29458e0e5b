"""API keys at the door: each scope opens exactly its routes; revocation and rate limits hold."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from api.app import create_app
from infra.keys import SCOPES, KeyStore
from infra.warehouse import Warehouse
from schemas.cme import AlphaFrame, CmeTrade
from tests.conftest import Servers
from tests.integration.api.conftest import Api, api_settings, serving

# Every operation of /openapi.json (and the live tape), with the scope it needs.
ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/v1/packets", "read"),
    ("GET", "/v1/packets/pkt-aapl-sweep", "read"),
    ("GET", "/v1/alerts", "read"),
    ("GET", "/v1/hits", "read"),
    ("GET", "/v1/darkpool", "read"),
    ("GET", "/v1/candles/AAPL?tf=1H", "read"),
    ("GET", "/v1/alpha/CL", "read"),
    ("GET", "/v1/prints/options", "read"),
    ("GET", "/v1/prints/equities", "read"),
    ("GET", "/v1/flow/net-premium", "read"),
    ("GET", "/v1/flow/top-tickers", "read"),
    ("GET", "/v1/runs/replay-a/span", "read"),
    ("GET", "/v1/venues", "read"),
    ("GET", "/v1/runs", "read"),
    ("GET", "/v1/runs/replay-a/report", "read"),
    ("GET", "/v1/queries", "read"),
    ("GET", "/v1/queries/flow_by_day", "read"),
    ("POST", "/v1/sql", "sql"),
    ("GET", "/v1/playback/replay-a?speed=0", "replay"),
]
# A stored frame, so /v1/alpha/CL answers 200 to a key that may read it.
ALPHA_FRAME = AlphaFrame(
    ts_recv=1_700_000_000_000_000_000, run_id="live", frame_id="frame-cl", root="CL",
    front_symbol="CLZ3", cme_fwd_mid=75_000_000_000, atm_iv=None, rr25=None,
    iv_term_slope=None, skew_signal=None, signed_flow_10=0, trades_10=0, imb_5=None,
    book_levels=0, funding=None, health="stale_chain", health_reason="no_chain", expiries=[],
)  # fmt: skip
FUTURE_TRADE = CmeTrade(
    ts_recv=1_700_000_000_000_000_000, ts_event=1_700_000_000_000_000_000, publisher_id=1,
    instrument_id=5602, source="databento", symbol="ESZ4", sequence=1,
    price=5_200_250_000_000, size=2, side="B",
)  # fmt: skip
PUBLIC = ["/", "/web/app.js", "/health", "/metrics", "/docs", "/openapi.json"]


@pytest.fixture(scope="module")
def keyed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keyed")


@pytest.fixture(scope="module")
def keys(keyed_dir: Path) -> dict[str, str]:
    """One key per scope, at a rate no test here reaches."""
    store = KeyStore(keyed_dir)
    return {scope: store.create([scope], name=scope, rate="1000/s")[1] for scope in SCOPES}


@pytest_asyncio.fixture(scope="module")
async def keyed_api(
    servers: Servers, seeded: Warehouse, keyed_dir: Path, keys: dict[str, str]
) -> AsyncIterator[Api]:
    seeded.insert_events([ALPHA_FRAME, FUTURE_TRADE], run_id="live", log_seq=1)
    settings = api_settings(keyed_dir, servers.nats_url, servers.clickhouse_url, seeded.database)
    settings = settings.model_copy(update={"api_auth": "keys"})
    async with serving(create_app(settings)) as running:
        yield running


async def call(api: Api, method: str, path: str, key: str | None) -> httpx.Response:
    headers = {"X-API-Key": key} if key else {}
    body = {"sql": "SELECT 1"} if method == "POST" else None
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
        return await client.request(method, path, headers=headers, json=body)


def allowed(scope: str, needed: str) -> bool:
    return scope in (needed, "admin")


def covers(method: str, template: str) -> bool:
    pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
    return any(m == method and re.fullmatch(pattern, p.split("?")[0]) for m, p, _ in ROUTES)


async def test_every_operation_but_health_declares_a_key_and_is_in_the_table(
    keyed_api: Api,
) -> None:
    paths = keyed_api.app.openapi()["paths"]
    operations = {(m.upper(), p): op for p, ops in paths.items() for m, op in ops.items()}
    assert {o for o, op in operations.items() if not op.get("security")} == {("GET", "/health")}
    untested = [o for o in operations if o[1] not in ("/health", "/metrics") and not covers(*o)]
    assert untested == []


@pytest.mark.parametrize("scope", SCOPES)
async def test_each_scope_opens_exactly_its_routes(
    keyed_api: Api, keys: dict[str, str], scope: str
) -> None:
    for method, path, needed in ROUTES:
        response = await call(keyed_api, method, path, keys[scope])
        if allowed(scope, needed):
            assert response.status_code == 200, (scope, path, response.text)
        else:
            assert response.status_code == 403, (scope, path, response.text)
            assert needed in response.json()["detail"]


async def test_no_key_or_a_wrong_key_is_401_and_public_routes_need_none(
    keyed_api: Api, keys: dict[str, str]
) -> None:
    for method, path, _ in ROUTES:
        for key in (None, "ftk_000000000000_" + "A" * 43, keys["read"][:-1] + "x"):
            response = await call(keyed_api, method, path, key)
            assert response.status_code == 401, (path, key)
            assert response.headers["www-authenticate"] == "Bearer"
    for path in PUBLIC:
        assert (await call(keyed_api, "GET", path, None)).status_code == 200, path


async def test_a_bearer_key_works_like_the_header(keyed_api: Api, keys: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=keyed_api.base_url) as client:
        response = await client.get(
            "/v1/alerts", headers={"Authorization": f"Bearer {keys['read']}"}
        )
    assert response.status_code == 200


async def test_a_revoked_key_is_refused_on_its_next_request(
    keyed_api: Api, keyed_dir: Path
) -> None:
    record, key = KeyStore(keyed_dir).create(["read"])
    assert (await call(keyed_api, "GET", "/v1/runs", key)).status_code == 200
    KeyStore(keyed_dir).revoke(record.key_id)  # as `flowtape keys revoke` does, elsewhere
    assert (await call(keyed_api, "GET", "/v1/runs", key)).status_code == 401


async def test_a_burst_over_the_rate_is_429_with_retry_after(
    keyed_api: Api, keyed_dir: Path
) -> None:
    _, key = KeyStore(keyed_dir).create(["read"], rate="5/m")
    async with httpx.AsyncClient(base_url=keyed_api.base_url, timeout=30) as client:
        responses = await asyncio.gather(
            *(client.get("/v1/queries", headers={"X-API-Key": key}) for _ in range(12))
        )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 1 + [429] * 11  # 5/m holds one request's worth at a time
    limited = next(r for r in responses if r.status_code == 429)
    assert 1 <= int(limited.headers["retry-after"]) <= 12
    assert "rate" in limited.json()["detail"]


async def test_metrics_closed_by_setting_needs_admin(
    servers: Servers, seeded: Warehouse, keyed_dir: Path, keys: dict[str, str]
) -> None:
    settings = api_settings(keyed_dir, servers.nats_url, servers.clickhouse_url, seeded.database)
    settings = settings.model_copy(update={"api_auth": "keys", "metrics_public": False})
    async with serving(create_app(settings)) as api:
        assert (await call(api, "GET", "/metrics", None)).status_code == 401
        assert (await call(api, "GET", "/metrics", keys["read"])).status_code == 403
        assert (await call(api, "GET", "/metrics", keys["admin"])).status_code == 200
        assert (await call(api, "GET", "/health", None)).status_code == 200


async def test_the_live_tape_needs_a_read_key_in_a_header_or_the_first_message(
    keyed_api: Api, keys: dict[str, str]
) -> None:
    ping = json.dumps({"action": "ping"})
    async with connect(keyed_api.ws_url, additional_headers={"X-API-Key": keys["read"]}) as ws:
        await ws.send(ping)
        assert json.loads(await ws.recv())["event"] == "pong"
    async with connect(keyed_api.ws_url) as ws:
        await ws.send(json.dumps({"action": "auth", "key": keys["admin"]}))
        await ws.send(ping)
        assert json.loads(await ws.recv())["event"] == "pong"
    for first in ({"action": "auth", "key": keys["sql"]}, {"action": "ping"}):
        async with connect(keyed_api.ws_url) as ws:
            await ws.send(json.dumps(first))
            assert json.loads(await ws.recv())["event"] == "error"
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
    for headers, status in (({"X-API-Key": keys["replay"]}, 403), ({"X-API-Key": "nope"}, 401)):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(keyed_api.ws_url, additional_headers=headers):
                pass
        assert refused.value.response.status_code == status


async def test_cme_futures_candles_need_an_admin_key_on_rest_and_the_tape(
    keyed_api: Api, keys: dict[str, str]
) -> None:
    path = "/v1/candles/ESZ4?kind=future&tf=1m"
    refused = await call(keyed_api, "GET", path, keys["read"])
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    allowed = await call(keyed_api, "GET", path, keys["admin"])
    assert allowed.status_code == 200
    assert [c["trades"] for c in allowed.json()["candles"]] == [1]
    subscribe = {"action": "subscribe", "channels": ["candles"], "symbols": ["ESZ4"],
                 "kind": "future"}  # fmt: skip
    async with connect(keyed_api.ws_url, additional_headers={"X-API-Key": keys["read"]}) as ws:
        await ws.send(json.dumps(subscribe))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert reply["event"] == "error" and "licensed" in reply["detail"]

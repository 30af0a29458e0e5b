"""The paid alpha stream end to end on loopback: the API served by uvicorn over the test
session's NATS and ClickHouse, payments on a local EVM and the session's Redis, frames
played onto DERIVED. A paid minute lasts one wall second here (the gateway's clock runs
60 times faster); nothing else is simulated."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from eth_account.signers.local import LocalAccount

from infra.bus import Bus
from payments.gateway import PaymentGateway
from tests.integration.api.conftest import Api
from tests.integration.payments.chain import LocalChain
from tests.integration.payments.frames import playing
from tests.integration.payments.session import FUNDS, PRICE, Payer, paid_once, subscriber

pytestmark = pytest.mark.slow


async def test_a_full_session_pays_per_minute_streams_and_settles_exactly(
    paid_api: tuple[Api, PaymentGateway], chain: LocalChain, payee: LocalAccount, bus: Bus
) -> None:
    api, gw = paid_api
    payer = Payer.open(chain, payee.address)
    payee_before = chain.balance(payee.address)
    frames: list[dict[str, Any]] = []
    stop = asyncio.Event()
    async with httpx.AsyncClient(timeout=30) as http:
        unpaid = await http.get(f"{api.base_url}/mpp/session", params={"symbol": "CL"})
        assert unpaid.status_code == 402
        assert unpaid.headers["www-authenticate"].startswith('Payment id="')
        client = subscriber(api, payer, http)

        def on_frame(frame: dict[str, Any]) -> None:
            frames.append({**frame, "payments": len(client.receipts)})
            if len(client.receipts) >= 3 and sum(f["payments"] == 3 for f in frames) >= 3:
                stop.set()

        async with playing(bus, ["CL", "ES"], hz=20):
            ended = await asyncio.wait_for(client.stream(on_frame, stop=stop), 60)
        assert ended == "stopped"
        closed = await client.close()
    # Frames came under every payment, only for CL, only derived alpha frames.
    assert {f["payments"] for f in frames} >= {1, 2, 3}
    assert {f["root"] for f in frames} == {"CL"}
    assert {f["type"] for f in frames} == {"alpha_frame"}
    # Each voucher bought one minute, gap-free from the open; the close repeated the last.
    payments = len(client.receipts) - 1
    assert payments >= 3
    opened, last = client.receipts[0], client.receipts[payments - 1]
    assert int(last["expiresAt"]) - int(opened["expiresAt"]) == 60 * (payments - 1)
    amounts = [str(PRICE * k) for k in range(1, payments + 1)] + [str(PRICE * payments)]
    assert [r["cumulativeAmount"] for r in client.receipts] == amounts
    assert closed["minutes"] == 0
    # On-chain: the payee got exactly the minutes paid at 0.001, the payer the rest back.
    assert chain.balance(payee.address) - payee_before == payments * PRICE
    assert chain.balance(payer.account.address) == FUNDS - payments * PRICE
    assert chain.escrow(None).channel(payer.channel.channel_id).finalized


async def test_without_a_new_voucher_the_stream_stops_at_the_paid_time(
    paid_api: tuple[Api, PaymentGateway], chain: LocalChain, payee: LocalAccount, bus: Bus
) -> None:
    api, _ = paid_api
    client = await paid_once(api, chain, payee)
    url = f"{client.ws_url()}?token={client.token}"
    seen: list[dict[str, Any]] = []
    async with playing(bus, ["CL"], hz=20), websockets.connect(url) as ws:
        await ws.send(json.dumps({"t": "subscribe", "symbols": ["CL"]}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                seen.append(message)
    kinds = [m["t"] for m in seen]
    # Frames, one reminder, then the end of the paid time: the last message before the close.
    assert kinds[0] == "subscribed" and kinds[-1] == "payment-expired"
    assert kinds.count("payment-need-voucher") == 1 and "frame" in kinds
    assert seen[-1]["expiredAt"] == client.expires_s
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_the_websocket_refuses_missing_tampered_and_foreign_tokens(
    paid_api: tuple[Api, PaymentGateway], chain: LocalChain, payee: LocalAccount
) -> None:
    api, _ = paid_api
    client = await paid_once(api, chain, payee)
    base = client.ws_url()
    tampered = client.token[:-3] + ("AAA" if not client.token.endswith("AAA") else "BBB")
    for url, status in (
        (base, 401),
        (f"{base}?token={tampered}", 401),
        (f"{base.replace('/CL', '/ES')}?token={client.token}", 403),
    ):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(url):
                pass
        assert refused.value.response.status_code == status
    # A token for CL cannot subscribe to another symbol on the CL path either.
    async with websockets.connect(f"{base}?token={client.token}") as ws:
        await ws.send(json.dumps({"t": "subscribe", "symbols": ["ES"]}))
        reply = json.loads(await ws.recv())
        assert (reply["t"], reply["code"]) == ("error", "token_symbol")


async def test_refusals_over_http_carry_a_code_and_a_fresh_challenge(
    paid_api: tuple[Api, PaymentGateway], chain: LocalChain, payee: LocalAccount
) -> None:
    api, _ = paid_api
    async with httpx.AsyncClient(timeout=30) as http:
        skills = (await http.get(f"{api.base_url}/skills")).json()
        assert skills["symbols"] == ["CL"] and skills["pricePerMinute"] == "0.001"
        unknown = await http.get(f"{api.base_url}/mpp/session", params={"symbol": "ES"})
        assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_symbol")
        garbage = await http.get(
            f"{api.base_url}/mpp/session", params={"symbol": "CL"},
            headers={"Authorization": "Payment not-base64!"},
        )  # fmt: skip
        assert (garbage.status_code, garbage.json()["code"]) == (402, "malformed")
        assert garbage.headers["www-authenticate"].startswith("Payment ")

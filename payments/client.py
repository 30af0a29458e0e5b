"""The subscriber's side of the protocol (the reference client behind `flowtape subscribe`).

`AlphaSubscriber` asks `GET /mpp/session` for a 402 challenge, answers it with a voucher
for one more payment (the first one `open`s the channel it was given; one the deposit no
longer covers first grows it on-chain by the suggested deposit and says `topUp`), streams frames
from `/ws/stream/{symbol}`, pays again when the server sends `payment-need-voucher`, and
on `close()` sends its last voucher with action `close` so the server settles on-chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

from payments.challenge import Challenge, Credential
from payments.channel import PayerChannel
from payments.errors import PaymentRefused
from payments.voucher import Voucher, sign_voucher


def payment_credential(
    challenge: Challenge, action: str, voucher: Voucher, payer: str, chain_id: int
) -> str:
    """The `Authorization` value answering `challenge` with `voucher`."""
    payload = {"action": action, **voucher.as_json()}
    return Credential.encode(challenge, payload, f"did:pkh:eip155:{chain_id}:{payer}")


@dataclass
class AlphaSubscriber:
    """Pays for and streams one symbol over one channel."""

    base_url: str
    symbol: str
    channel: PayerChannel
    payer: str
    http: httpx.AsyncClient
    renew_spread_s: float = 0.0  # renew after a random wait up to this: no wave of payments
    deposit: int = 0  # what the channel holds on-chain, as far as this client grew it
    top_up: Callable[[int], None] | None = None  # grows the deposit on-chain by an amount
    cumulative: int = 0
    token: str = ""
    expires_s: int = 0
    receipts: list[dict[str, Any]] = field(default_factory=list)

    async def challenge(self) -> Challenge:
        response = await self.http.get(
            f"{self.base_url}/mpp/session", params={"symbol": self.symbol}
        )
        if response.status_code != 402:
            raise PaymentRefused(
                f"expected 402 with a challenge, got {response.status_code}: {response.text:.200}",
                code="protocol",
            )
        return Challenge.from_header(response.headers["www-authenticate"])

    async def pay(self, action: str | None = None) -> dict[str, Any]:
        """One more payment (`open` the first time), or the last voucher again for `close`."""
        challenge = await self.challenge()
        action = action or ("open" if self.cumulative == 0 else "voucher")
        if action != "close":
            self.cumulative += int(challenge.requested()["amount"])
            if action == "voucher" and await self._topped_up(challenge):
                action = "topUp"
        voucher = sign_voucher(
            self.channel.signer.key, self.channel.chain_id, self.channel.escrow,
            self.channel.channel_id, self.cumulative,
        )  # fmt: skip
        credential = payment_credential(
            challenge, action, voucher, self.payer, self.channel.chain_id
        )
        response = await self.http.get(
            f"{self.base_url}/mpp/session",
            params={"symbol": self.symbol},
            headers={"Authorization": credential},
        )
        body: dict[str, Any] = response.json()
        if response.status_code != 200:
            raise PaymentRefused(
                f"the server refused the {action}: {body.get('detail', body)}",
                code=str(body.get("code", "refused")),
            )
        body["receipt"] = response.headers.get("payment-receipt", "")
        self.token, self.expires_s = body["token"], int(body["expiresAt"])
        self.receipts.append(body)
        return body

    async def _topped_up(self, challenge: Challenge) -> bool:
        """Grow the deposit by the suggested one when the next voucher would exceed it."""
        if self.top_up is None or self.cumulative <= self.deposit:
            return False
        growth = int(challenge.requested()["suggestedDeposit"])
        await asyncio.to_thread(self.top_up, growth)
        self.deposit += growth
        return True

    def ws_url(self) -> str:
        base = self.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        return f"{base}/ws/stream/{self.symbol}"

    async def stream(
        self,
        on_frame: Callable[[dict[str, Any]], Awaitable[None] | None],
        *,
        stop: asyncio.Event | None = None,
    ) -> str:
        """Stream frames to `on_frame`, paying whenever asked, until `stop` is set or the
        server ends the stream; returns why it ended."""
        if not self.token:
            await self.pay()
        stop = stop or asyncio.Event()
        headers = {"Authorization": f"Bearer {self.token}"}
        renewing: asyncio.Task[None] | None = None
        async with websockets.connect(self.ws_url(), additional_headers=headers) as ws:
            await ws.send(json.dumps({"t": "subscribe", "symbols": [self.symbol]}))
            # `stop` closes the connection, which ends the loop: one wait per message, not two.
            stopping = asyncio.create_task(self._close_on(stop, ws))
            try:
                async for text in ws:
                    message = json.loads(text)
                    kind = message.get("t")
                    if kind == "frame":
                        result = on_frame(message["data"])
                        if result is not None:
                            await result
                    elif kind == "payment-need-voucher" and renewing is None:
                        # Paid beside the stream: frames keep coming while the voucher is out.
                        renewing = asyncio.create_task(self._renew(ws))
                    elif kind == "authorized":
                        renewing = None
            except websockets.ConnectionClosedError:
                pass  # the server's close (code and reason below)
            finally:
                stopping.cancel()
                if renewing is not None:
                    await renewing  # a voucher out is seen through: `cumulative` stays exact
        if stop.is_set():
            return "stopped"
        return f"closed: {ws.close_reason or 'no reason'}"

    @staticmethod
    async def _close_on(stop: asyncio.Event, ws: websockets.ClientConnection) -> None:
        await stop.wait()
        await ws.close()

    async def _renew(self, ws: websockets.ClientConnection) -> None:
        if self.renew_spread_s:
            await asyncio.sleep(random.uniform(0.0, self.renew_spread_s))  # noqa: S311
        await self.pay()
        # Stopped meanwhile: the voucher is paid all the same, and `cumulative` counts it.
        with contextlib.suppress(websockets.ConnectionClosed):
            await ws.send(json.dumps({"t": "authorization", "token": self.token}))

    async def close(self) -> dict[str, Any]:
        """Send the last voucher with action `close`: the server closes the channel on-chain."""
        return await self.pay("close")

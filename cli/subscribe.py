"""`flowtape subscribe CL`: the paid alpha stream's reference client.

Reads the catalog at `/skills`, opens a payment channel on-chain with a deposit for
`--deposit-minutes` (the payer's key from MPP_PAYER_KEY, never a flag, never printed),
pays a voucher per MPP_MINUTES_PER_PAYMENT minutes as the server asks, prints one line per
frame, and on Ctrl-C sends its last voucher as a `close`: the server settles on-chain
(what was spent to the payee, the rest of the deposit back to the payer).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from functools import partial
from typing import Annotated, Any

import httpx
import typer
from eth_account import Account
from web3 import Web3

from payments.channel import open_channel, top_up
from payments.client import AlphaSubscriber
from payments.config import PaymentConfig
from schemas.errors import ConfigError, FlowtapeError

PAYER_KEY = "MPP_PAYER_KEY"


def frame_line(frame: dict[str, Any]) -> str:
    """One frame as one line: time, root, forward, ATM vol, risk reversal, skew, flow, health."""

    def number(name: str, digits: int) -> str:
        value = frame.get(name)
        return "-" if value is None else f"{value:.{digits}f}"

    forward = frame.get("cme_fwd_mid")
    return " ".join(
        [
            str(frame["ts_recv"]), frame["root"],
            f"fwd={'-' if forward is None else f'{forward / 1e9:.4f}'}",
            f"atm_iv={number('atm_iv', 4)}", f"rr25={number('rr25', 4)}",
            f"skew={number('skew_signal', 3)}", f"flow10={frame['signed_flow_10']}",
            f"imb5={number('imb_5', 3)}", frame["health"],
        ]
    )  # fmt: skip


async def subscribe(symbol: str, api: str, w3: Web3, deposit_minutes: int) -> None:
    """Open a channel on `w3`'s chain, stream `symbol` from `api` until SIGINT or SIGTERM,
    then close the channel through the server."""
    key = os.environ.get(PAYER_KEY, "")
    if not key:
        raise ConfigError(f"{PAYER_KEY} must hold the payer's private key (it pays the deposit)")
    try:
        payer = Account.from_key(key)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{PAYER_KEY} is not a 32-byte hex private key") from exc
    async with httpx.AsyncClient(timeout=30) as http:
        catalog = await http.get(f"{api}/skills")
        if catalog.status_code != 200:
            raise FlowtapeError(f"{api}/skills answered {catalog.status_code}: {catalog.text:.200}",
                                code="alpha_stream")  # fmt: skip
        skills = catalog.json()
        network = skills["network"]
        chain_id = await asyncio.to_thread(lambda: int(w3.eth.chain_id))
        if chain_id != int(network["chainId"]):
            raise ConfigError(
                f"the RPC serves chain {chain_id}, the stream is paid on {network['chainId']}"
            )
        minutes = int(skills["minutesPerPayment"])
        deposit = int(skills["amount"]) * -(-deposit_minutes // minutes)
        channel = await asyncio.to_thread(
            open_channel, w3, payer, escrow=network["escrowContract"],
            currency=network["currency"], payee=network["recipient"], deposit=deposit,
        )  # fmt: skip
        typer.echo(f"opened channel 0x{channel.channel_id.hex()} with {deposit} units", err=True)
        client = AlphaSubscriber(
            api, symbol, channel, payer.address, http, deposit=deposit,
            top_up=partial(top_up, w3, payer, channel, network["currency"]),
        )  # fmt: skip
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            ended = await client.stream(lambda frame: typer.echo(frame_line(frame)), stop=stop)
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
        typer.echo(f"stream ended ({ended}); closing the channel", err=True)
        closed = await client.close()
        typer.echo(
            f"closed: {closed['cumulativeAmount']} units paid for {len(client.receipts) - 1}"
            f" payments; the rest of {client.deposit} refunded",
            err=True,
        )


def register(app: typer.Typer) -> None:
    """Add `flowtape subscribe`."""

    @app.command("subscribe")
    def subscribe_command(
        symbol: Annotated[str, typer.Argument(help="The root to stream, e.g. CL.")],
        api: Annotated[str, typer.Option(help="The API's base URL.")] = "http://127.0.0.1:8000",
        rpc_url: Annotated[
            str, typer.Option(help="The chain's RPC URL (default: MPP_TESTNET's network).")
        ] = "",
        deposit_minutes: Annotated[
            int, typer.Option(min=1, help="Minutes of stream the channel's deposit pays for.")
        ] = 60,
    ) -> None:
        """Pay per minute over a payment channel and print the alpha frames of SYMBOL; Ctrl-C
        closes the channel (the payer's key in MPP_PAYER_KEY)."""
        w3 = Web3(Web3.HTTPProvider(rpc_url or PaymentConfig().network.rpc_url))
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(subscribe(symbol.upper(), api.rstrip("/"), w3, deposit_minutes))

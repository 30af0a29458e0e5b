"""`flowtape subscribe CL`: opens a channel, pays as asked, prints frames, closes on Ctrl-C.

The command's coroutine runs in this process against the API on loopback and the local
chain (web3's tester has no RPC server of its own); Ctrl-C is a real SIGINT to the process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest
from eth_account.signers.local import LocalAccount

from cli.subscribe import PAYER_KEY, subscribe
from infra.bus import Bus
from payments.gateway import PaymentGateway
from tests.integration.api.conftest import Api
from tests.integration.payments.chain import LocalChain
from tests.integration.payments.frames import playing
from tests.integration.payments.session import FUNDS, PRICE

pytestmark = pytest.mark.slow


async def test_subscribe_prints_frames_pays_per_minute_and_settles_on_ctrl_c(
    paid_api: tuple[Api, PaymentGateway], chain: LocalChain, payee: LocalAccount, bus: Bus,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    api, gw = paid_api
    payer = chain.account(FUNDS)
    monkeypatch.setenv(PAYER_KEY, "0x" + payer.key.hex().removeprefix("0x"))
    payee_before = chain.balance(payee.address)
    async with playing(bus, ["CL", "ES"], hz=20):
        running = asyncio.create_task(subscribe("CL", api.base_url, chain.w3, deposit_minutes=10))
        for _ in range(300):  # until this payer's second payment is stored
            states = [await gw.ledger.channel(c) for c in await gw.ledger.open_channels()]
            mine = [s for s in states if s is not None and s.payer == payer.address]
            state = mine[0] if mine else None
            if state is not None and state.cumulative >= 2 * PRICE:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("no second payment within 30 s")
        await asyncio.sleep(0.3)
        # Ctrl-C reaches the command only while it streams (else it would stop pytest)
        assert not running.done(), running.exception()
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.wait_for(running, 30)
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines and all(line.split()[1] == "CL" and line.split()[-1] == "ok" for line in lines)
    assert "opened channel 0x" in err and "closing the channel" in err
    assert payer.key.hex().removeprefix("0x") not in out + err
    closed = await gw.ledger.channel(state.channel_id)
    assert closed is not None and closed.finalized
    # The deposit covered ten minutes; the payee has what the vouchers said, the payer the rest.
    paid = closed.cumulative
    assert closed.deposit == 10 * PRICE
    assert paid >= 2 * PRICE and paid % PRICE == 0
    assert chain.balance(payee.address) - payee_before == paid
    assert chain.balance(payer.address) == FUNDS - paid


def test_without_a_payer_key_the_command_fails_with_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if k != PAYER_KEY}
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "subscribe", "CL", "--api", "http://127.0.0.1:9"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: [config] MPP_PAYER_KEY must hold the payer's private key (it pays the deposit)"
    ]

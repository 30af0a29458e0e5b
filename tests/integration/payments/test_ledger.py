"""The ledger on a real Redis: atomic, durable (AOF, fsync confirmed) and once per challenge."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio
import redis.asyncio as redis

from infra.embedded import redis_server
from payments.accounting import ChannelState, Price, Purchase, apply_voucher
from payments.errors import PaymentRefused, PaymentUnavailable
from payments.ledger import Ledger
from tests.conftest import Servers

PRICE = Price(1_000, 1)
NOW = 1_800_000_000
OPENED = ChannelState("0x" + "ab" * 32, "CL", "0xP", "0xS", 60_000, 0, 0, "", 0)


def pay(amount: int, now: int = NOW):  # type: ignore[no-untyped-def]
    def decide(state: ChannelState | None) -> Purchase:
        return apply_voucher(state or OPENED, amount, f"0x{amount:x}", now, PRICE)

    return decide


@pytest_asyncio.fixture
async def ledger(servers: Servers) -> AsyncIterator[Ledger]:
    ledger = Ledger.connect(servers.redis_url)
    await ledger.client.flushdb()
    yield ledger
    await ledger.close()


async def test_an_accepted_voucher_is_stored_and_listed_open(ledger: Ledger) -> None:
    bought = await ledger.change(OPENED.channel_id, pay(2_000), challenge=("c1", "d1", NOW + 300))
    assert bought.minutes == 2
    assert await ledger.channel(OPENED.channel_id) == bought.state
    assert await ledger.open_channels() == [OPENED.channel_id]


async def test_a_challenge_answered_once_refuses_another_credential(ledger: Ledger) -> None:
    await ledger.change(OPENED.channel_id, pay(1_000), challenge=("c1", "d1", NOW + 300))
    with pytest.raises(PaymentRefused, match="challenge_replayed"):
        await ledger.change(OPENED.channel_id, pay(2_000), challenge=("c1", "d2", NOW + 300))
    retry = await ledger.change(OPENED.channel_id, pay(1_000), challenge=("c1", "d1", NOW + 300))
    assert retry.minutes == 0  # the identical credential again: a retry, nothing bought
    assert (await ledger.channel(OPENED.channel_id)).cumulative == 1_000  # type: ignore[union-attr]


async def test_concurrent_vouchers_each_count_once(ledger: Ledger) -> None:
    # Twenty requests raise the same channel at once, each by one payment over what it read;
    # the compare-and-set makes every one decide again on the state the others left.
    def one_more(state: ChannelState | None) -> Purchase:
        current = state or OPENED
        return apply_voucher(current, current.cumulative + 1_000, "0x1", NOW, PRICE)

    others = [Ledger.connect(_url(ledger)) for _ in range(4)]
    try:
        jobs = [o.change(OPENED.channel_id, one_more) for o in others for _ in range(5)]
        bought = await asyncio.gather(*jobs)
    finally:
        await asyncio.gather(*(o.close() for o in others))
    final = await ledger.channel(OPENED.channel_id)
    assert final is not None and final.cumulative == 20_000
    assert sum(p.minutes for p in bought) == 20
    assert final.paid_until_s == NOW + 20 * 60


def _url(ledger: Ledger) -> str:
    kwargs = ledger.client.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs.get('db', 0)}"


async def test_a_finalised_channel_leaves_the_open_set(ledger: Ledger) -> None:
    await ledger.change(OPENED.channel_id, pay(1_000))

    def finalise(state: ChannelState | None) -> Purchase:
        assert state is not None
        return Purchase(replace(state, finalized=True), 0)

    await ledger.change(OPENED.channel_id, finalise)
    assert await ledger.open_channels() == []


async def test_accepted_vouchers_survive_a_killed_redis(tmp_path: Path) -> None:
    server = redis_server(tmp_path / "redis")
    server.start()
    try:
        ledger = Ledger.connect(server.url)
        accepted = await ledger.change(OPENED.channel_id, pay(3_000))
        await ledger.close()
        assert server.process is not None
        server.process.kill()  # no shutdown save: only the fsynced append-only file remains
        server.process.wait()
        server.start()
        ledger = Ledger.connect(server.url)
        assert await ledger.channel(OPENED.channel_id) == accepted.state
        await ledger.close()
    finally:
        server.stop()


async def test_a_store_without_an_append_only_file_refuses_to_confirm(tmp_path: Path) -> None:
    server = redis_server(tmp_path / "redis")
    server.start()
    try:
        plain = redis.Redis.from_url(server.url)
        await plain.config_set("appendonly", "no")
        await plain.aclose()
        ledger = Ledger.connect(server.url)
        with pytest.raises(PaymentUnavailable, match="appendonly"):
            await ledger.change(OPENED.channel_id, pay(1_000))
        await ledger.close()
    finally:
        server.stop()

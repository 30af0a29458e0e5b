"""The payee's side on-chain: settle accepted vouchers, and claim before a payer's exit.

Each pass reads every open channel on-chain. A channel the payer asked to close
(`requestClose`) is closed at once with the highest voucher, well inside the grace period
(passes run every MPP_SETTLE_INTERVAL_S, a minute by default, against a grace of
`CLOSE_GRACE_PERIOD`); one finalised elsewhere is recorded as such; any other with vouchers
above what is settled is settled, the channel staying open.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace

from payments.accounting import ChannelState, Purchase
from payments.errors import PaymentUnavailable
from payments.escrow import Escrow
from payments.ledger import Ledger
from payments.voucher import Voucher

log = logging.getLogger("flowtape.payments.settlement")


@dataclass(frozen=True, slots=True)
class SettlementAction:
    channel_id: str
    action: str  # "claimed" (closed after a close request), "settled", "finalised"
    amount: int  # the channel's settled total afterwards


def _voucher(state: ChannelState) -> Voucher:
    return Voucher(
        bytes.fromhex(state.channel_id[2:]), state.cumulative, bytes.fromhex(state.signature[2:])
    )


class Settler:
    """Settles and claims the channels in a ledger through an escrow client."""

    def __init__(self, ledger: Ledger, escrow: Escrow, *, interval_s: float) -> None:
        self.ledger = ledger
        self.escrow = escrow
        self.interval_s = interval_s

    async def run(self) -> None:
        """Passes until cancelled; a pass that fails is logged and the next one retries."""
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("settlement pass failed: %s", str(exc) or type(exc).__name__)
            await asyncio.sleep(self.interval_s)

    async def run_once(self) -> list[SettlementAction]:
        """One pass over the open channels; what it did."""
        done: list[SettlementAction] = []
        for channel_id in await self.ledger.open_channels():
            action = await self._pass(channel_id)
            if action is not None:
                done.append(action)
        return done

    async def _pass(self, channel_id: str) -> SettlementAction | None:
        state = await self.ledger.channel(channel_id)
        if state is None or not state.signature:
            return None
        onchain = await asyncio.to_thread(self.escrow.channel, bytes.fromhex(channel_id[2:]))
        if onchain.finalized:
            action = "finalised"
        elif onchain.close_requested_at:
            await asyncio.to_thread(self.escrow.close, _voucher(state))
            action = "claimed"
        elif state.cumulative > onchain.settled:
            await asyncio.to_thread(self.escrow.settle, _voucher(state))
            action = "settled"
        else:
            return None
        after = await asyncio.to_thread(self.escrow.channel, bytes.fromhex(channel_id[2:]))
        if action != "finalised" and after.settled < state.cumulative:
            raise PaymentUnavailable(f"channel {channel_id}: the chain settled {after.settled}")

        def record(current: ChannelState | None) -> Purchase:
            assert current is not None  # noqa: S101  (listed as open)
            return Purchase(replace(current, settled=after.settled, finalized=after.finalized), 0)

        await self.ledger.change(channel_id, record)
        return SettlementAction(channel_id, action, after.settled)

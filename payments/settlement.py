"""The payee's side on-chain: settle accepted vouchers, and claim before a payer's exit.

Each pass reads every open channel on-chain. A channel the payer asked to close
(`requestClose`) is closed at once with the highest voucher, well inside the grace period
(passes run every MPP_SETTLE_INTERVAL_S, a minute by default, against a grace of
`CLOSE_GRACE_PERIOD`); one finalised elsewhere is recorded as such; any other with vouchers
above what is settled is settled, the channel staying open.

A failing pass is never silent: the settler keeps the time of its last good pass, the kind
of its last failure and a circuit breaker (`report()`, shown in the API's `/health`). After
`breaker_after` failed passes in a row it stops calling the chain for `breaker_cooldown_s`,
then tries one pass: a success closes the breaker, a failure opens it again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from infra.health import iso_utc
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

    def __init__(
        self,
        ledger: Ledger,
        escrow: Escrow,
        *,
        interval_s: float,
        breaker_after: int = 3,
        breaker_cooldown_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ledger = ledger
        self.escrow = escrow
        self.interval_s = interval_s
        self.breaker_after = breaker_after
        self.breaker_cooldown_s = breaker_cooldown_s
        self.clock = clock
        self.attempts = 0
        self.failures_in_a_row = 0
        self.last_success_at: float | None = None
        self.last_failure_at: float | None = None
        self.last_failure_kind = ""
        self.open_until: float | None = None

    async def run(self) -> None:
        """Passes until cancelled."""
        while True:
            await self.attempt()
            await asyncio.sleep(self.interval_s)

    @property
    def circuit_open(self) -> bool:
        return self.open_until is not None and self.clock() < self.open_until

    async def attempt(self) -> list[SettlementAction] | None:
        """One pass unless the breaker is open; None when skipped or failed (counted)."""
        if self.circuit_open:
            return None
        self.attempts += 1
        try:
            done = await self.run_once()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failures_in_a_row += 1
            self.last_failure_at = self.clock()
            self.last_failure_kind = getattr(exc, "code", None) or type(exc).__name__
            if self.failures_in_a_row >= self.breaker_after:
                self.open_until = self.last_failure_at + self.breaker_cooldown_s
            log.warning("settlement pass failed (%s): %s", self.last_failure_kind, exc)
            return None
        self.failures_in_a_row = 0
        self.open_until = None
        self.last_success_at = self.clock()
        return done

    def report(self) -> dict[str, Any]:
        """The settler's part of `/health` (the pusher fields of the health contract)."""
        return {
            "lastSuccessAt": iso_utc(self.last_success_at),
            "lastFailureAt": iso_utc(self.last_failure_at),
            "lastFailureKind": self.last_failure_kind,
            "failuresInARow": self.failures_in_a_row,
            "circuitBreakerOpen": self.circuit_open,
        }

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

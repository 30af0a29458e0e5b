"""Tiny sessions for the engine's unit tests: the kit's events in dollars, one contract at a
time, and the runs that feed them to the engine."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from compute.flow import EngineConfig, finish, initial_state, step
from compute.flow.state import EngineState
from schemas.events import (
    EquityPrint,
    EquityQuote,
    Event,
    FlowPacket,
    Heartbeat,
    OpenInterest,
    OptionContract,
    OptionPrint,
    OptionQuote,
    PrintInference,
)
from schemas.occ import format_occ
from tests.kit import events

T0 = 1_740_061_800_000_000_000  # 2025-02-20 09:30:00 New York (a Thursday)
MS = 1_000_000
SECOND = 1_000_000_000
UNDERLYING = "AAPL"
EXPIRY = 20250321


def px(dollars: float) -> int:
    """Dollars at the 1e-9 price scale."""
    return round(dollars * 1_000_000_000)


def occ(strike: float, right: str = "C", expiry: int = EXPIRY, root: str = UNDERLYING) -> str:
    return format_occ(root, expiry, "C" if right == "C" else "P", px(strike))


class Contract:
    """A contract with helpers that build its events."""

    def __init__(
        self, instrument_id: int, strike: float = 250.0, right: str = "C", expiry: int = EXPIRY,
        underlying: str = UNDERLYING,
    ) -> None:  # fmt: skip
        self.instrument_id = instrument_id
        self.symbol = occ(strike, right, expiry, underlying)
        self.underlying = underlying
        self.right = right
        self.strike = px(strike)
        self.expiry = expiry
        self._sequence = 0

    def _seq(self) -> int:
        self._sequence += 1
        return self._sequence

    def definition(self, ts: int = T0 - SECOND) -> OptionContract:
        return events.option_contract(
            ts_recv=ts, ts_event=ts, publisher_id=1, instrument_id=self.instrument_id,
            source="test", symbol=self.symbol, underlying=self.underlying,
            right="C" if self.right == "C" else "P", strike_price=self.strike, expiration=None,
        )  # fmt: skip

    def quote(
        self, ts: int, bid: float, ask: float, bid_sz: int = 10, ask_sz: int = 10,
        sampled: bool = False,
    ) -> OptionQuote:  # fmt: skip
        return events.option_quote(
            ts_recv=ts, ts_event=ts - 1000, publisher_id=100, instrument_id=self.instrument_id,
            sequence=self._seq(), source="test", symbol=self.symbol,
            underlying=self.underlying, bid_px=px(bid), ask_px=px(ask), bid_sz=bid_sz,
            ask_sz=ask_sz, sampled=sampled,
        )  # fmt: skip

    def trade(
        self, ts: int, price: float, size: int = 1, venue: int = 20,
        nbbo: tuple[float, float, int, int] | None = None, ts_event: int | None = None,
    ) -> OptionPrint:  # fmt: skip
        extra = {}
        if nbbo is not None:
            extra = dict(bid_px=px(nbbo[0]), ask_px=px(nbbo[1]), bid_sz=nbbo[2], ask_sz=nbbo[3])
        return events.option_print(
            ts_recv=ts, ts_event=ts - 1000 if ts_event is None else ts_event,
            publisher_id=venue, instrument_id=self.instrument_id, sequence=self._seq(),
            source="test", symbol=self.symbol, underlying=self.underlying, price=px(price),
            size=size, **extra,
        )  # fmt: skip

    def open_interest(self, ts: int, value: int) -> OpenInterest:
        return events.open_interest(
            ts_recv=ts, ts_event=ts, publisher_id=1, instrument_id=self.instrument_id,
            sequence=self._seq(), source="test", symbol=self.symbol,
            underlying=self.underlying, open_interest=value,
        )  # fmt: skip


_equity_seq = [0]


def equity_print(
    ts: int, price: float, size: int = 100, *, off_exchange: bool = False,
    symbol: str = UNDERLYING, venue: int = 2,
) -> EquityPrint:  # fmt: skip
    _equity_seq[0] += 1
    return events.equity_print(
        ts_recv=ts, ts_event=ts - 1000, publisher_id=venue, instrument_id=9000,
        sequence=_equity_seq[0], source="test", symbol=symbol,
        venue="FINN" if off_exchange else "XNAS", off_exchange=off_exchange, price=px(price),
        size=size,
    )  # fmt: skip


def equity_quote(ts: int, bid: float, ask: float, symbol: str = UNDERLYING) -> EquityQuote:
    _equity_seq[0] += 1
    return events.equity_quote(
        ts_recv=ts, ts_event=ts - 1000, publisher_id=2, instrument_id=9000,
        sequence=_equity_seq[0], source="test", symbol=symbol, venue="XNAS", bid_px=px(bid),
        ask_px=px(ask), bid_sz=100, ask_sz=100,
    )  # fmt: skip


def heartbeat(ts: int) -> Heartbeat:
    return events.heartbeat(ts_recv=ts, source="test")


def run(
    events: Iterable[Event], config: EngineConfig | None = None, *, close: bool = True
) -> list[Event]:
    """All outputs of one run over `events` in one batch (plus `finish`)."""
    state = initial_state(config or EngineConfig(), "test")
    state, out = step(state, list(events))
    if close:
        state, tail = finish(state)
        out += tail
    return out


def run_state(
    events: Sequence[Event], config: EngineConfig | None = None
) -> tuple[EngineState, list[Event]]:
    state = initial_state(config or EngineConfig(), "test")
    return step(state, list(events))


def packets(outputs: Iterable[Event]) -> list[FlowPacket]:
    return [e for e in outputs if isinstance(e, FlowPacket)]


def inferences(outputs: Iterable[Event]) -> list[PrintInference]:
    return [e for e in outputs if isinstance(e, PrintInference)]


def of_type(outputs: Iterable[Event], kind: type[Event]) -> list[Event]:
    return [e for e in outputs if isinstance(e, kind)]

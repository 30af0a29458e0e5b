"""Builders of raw events: sensible defaults, any field overridden by keyword.

The defaults describe one moment of one contract: 10 lots of the AAPL 2024-01-19 190 call
printed at $1.50 on publisher 20 (received at 1 000 ns), the NBBO of $1.40 x $1.50 just
before it, and an AAPL tape around $190. Only required fields get a default here; optional
ones keep the schema's own.
"""

from __future__ import annotations

from typing import Any

from schemas.events import (
    PRICE_SCALE,
    EquityPrint,
    EquityQuote,
    Gap,
    Heartbeat,
    OpenInterest,
    OptionContract,
    OptionPrint,
    OptionQuote,
    Quarantined,
)

SYMBOL = "AAPL  240119C00190000"
UNDERLYING = "AAPL"
SOURCE = "databento"
STRIKE_PX = 190 * PRICE_SCALE
EXPIRATION = 1_705_622_400 * 10**9  # 2024-01-19 00:00 UTC


def option_contract(**fields: Any) -> OptionContract:
    """The definition of the AAPL 2024-01-19 190 call."""
    defaults: dict[str, Any] = dict(
        ts_recv=1_000, ts_event=900, publisher_id=20, instrument_id=7, source=SOURCE,
        symbol=SYMBOL, underlying=UNDERLYING, right="C", strike_price=STRIKE_PX,
        expiration=EXPIRATION,
    )  # fmt: skip
    return OptionContract(**(defaults | fields))


def option_print(**fields: Any) -> OptionPrint:
    """10 lots of the call at $1.50 on publisher 20, received at 1 000 ns."""
    defaults: dict[str, Any] = dict(
        ts_recv=1_000, ts_event=900, publisher_id=20, instrument_id=7, sequence=1,
        source=SOURCE, symbol=SYMBOL, underlying=UNDERLYING, price=1_500_000_000, size=10,
    )  # fmt: skip
    return OptionPrint(**(defaults | fields))


def option_quote(**fields: Any) -> OptionQuote:
    """The call's NBBO, $1.40 (3 lots) x $1.50 (4 lots), received just before the print."""
    defaults: dict[str, Any] = dict(
        ts_recv=990, ts_event=890, publisher_id=20, instrument_id=7, sequence=1, source=SOURCE,
        symbol=SYMBOL, underlying=UNDERLYING, bid_px=1_400_000_000, ask_px=1_500_000_000,
        bid_sz=3, ask_sz=4,
    )  # fmt: skip
    return OptionQuote(**(defaults | fields))


def equity_print(**fields: Any) -> EquityPrint:
    """100 AAPL shares at $190 on Nasdaq."""
    defaults: dict[str, Any] = dict(
        ts_recv=1_000, ts_event=900, publisher_id=2, instrument_id=1, sequence=1, source=SOURCE,
        symbol=UNDERLYING, venue="XNAS", off_exchange=False, price=STRIKE_PX, size=100,
    )  # fmt: skip
    return EquityPrint(**(defaults | fields))


def equity_quote(**fields: Any) -> EquityQuote:
    """AAPL on Nasdaq, $189 (100 shares) x $191 (200 shares)."""
    defaults: dict[str, Any] = dict(
        ts_recv=990, ts_event=890, publisher_id=2, instrument_id=1, sequence=1, source=SOURCE,
        symbol=UNDERLYING, venue="XNAS", bid_px=189 * PRICE_SCALE, ask_px=191 * PRICE_SCALE,
        bid_sz=100, ask_sz=200,
    )  # fmt: skip
    return EquityQuote(**(defaults | fields))


def open_interest(**fields: Any) -> OpenInterest:
    """The call's open interest, 1 234 contracts."""
    defaults: dict[str, Any] = dict(
        ts_recv=1_000, ts_event=900, publisher_id=20, instrument_id=7, sequence=0,
        source=SOURCE, symbol=SYMBOL, underlying=UNDERLYING, open_interest=1234,
    )  # fmt: skip
    return OpenInterest(**(defaults | fields))


def heartbeat(**fields: Any) -> Heartbeat:
    """The source is alive at 1 000 ns."""
    defaults: dict[str, Any] = dict(ts_recv=1_000, source=SOURCE)
    return Heartbeat(**(defaults | fields))


def gap(**fields: Any) -> Gap:
    """Three trades dropped while the log was unreachable."""
    defaults: dict[str, Any] = dict(
        ts_recv=1_000, source=SOURCE, dropped_trades=3, first_ts_recv=990, last_ts_recv=999,
        reason="log unreachable",
    )  # fmt: skip
    return Gap(**(defaults | fields))


def quarantined(**fields: Any) -> Quarantined:
    """Input the source could not map to an instrument."""
    defaults: dict[str, Any] = dict(ts_recv=1_000, source=SOURCE, reason="unmapped_instrument")
    return Quarantined(**(defaults | fields))


def print_at(t: int) -> OptionPrint:
    """A one-lot print from source "s" whose times and sequence are all `t`: for tests where
    only the order of events counts."""
    return option_print(
        ts_recv=t, ts_event=t, publisher_id=1, sequence=t, source="s", price=1, size=1
    )


def quote_at(t: int, instrument_id: int = 7) -> OptionQuote:
    """A one-lot quote from source "s" whose times, sequence and bid are all `t`."""
    return option_quote(
        ts_recv=t, ts_event=t, publisher_id=1, instrument_id=instrument_id, sequence=t,
        source="s", bid_px=t, ask_px=t + 1, bid_sz=1, ask_sz=1,
    )  # fmt: skip

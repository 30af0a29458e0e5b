"""Databento field values -> flowtape raw events: one builder per event type.

The record path (`RecordNormaliser`, one DBN record at a time) and the column path
(`ingest.databento.bulk`, rows of `DBNStore.to_ndarray` chunks) both build their events
here, from plain values that have already passed validation, so each event's field mapping
is written once: prices stay int64 x1e-9, times integer nanoseconds, Databento's undefined
price (i64::MAX) and timestamp (u64::MAX) become None where the event allows it
(`undef_price`, `undef_ts`), equity events carry the publisher's venue and whether it is
off-exchange. Builders take positional values because the column path calls them once per
row.
"""

from __future__ import annotations

from ingest.databento.symbology import Publisher
from schemas.events import (
    UNDEF_PRICE,
    UNDEF_TIMESTAMP,
    EquityPrint,
    EquityQuote,
    OpenInterest,
    OptionContract,
    OptionPrint,
    OptionQuote,
)

_UNDEF_I32 = 2**31 - 1  # InstrumentDefMsg.contract_multiplier's undefined value
_PRICE_SCALE = 1_000_000_000
_DEFAULT_MULTIPLIER = 100


def undef_price(value: int) -> int | None:
    """Databento's undefined price (i64::MAX) as None."""
    return None if value == UNDEF_PRICE else value


def undef_ts(value: int) -> int | None:
    """Databento's undefined timestamp (u64::MAX) as None."""
    return None if value == UNDEF_TIMESTAMP else value


def option_print(
    source: str,
    pub: Publisher,
    symbol: str,
    underlying: str,
    ts_recv: int,
    ts_event: int,
    instrument_id: int,
    sequence: int,
    price: int,
    size: int,
    side: str,
    flags: int,
    bid_px: int | None,
    ask_px: int | None,
    bid_sz: int | None,
    ask_sz: int | None,
) -> OptionPrint:
    """A trade (`trades`, `tbbo`, `tcbbo`, `mbp-1`/`cmbp-1` action T) of an option; the BBO
    is the consolidated one or None."""
    return OptionPrint(
        ts_recv=ts_recv,
        ts_event=ts_event,
        publisher_id=pub.publisher_id,
        instrument_id=instrument_id,
        sequence=sequence,
        source=source,
        symbol=symbol,
        underlying=underlying,
        price=price,
        size=size,
        side=side,
        flags=flags,
        bid_px=bid_px,
        ask_px=ask_px,
        bid_sz=bid_sz,
        ask_sz=ask_sz,
    )


def equity_print(
    source: str,
    pub: Publisher,
    symbol: str,
    ts_recv: int,
    ts_event: int,
    instrument_id: int,
    sequence: int,
    price: int,
    size: int,
    side: str,
    flags: int,
    bid_px: int | None,
    ask_px: int | None,
    bid_sz: int | None,
    ask_sz: int | None,
) -> EquityPrint:
    """A trade of an equity, at the publisher's venue, with the record's BBO when it has one."""
    return EquityPrint(
        ts_recv=ts_recv,
        ts_event=ts_event,
        publisher_id=pub.publisher_id,
        instrument_id=instrument_id,
        sequence=sequence,
        source=source,
        symbol=symbol,
        venue=pub.venue,
        off_exchange=pub.off_exchange,
        price=price,
        size=size,
        side=side,
        flags=flags,
        bid_px=bid_px,
        ask_px=ask_px,
        bid_sz=bid_sz,
        ask_sz=ask_sz,
    )


def option_quote(
    source: str,
    pub: Publisher,
    symbol: str,
    underlying: str,
    ts_recv: int,
    ts_event: int,
    instrument_id: int,
    sequence: int,
    bid_px: int | None,
    ask_px: int | None,
    bid_sz: int,
    ask_sz: int,
    bid_pb: int | None,
    ask_pb: int | None,
    sampled: bool,
) -> OptionQuote:
    """A top-of-book update of an option: every change (`cmbp-1`, `mbp-1`) or a sample
    (`cbbo-*`, `bbo-*`)."""
    return OptionQuote(
        ts_recv=ts_recv,
        ts_event=ts_event,
        publisher_id=pub.publisher_id,
        instrument_id=instrument_id,
        sequence=sequence,
        source=source,
        symbol=symbol,
        underlying=underlying,
        bid_px=bid_px,
        ask_px=ask_px,
        bid_sz=bid_sz,
        ask_sz=ask_sz,
        bid_pb=bid_pb,
        ask_pb=ask_pb,
        sampled=sampled,
    )


def equity_quote(
    source: str,
    pub: Publisher,
    symbol: str,
    ts_recv: int,
    ts_event: int,
    instrument_id: int,
    sequence: int,
    bid_px: int | None,
    ask_px: int | None,
    bid_sz: int,
    ask_sz: int,
) -> EquityQuote:
    """A top-of-book update of an equity at the publisher's venue (`mbp-1`, `bbo-*`)."""
    return EquityQuote(
        ts_recv=ts_recv,
        ts_event=ts_event,
        publisher_id=pub.publisher_id,
        instrument_id=instrument_id,
        sequence=sequence,
        source=source,
        symbol=symbol,
        venue=pub.venue,
        bid_px=bid_px,
        ask_px=ask_px,
        bid_sz=bid_sz,
        ask_sz=ask_sz,
    )


def option_contract(
    source: str,
    pub: Publisher,
    symbol: str,
    underlying: str,
    instrument_class: str,
    ts_recv: int,
    ts_event: int,
    instrument_id: int,
    strike_price: int,
    expiration: int,
    contract_multiplier: int,
    unit_of_measure_qty: int,
) -> OptionContract:
    """An option's definition (`definition`, instrument class C or P)."""
    return OptionContract(
        ts_recv=ts_recv,
        ts_event=ts_event,
        publisher_id=pub.publisher_id,
        instrument_id=instrument_id,
        source=source,
        symbol=symbol,
        underlying=underlying,
        right="C" if instrument_class == "C" else "P",
        strike_price=strike_price,
        expiration=undef_ts(expiration),
        multiplier=_multiplier(contract_multiplier, unit_of_measure_qty),
    )


def open_interest(
    source: str,
    pub: Publisher,
    symbol: str,
    underlying: str,
    ts_recv: int,
    ts_event: int,
    instrument_id: int,
    sequence: int,
    quantity: int,
) -> OpenInterest:
    """An option's open interest (`statistics`, stat type OPEN_INTEREST)."""
    return OpenInterest(
        ts_recv=ts_recv,
        ts_event=ts_event,
        publisher_id=pub.publisher_id,
        instrument_id=instrument_id,
        sequence=sequence,
        source=source,
        symbol=symbol,
        underlying=underlying,
        open_interest=quantity,
    )


def _multiplier(contract_multiplier: int, unit_of_measure_qty: int) -> int:
    # CME definitions leave contract_multiplier undefined and give unit_of_measure_qty
    # (x1e-9); OPRA's give neither, and an equity option delivers 100 shares.
    if contract_multiplier not in (_UNDEF_I32, 0):
        return int(contract_multiplier)
    qty = undef_price(unit_of_measure_qty)
    if qty and qty % _PRICE_SCALE == 0:
        return qty // _PRICE_SCALE
    return _DEFAULT_MULTIPLIER

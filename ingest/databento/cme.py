"""CME Globex (Databento `GLBX.MDP3`) field values -> `schemas.cme` events.

One builder per event type, like `ingest.databento.builders`: `RecordNormaliser` decides
which record becomes which event and checks its values first (a record without a usable
definition never gets here); these only map fields. Prices stay int64 x1e-9 and Databento's
undefined values become None. A definition's `unit_of_measure_qty` (1e-9) is the contract's
multiplier (50 index points for ES, 1,000 barrels for CL) and its `min_price_increment` the
tick, None where CME publishes a variable tick (options on futures). Fields go by keyword,
never through a `**` mapping, which costs several times the struct's own construction on
the column path (`ingest.databento.cme_columns`).
"""

from __future__ import annotations

from typing import Any

from ingest.databento.builders import undef_price
from ingest.databento.symbology import Publisher
from schemas.cme import CmeInstrument, CmeQuote, CmeStatistic, CmeTrade

_UNDEF_QTY = 2**63 - 1  # StatMsg.quantity's undefined value


def cme_instrument(source: str, pub: Publisher, record: Any) -> CmeInstrument:
    """A future's (`F`) or an option's (`C`/`P`) definition, checked by the caller: its
    times, expiration and multiplier are defined, and an option has a strike and an
    underlying."""
    instrument_class = record.instrument_class.value
    is_option = instrument_class != "F"
    return CmeInstrument(
        ts_recv=record.ts_recv,
        ts_event=record.ts_event,
        publisher_id=pub.publisher_id,
        instrument_id=record.instrument_id,
        source=source,
        symbol=record.raw_symbol,
        instrument_class=instrument_class,
        asset=record.asset,
        expiration=record.expiration,
        multiplier=record.unit_of_measure_qty,
        tick=undef_price(record.min_price_increment),
        cfi=record.cfi,
        strike_price=record.strike_price if is_option else None,
        underlying_id=(record.underlying_id or None) if is_option else None,
        underlying_symbol=record.underlying if is_option else "",
    )


def cme_trade(
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
) -> CmeTrade:
    """A trade (`trades`, or `tbbo`/`mbp-1` action T) with Databento's aggressor side."""
    return CmeTrade(
        ts_recv=ts_recv,
        ts_event=ts_event,
        publisher_id=pub.publisher_id,
        instrument_id=instrument_id,
        source=source,
        symbol=symbol,
        sequence=sequence,
        price=price,
        size=size,
        side=side,
        flags=flags,
    )


def cme_quote(
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
    sampled: bool,
) -> CmeQuote:
    """A top-of-book update (`mbp-1`) or sample (`bbo-1s`, `bbo-1m`: `sampled`)."""
    return CmeQuote(
        ts_recv=ts_recv,
        ts_event=ts_event,
        publisher_id=pub.publisher_id,
        instrument_id=instrument_id,
        source=source,
        symbol=symbol,
        sequence=sequence,
        bid_px=bid_px,
        ask_px=ask_px,
        bid_sz=bid_sz,
        ask_sz=ask_sz,
        sampled=sampled,
    )


def cme_statistic(source: str, pub: Publisher, symbol: str, record: Any) -> CmeStatistic:
    """An exchange statistic (`statistics`) as given, undefined price or quantity as None."""
    quantity = record.quantity
    return CmeStatistic(
        ts_recv=record.ts_recv,
        ts_event=record.ts_event,
        publisher_id=pub.publisher_id,
        instrument_id=record.instrument_id,
        source=source,
        symbol=symbol,
        sequence=record.sequence,
        stat_type=int(record.stat_type),
        price=undef_price(record.price),
        quantity=None if quantity == _UNDEF_QTY else quantity,
        update_action=int(record.update_action),
        stat_flags=int(record.stat_flags),
    )

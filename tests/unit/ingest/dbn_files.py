"""Build small DBN files for tests: `bytes(Metadata)` + `bytes(record)`..., optionally zstd."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import databento_dbn as dbn
import zstandard

from synth.dbn import day_mappings

DAY = dt.date(2025, 2, 20)
T0 = 1_740_061_800_000_000_000  # 2025-02-20 14:30:00 UTC
OPRA_XCBO, OPRA_XPHL, OPRA_EMLD, OPRA_CONS = 22, 35, 23, 30


def metadata(
    symbols: dict[str, int], dataset: str = "OPRA.PILLAR", schema: dbn.Schema | None = None
) -> dbn.Metadata:
    """Metadata mapping each raw symbol to its instrument id on DAY."""
    return dbn.Metadata(
        dataset=dataset,
        start=T0 - 14 * 3600 * 10**9,
        stype_in=dbn.SType.RAW_SYMBOL,
        stype_out=dbn.SType.INSTRUMENT_ID,
        schema=schema,
        symbols=list(symbols),
        mappings=day_mappings(symbols.items(), DAY),
        end=T0 + 10 * 3600 * 10**9,
    )


def dbn_bytes(meta: dbn.Metadata, records: list[object]) -> bytes:
    return bytes(meta) + b"".join(bytes(r) for r in records)  # type: ignore[call-overload]


def write_dbn(path: Path, meta: dbn.Metadata, records: list[object], zstd: bool = True) -> Path:
    raw = dbn_bytes(meta, records)
    path.write_bytes(zstandard.ZstdCompressor().compress(raw) if zstd else raw)
    return path


def trade(
    iid: int, ts_recv: int, price: int, size: int, publisher: int = OPRA_XCBO, sequence: int = 1
) -> dbn.TradeMsg:
    return dbn.TradeMsg(
        publisher_id=publisher,
        instrument_id=iid,
        ts_event=ts_recv - 200,
        price=price,
        size=size,
        action=dbn.Action.TRADE,
        side=dbn.Side.NONE,
        depth=0,
        ts_recv=ts_recv,
        sequence=sequence,
    )


def nbbo(
    bid: int,
    ask: int,
    bid_sz: int = 10,
    ask_sz: int = 10,
    bid_pb: int = OPRA_XCBO,
    ask_pb: int = OPRA_XPHL,
) -> dbn.ConsolidatedBidAskPair:
    return dbn.ConsolidatedBidAskPair(
        bid_px=bid, ask_px=ask, bid_sz=bid_sz, ask_sz=ask_sz, bid_pb=bid_pb, ask_pb=ask_pb
    )


def cmbp1(
    iid: int,
    ts_recv: int,
    bid: int,
    ask: int,
    *,
    action: dbn.Action = dbn.Action.ADD,
    price: int = 0,
    size: int = 0,
    rtype: dbn.RType = dbn.RType.CMBP_1,
    publisher: int = OPRA_CONS,
    bid_sz: int = 10,
    ask_sz: int = 10,
) -> dbn.CMBP1Msg:
    return dbn.CMBP1Msg(
        rtype=rtype,
        publisher_id=publisher,
        instrument_id=iid,
        ts_event=ts_recv - 100,
        price=price,
        size=size,
        action=action,
        side=dbn.Side.NONE,
        ts_recv=ts_recv,
        levels=nbbo(bid, ask, bid_sz, ask_sz),
    )


def tcbbo(
    iid: int, ts_recv: int, price: int, size: int, bid: int, ask: int, publisher: int = OPRA_XCBO
) -> dbn.CMBP1Msg:
    return cmbp1(
        iid,
        ts_recv,
        bid,
        ask,
        action=dbn.Action.TRADE,
        price=price,
        size=size,
        rtype=dbn.RType.TCBBO,
        publisher=publisher,
    )


def option_definition(
    iid: int,
    raw_symbol: str,
    ts_recv: int,
    *,
    underlying: str = "AAPL",
    instrument_class: str = "C",
    strike: int = 250 * 10**9,
    expiration: int = 1_740_096_000_000_000_000,
    publisher: int = OPRA_CONS,
    asset: str = "AAPL",
    security_type: str = "OPT",
) -> dbn.InstrumentDefMsg:
    return dbn.InstrumentDefMsg(
        publisher_id=publisher,
        instrument_id=iid,
        ts_event=ts_recv - 100,
        ts_recv=ts_recv,
        min_price_increment=10_000_000,
        display_factor=10**9,
        raw_symbol=raw_symbol,
        asset=asset,
        security_type=security_type,
        instrument_class=dbn.InstrumentClass(instrument_class),
        security_update_action=dbn.SecurityUpdateAction.ADD,
        expiration=expiration,
        strike_price=strike,
        underlying=underlying,
    )

"""A synthetic order-book session (`synth.book`) written as Databento DBN files: one MBO and
one MBP-10 file, zstd-compressed, with the raw-symbol mapping real files carry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import databento_dbn as dbn
import zstandard

from schemas.book import BookLevel
from synth.book import MBP_DEPTH, BookSession
from synth.dbn import day_mappings

_DATASET = "GLBX.MDP3"


def _price(price: int | None) -> int:
    return dbn.UNDEF_PRICE if price is None else price


def _pair(bids: list[BookLevel], asks: list[BookLevel], depth: int) -> dbn.BidAskPair:
    bid = bids[depth] if depth < len(bids) else None
    ask = asks[depth] if depth < len(asks) else None
    return dbn.BidAskPair(
        bid_px=dbn.UNDEF_PRICE if bid is None else bid.price,
        ask_px=dbn.UNDEF_PRICE if ask is None else ask.price,
        bid_sz=0 if bid is None else bid.size,
        ask_sz=0 if ask is None else ask.size,
        bid_ct=0 if bid is None else bid.orders,
        ask_ct=0 if ask is None else ask.orders,
    )


def mbo_records(session: BookSession) -> list[dbn.MBOMsg]:
    """The session's MBO records in feed order."""
    return [
        dbn.MBOMsg(
            publisher_id=event.publisher_id,
            instrument_id=event.instrument_id,
            ts_event=record.ts_event,
            order_id=record.order_id,
            price=_price(record.price),
            size=record.size,
            action=dbn.Action(record.action),
            side=dbn.Side(record.side),
            ts_recv=event.ts_recv,
            flags=record.flags,
            channel_id=0,
            sequence=record.sequence,
        )
        for event in session.mbo
        for record in event.records
    ]


def mbp10_records(session: BookSession) -> list[dbn.MBP10Msg]:
    """The session's MBP-10 records in feed order."""
    return [
        dbn.MBP10Msg(
            publisher_id=event.publisher_id,
            instrument_id=event.instrument_id,
            ts_event=record.ts_event,
            price=_price(record.price),
            size=record.size,
            action=dbn.Action(record.action),
            side=dbn.Side(record.side),
            depth=record.depth,
            ts_recv=event.ts_recv,
            flags=record.flags,
            sequence=record.sequence,
            levels=[_pair(record.bids, record.asks, depth) for depth in range(MBP_DEPTH)],
        )
        for event in session.mbp10
        for record in event.records
    ]


def write_book_dbn(session: BookSession, out_dir: Path) -> tuple[Path, Path]:
    """Write `<symbol>.mbo.dbn.zst` and `<symbol>.mbp-10.dbn.zst` into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for schema, records in (("mbo", mbo_records(session)), ("mbp-10", mbp10_records(session))):
        path = out_dir / f"{session.symbol}.{schema}.dbn.zst"
        body = b"".join(bytes(record) for record in records)
        path.write_bytes(zstandard.ZstdCompressor().compress(_metadata(session, schema) + body))
        paths.append(path)
    return paths[0], paths[1]


def _metadata(session: BookSession, schema: str) -> bytes:
    first = session.mbo[0].ts_recv
    day = dt.datetime.fromtimestamp(first // 1_000_000_000, tz=dt.UTC).date()
    start = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
    return bytes(
        dbn.Metadata(
            dataset=_DATASET,
            start=start * 1_000_000_000,
            end=(start + 86_400) * 1_000_000_000,
            stype_in=dbn.SType.RAW_SYMBOL,
            stype_out=dbn.SType.INSTRUMENT_ID,
            schema=dbn.Schema.from_str(schema),
            symbols=[session.symbol],
            mappings=day_mappings([(session.symbol, session.instrument_id)], day),
            ts_out=False,
        )
    )

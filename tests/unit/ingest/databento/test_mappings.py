"""Symbol mappings answer as Databento's own InstrumentMap does, on metadata in both
directions and on live mapping records: overlapping intervals, reused ids, open ends, days
before, inside and after every interval. (Two intervals of one id starting on the same day,
which real mappings never have, InstrumentMap orders as its sort falls: not compared.)"""

from __future__ import annotations

import datetime as dt
import random

import databento_dbn as dbn
import pytest
from databento.common.symbology import InstrumentMap

from ingest.databento.mappings import EPOCH, NS_PER_DAY, SymbolMappings
from ingest.databento.symbology import Symbology, Unresolved
from schemas.events import UNDEF_TIMESTAMP
from synth.dbn import SymbolInterval, SymbolMapping

DAY0 = dt.date(2025, 2, 17)


def _day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n)


def _start(rng: random.Random, starts: set[tuple[int, int]], first_days: range) -> tuple[int, int]:
    """An (instrument id, first day) pair not drawn before."""
    while (pair := (rng.randint(1, 25), rng.choice(first_days))) in starts:
        pass
    starts.add(pair)
    return pair


def _metadata(rng: random.Random, by_id_in: bool, starts: set[tuple[int, int]]) -> dbn.Metadata:
    """Random mappings of 40 raw symbols and 25 ids over ten days (ids reused, intervals
    overlapping)."""
    mappings = []
    for n in range(40):
        intervals = []
        for _ in range(rng.randint(0, 3)):
            number, first = _start(rng, starts, range(10))
            iid = str(number)
            symbol = "" if rng.random() < 0.05 else iid
            intervals.append(SymbolInterval(_day(first), _day(first + rng.randint(1, 4)), symbol))
        mappings.append(SymbolMapping(f"SYM{n}", intervals))
    if by_id_in:  # keyed by instrument id, each naming a raw symbol
        mappings = [
            SymbolMapping(i.symbol, [SymbolInterval(i.start_date, i.end_date, m.raw_symbol)])
            for m in mappings
            for i in m.intervals
            if i.symbol
        ]
    return dbn.Metadata(
        dataset="OPRA.PILLAR",
        start=0,
        stype_in=dbn.SType.INSTRUMENT_ID if by_id_in else dbn.SType.RAW_SYMBOL,
        stype_out=dbn.SType.RAW_SYMBOL if by_id_in else dbn.SType.INSTRUMENT_ID,
        schema=dbn.Schema.TRADES,
        symbols=[m.raw_symbol for m in mappings],
        mappings=mappings,
        end=20 * NS_PER_DAY,
    )


def _record(rng: random.Random, starts: set[tuple[int, int]]) -> dbn.SymbolMappingMsg:
    iid, start_day = _start(rng, starts, range(-1, 9))  # -1: an open start
    start = UNDEF_TIMESTAMP if start_day < 0 else start_day * NS_PER_DAY
    end = rng.choice([UNDEF_TIMESTAMP, (max(start_day, 0) + rng.randint(1, 4)) * NS_PER_DAY])
    offset = (DAY0 - EPOCH).days * NS_PER_DAY
    return dbn.SymbolMappingMsg(
        publisher_id=1,
        instrument_id=iid,
        ts_event=0,
        stype_in=dbn.SType.RAW_SYMBOL,
        stype_in_symbol=f"LIVE{rng.randint(0, 9)}",
        stype_out=dbn.SType.INSTRUMENT_ID,
        stype_out_symbol=str(iid) if rng.random() < 0.7 else f"OUT{iid}",
        start_ts=start if start == UNDEF_TIMESTAMP else start + offset,
        end_ts=end if end == UNDEF_TIMESTAMP else end + offset,
    )


@pytest.mark.parametrize("seed", range(30))
def test_the_mappings_resolve_every_id_and_day_as_databento_does(seed: int) -> None:
    rng = random.Random(seed)
    ours, theirs = SymbolMappings(), InstrumentMap()
    starts: set[tuple[int, int]] = set()
    for _ in range(rng.randint(1, 2)):
        metadata = _metadata(rng, rng.random() < 0.5, starts)
        ours.insert_metadata(metadata)
        theirs.insert_metadata(metadata)
    for _ in range(rng.randint(0, 15)):
        record = _record(rng, starts)
        ours.insert_record(record)
        theirs.insert_symbol_mapping_msg(record)
    epoch_day = (DAY0 - EPOCH).days
    answers = 0
    for iid in range(0, 27):
        for n in range(-2, 16):
            expected = theirs.resolve(iid, _day(n))
            assert ours.resolve(iid, epoch_day + n) == (str(expected) if expected else None)
            answers += expected is not None
    assert answers > 20  # most pairs are mapped on some day


def test_metadata_without_an_instrument_id_side_is_refused() -> None:
    metadata = dbn.Metadata(
        dataset="OPRA.PILLAR",
        start=0,
        stype_in=dbn.SType.RAW_SYMBOL,
        stype_out=dbn.SType.RAW_SYMBOL,
        schema=dbn.Schema.TRADES,
        symbols=["A"],
        mappings=[SymbolMapping("A", [SymbolInterval(DAY0, _day(1), "B")])],
        end=NS_PER_DAY,
    )
    with pytest.raises(ValueError, match="instrument_id"):
        SymbolMappings().insert_metadata(metadata)


def test_a_mapping_that_arrives_after_a_failed_lookup_names_the_instrument() -> None:
    """A live feed can send an instrument's mapping after a record of it went unmapped; the
    next record is named (InstrumentMap caches every lookup, the miss included)."""
    symbology = Symbology()
    day = (DAY0 - EPOCH).days
    xcbo = 22  # OPRA.PILLAR XCBO
    first = symbology.resolve(xcbo, 7, day)
    assert isinstance(first, Unresolved) and first.reason == "unmapped_instrument"
    symbology.add_mapping_record(
        dbn.SymbolMappingMsg(
            publisher_id=xcbo,
            instrument_id=7,
            ts_event=0,
            stype_in=dbn.SType.RAW_SYMBOL,
            stype_in_symbol="AAPL  250221C00250000",
            stype_out=dbn.SType.INSTRUMENT_ID,
            stype_out_symbol="7",
            start_ts=day * NS_PER_DAY,
            end_ts=(day + 1) * NS_PER_DAY,
        )
    )
    resolved = symbology.resolve(xcbo, 7, day)
    assert not isinstance(resolved, Unresolved)
    assert resolved[2] == "AAPL  250221C00250000"

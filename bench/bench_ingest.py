"""DBN ingest rate: decode + normalise + canonical order, events per second.

Writes a synthetic OPRA session (definitions + `tcbbo` trades + `cmbp-1` quotes over a few
hundred contracts) as DBN files, then times `iter_file_events` (the replay path) and the
record handler alone. Usage: `.venv/bin/python bench/bench_ingest.py [n_records]`.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

import databento_dbn as dbn
import zstandard

from ingest.databento import RecordNormaliser, bulk_file_events, iter_file_events, read_dbn
from schemas.occ import format_occ
from synth.dbn import day_mappings

T0 = 1_740_061_800_000_000_000  # 2025-02-20 14:30 UTC
DAY = dt.date(2025, 2, 20)
VENUES = [22, 23, 24, 26, 31, 35, 37]


def _contracts(n: int) -> dict[str, int]:
    out = {}
    for i in range(n):
        right = "C" if i % 2 else "P"
        strike = (150 + (i // 2) * 5) * 10**9
        out[format_occ("AAPL", 20250321, right, strike)] = 1_000_000 + i
    return out


def _metadata(symbols: dict[str, int], schema: dbn.Schema) -> dbn.Metadata:
    return dbn.Metadata(
        dataset="OPRA.PILLAR",
        start=T0 - 14 * 3600 * 10**9,
        stype_in=dbn.SType.RAW_SYMBOL,
        stype_out=dbn.SType.INSTRUMENT_ID,
        schema=schema,
        symbols=list(symbols),
        mappings=day_mappings(symbols.items(), DAY),
        end=T0 + 10 * 3600 * 10**9,
    )


def write_session(folder: Path, n_records: int, n_contracts: int = 400) -> list[Path]:
    """A definition file and a tcbbo file of `n_records` trades, zstd-compressed."""
    rng = random.Random(7)  # noqa: S311  (reproducible market data, not cryptography)
    symbols = _contracts(n_contracts)
    ids = list(symbols.values())
    zc = zstandard.ZstdCompressor(level=1)
    defs = [
        dbn.InstrumentDefMsg(
            publisher_id=30,
            instrument_id=iid,
            ts_event=T0 - 10**10,
            ts_recv=T0 - 10**10,
            min_price_increment=10**7,
            display_factor=10**9,
            raw_symbol=sym,
            asset="AAPL",
            security_type="OPT",
            instrument_class=dbn.InstrumentClass(sym[12]),
            security_update_action=dbn.SecurityUpdateAction.ADD,
            expiration=1_742_515_200_000_000_000,
            strike_price=int(sym[13:]) * 10**6,
            underlying="AAPL",
        )
        for sym, iid in symbols.items()
    ]
    def_path = folder / "synthetic.definition.dbn.zst"
    def_path.write_bytes(
        zc.compress(bytes(_metadata(symbols, dbn.Schema.DEFINITION)) + b"".join(map(bytes, defs)))
    )
    chunks = [bytes(_metadata(symbols, dbn.Schema.TCBBO))]
    ts = T0
    for _ in range(n_records):
        ts += rng.randint(1, 4_000_000)
        bid = rng.randint(100, 2_000) * 10**7
        rec = dbn.CMBP1Msg(
            rtype=dbn.RType.TCBBO,
            publisher_id=rng.choice(VENUES),
            instrument_id=rng.choice(ids),
            ts_event=ts - 150_000,
            price=bid + 5 * 10**6,
            size=rng.randint(1, 50),
            action=dbn.Action.TRADE,
            side=dbn.Side.NONE,
            ts_recv=ts,
            levels=dbn.ConsolidatedBidAskPair(
                bid_px=bid,
                ask_px=bid + 10**7,
                bid_sz=rng.randint(1, 500),
                ask_sz=rng.randint(1, 500),
                bid_pb=rng.choice(VENUES),
                ask_pb=rng.choice(VENUES),
            ),
        )
        chunks.append(bytes(rec))
    trades_path = folder / "synthetic.tcbbo.dbn.zst"
    trades_path.write_bytes(zc.compress(b"".join(chunks)))
    return [def_path, trades_path]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        paths = write_session(Path(tmp), n)
        print(f"wrote {n:,} tcbbo records in {time.perf_counter() - t:.1f} s")

        t = time.perf_counter()
        records = sum(1 for _ in read_dbn(paths[1]))
        dt_decode = time.perf_counter() - t
        print(f"decode only (read_dbn):          {records / dt_decode:>12,.0f} records/s")

        normaliser = RecordNormaliser()
        for _ in read_dbn(paths[0]):
            pass
        t = time.perf_counter()
        count = 0
        for record in read_dbn(paths[1]):
            count += len(normaliser(record)) if not isinstance(record, dbn.Metadata) else 0
        dt_norm = time.perf_counter() - t
        print(f"decode + normalise:              {count / dt_norm:>12,.0f} events/s")

        t = time.perf_counter()
        events = sum(1 for _ in iter_file_events(paths))
        dt_all = time.perf_counter() - t
        print(
            f"record path, 2 files merged (iter_file_events): "
            f"{events / dt_all:>12,.0f} events/s ({events:,} events in {dt_all:.2f} s)"
        )

        normaliser = RecordNormaliser()
        for _ in iter_file_events(paths[0], normaliser=normaliser):
            pass
        t = time.perf_counter()
        events = sum(1 for _ in bulk_file_events(paths[1], normaliser=normaliser))
        dt_bulk = time.perf_counter() - t
        print(
            f"bulk path, tcbbo file (bulk_file_events):       "
            f"{events / dt_bulk:>12,.0f} events/s ({events:,} events in {dt_bulk:.2f} s)"
        )


if __name__ == "__main__":
    main()

"""The CME column path gives exactly the record path's events and counters, each event once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import databento_dbn as dbn
import pytest

from ingest.databento import RecordNormaliser, iter_file_events
from ingest.databento.cme_columns import cme_file_events
from schemas.cme import CmeQuote, CmeTrade
from schemas.events import UNDEF_PRICE, UNDEF_TIMESTAMP, Quarantined
from schemas.ordering import HighWater, admit
from tests.unit.ingest.databento.glbx_records import (
    CLM5,
    LOM5_C70,
    call_option,
    future,
    sample,
    top_of_book,
    trade,
)
from tests.unit.ingest.dbn_files import T0, dbn_bytes, metadata, write_dbn

SYMBOLS = {"CLM5": CLM5, "LOM5 C7000": LOM5_C70, "CLN5": 5002}
DOLLAR = 10**9


def both_paths(paths: list[Path], chunk_records: int = 131_072, **options: bool) -> list:
    """The column path's events, checked against the record path's kept as the ingest
    service keeps them (a repeat of an event already admitted is dropped)."""
    by_records, by_columns = RecordNormaliser(**options), RecordNormaliser(**options)
    high_water: HighWater = {}
    records = list(iter_file_events(paths, normaliser=by_records))
    expected = [e for e in records if admit(high_water, e)]
    got = list(cme_file_events(paths, normaliser=by_columns, chunk_records=chunk_records))
    assert got == expected
    repeats = len(records) - len(expected)
    assert by_columns.counters == by_records.counters + Counter(repeated_event=repeats)
    return got


@pytest.mark.parametrize("folder", ["GLBX.MDP3", "GLBX.MDP3.options"])
def test_the_real_glbx_files_read_the_same_both_ways(shared_data: Path, folder: str):
    paths = sorted((shared_data / folder).glob("**/*.dbn.zst"))
    got = both_paths(paths, emit_books=True)
    assert any(isinstance(e, CmeQuote) for e in got)


def glbx_file(path: Path, schema: dbn.Schema, records: list[object]) -> Path:
    return write_dbn(path, metadata(SYMBOLS, dataset="GLBX.MDP3", schema=schema), records)


def test_rows_the_record_path_must_judge_keep_their_places_across_chunks(tmp_path: Path):
    definitions = glbx_file(
        tmp_path / "d.dbn.zst", dbn.Schema.DEFINITION, [future(), call_option()]
    )
    quotes, trades, samples = [], [], []
    for i in range(300):
        t = T0 + 1_000 * i
        iid = CLM5 if i % 3 else LOM5_C70
        quotes.append(top_of_book(iid, t, 70 * DOLLAR, 70 * DOLLAR + 10**7, sequence=i))
        trades.append(trade(iid, t + 500, 70 * DOLLAR, 1 + i % 4, "AB"[i % 2], sequence=i))
        samples.append(sample(iid, t, 70 * DOLLAR, 70 * DOLLAR + 10**7, t - 1))
    quotes[10] = top_of_book(CLM5, T0 + 10_000, 71 * DOLLAR, 70 * DOLLAR)  # crossed
    quotes[11] = top_of_book(CLM5, T0 + 11_000, UNDEF_PRICE, UNDEF_PRICE)  # empty
    quotes[12] = top_of_book(CLM5, T0 + 12_000, -DOLLAR, -DOLLAR // 2)  # a future below zero
    quotes[13] = top_of_book(5002, T0 + 13_000, DOLLAR, 2 * DOLLAR)  # no definition
    quotes[64] = top_of_book(9999, T0 + 64_000, DOLLAR, 2 * DOLLAR)  # unmapped
    trades[20] = trade(CLM5, T0 + 20_500, UNDEF_PRICE)
    trades[21] = trade(CLM5, T0 + 21_500, -DOLLAR)  # a future may trade below zero
    trades[22] = trade(LOM5_C70, T0 + 22_500, -DOLLAR)  # an option may not
    trades[63] = trade(CLM5, T0 + 63_500, DOLLAR, size=0)
    samples[30] = sample(CLM5, T0 + 30_000, DOLLAR, 2 * DOLLAR, UNDEF_TIMESTAMP)  # no trade yet
    paths = [
        definitions,
        glbx_file(tmp_path / "q.dbn.zst", dbn.Schema.MBP_1, quotes),
        glbx_file(tmp_path / "t.dbn.zst", dbn.Schema.TRADES, trades),
        glbx_file(tmp_path / "s.dbn.zst", dbn.Schema.BBO_1S, samples),
    ]
    got = both_paths(paths, chunk_records=64)
    reasons = sorted(e.reason for e in got if isinstance(e, Quarantined))
    assert reasons == sorted(["crossed_quote", "empty_quote", "missing_definition",
                              "unmapped_instrument", "undefined_price", "negative_price",
                              "nonpositive_size"])  # fmt: skip
    assert sum(isinstance(e, CmeTrade) for e in got) == 300 - 3
    assert sum(isinstance(e, CmeQuote) for e in got) == 300 - 4 + 300


def test_the_trades_of_trades_and_of_mbp_1_are_one_trade_each(shared_data: Path):
    folder = shared_data / "GLBX.MDP3"
    schemas = ("definition", "trades", "tbbo")
    normaliser = RecordNormaliser()
    got = list(
        cme_file_events([folder / f"test_data.{s}.dbn.zst" for s in schemas], normaliser=normaliser)
    )
    assert sum(isinstance(e, CmeTrade) for e in got) == 4  # tbbo repeats the 4 trades
    assert normaliser.counters["repeated_event"] == 4


def test_a_cut_file_goes_the_record_path_and_says_where_it_stops(tmp_path: Path):
    definitions = glbx_file(tmp_path / "d.dbn.zst", dbn.Schema.DEFINITION, [future()])
    meta = metadata(SYMBOLS, dataset="GLBX.MDP3", schema=dbn.Schema.TRADES)
    raw = dbn_bytes(meta, [trade(CLM5, T0 + i, DOLLAR, sequence=i) for i in range(5)])
    cut = tmp_path / "cut.dbn"
    cut.write_bytes(raw[:-7])
    got = both_paths([definitions, cut])
    assert isinstance(got[-1], Quarantined) and got[-1].reason == "truncated_dbn"
    assert sum(isinstance(e, CmeTrade) for e in got) == 4


def test_a_file_given_twice_gives_its_events_once_and_its_quarantines_twice(shared_data: Path):
    # As the ingest service would publish them: it admits a repeated event once, and keeps
    # every quarantine (they are not ordered, so never repeats).
    folder = shared_data / "GLBX.MDP3.options/options_exercise/databento"
    quotes = folder / "options_bbo-1m_2026-01-09T20-55_2026-01-09T21-05.dbn.zst"
    undefined = both_paths([folder / "futures_definition.dbn.zst", quotes, quotes])
    assert [e.reason for e in undefined if isinstance(e, Quarantined)] == [
        "missing_definition"
    ] * 16
    defined = both_paths([folder / "options_definition.dbn.zst", quotes, quotes])
    assert sum(isinstance(e, CmeQuote) for e in defined) == 8

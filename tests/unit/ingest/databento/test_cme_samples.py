"""Real GLBX.MDP3 files ingest to the CME events the files themselves describe.

Every expectation is read from the files with `databento` (`DBNStore.from_file`), not from
the normaliser: how many records of each kind, and the fields each event must carry.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import databento as db
import pytest

from ingest.databento import RecordNormaliser, bulk_file_events, iter_file_events
from schemas.book import F_LAST, Mbp10Event
from schemas.cme import CmeInstrument, CmeQuote, CmeStatistic, CmeTrade
from schemas.events import UNDEF_PRICE, Event, Quarantined

UNDEF_QTY = 2**63 - 1
CME_SCHEMAS = ("definition", "trades", "tbbo", "mbp-1", "mbp-10", "bbo-1s", "bbo-1m", "statistics")


@pytest.fixture
def glbx(shared_data: Path) -> dict[str, Path]:
    folder = shared_data / "GLBX.MDP3"
    return {schema: folder / f"test_data.{schema}.dbn.zst" for schema in CME_SCHEMAS}


@pytest.fixture
def es_options(shared_data: Path) -> Path:
    return shared_data / "GLBX.MDP3.options"


def records(path: Path) -> list:
    return list(db.DBNStore.from_file(path))


def of_type(events: list[Event], event_type: type) -> list:
    return [e for e in events if isinstance(e, event_type)]


def value(field: object) -> object:
    """An enum field's character or number as the record holds it."""
    return getattr(field, "value", field)


def none_if(value: int, undefined: int = UNDEF_PRICE) -> int | None:
    return None if value == undefined else value


def ingest(paths: list[Path], **options: bool) -> tuple[list[Event], RecordNormaliser]:
    normaliser = RecordNormaliser(**options)
    return list(iter_file_events(paths, normaliser=normaliser)), normaliser


def test_each_glbx_schema_gives_as_many_cme_events_as_the_file_has_records(glbx):
    got, normaliser = ingest(list(glbx.values()), emit_books=True)
    rows = {schema: records(path) for schema, path in glbx.items()}
    mbp1_trades = [r for r in rows["mbp-1"] if value(r.action) == "T"]
    tbbo_trades = [r for r in rows["tbbo"] if value(r.action) == "T"]
    expected = {
        CmeInstrument: len([r for r in rows["definition"] if value(r.instrument_class) in "FCP"]),
        CmeTrade: len(rows["trades"]) + len(tbbo_trades) + len(mbp1_trades),
        CmeQuote: len(rows["mbp-1"]) - len(mbp1_trades) + len(rows["bbo-1s"]) + len(rows["bbo-1m"]),
        CmeStatistic: len(rows["statistics"]),
        # One venue event per F_LAST record, and one for records a cut file leaves after it.
        Mbp10Event: sum(1 for r in rows["mbp-10"] if int(r.flags) & F_LAST)
        + (not int(rows["mbp-10"][-1].flags) & F_LAST),
    }
    assert {t: len(of_type(got, t)) for t in expected} == expected
    assert all(n > 0 for n in expected.values())
    assert not of_type(got, Quarantined)
    assert sum(len(e.records) for e in of_type(got, Mbp10Event)) == len(rows["mbp-10"])
    assert normaliser.counters["venue_bbo_dropped"] == len(tbbo_trades) + len(mbp1_trades)


def test_a_future_definition_carries_multiplier_tick_expiry_and_cfi(glbx):
    got, _ = ingest([glbx["definition"]])
    (row,) = records(glbx["definition"])
    (instrument,) = got
    assert isinstance(instrument, CmeInstrument)
    assert (instrument.symbol, instrument.instrument_class, instrument.asset) == (
        row.raw_symbol, "F", row.asset,
    )  # fmt: skip
    assert instrument.multiplier == row.unit_of_measure_qty == 50 * 10**9  # ES: $50 a point
    assert instrument.tick == row.min_price_increment == 250_000_000  # 0.25 index points
    assert instrument.expiration == row.expiration and instrument.cfi == row.cfi
    assert instrument.strike_price is None and instrument.underlying_id is None


def test_trades_keep_the_aggressor_side_price_and_size_of_each_record(glbx):
    got, _ = ingest([glbx["definition"], glbx["trades"]])
    trades = of_type(got, CmeTrade)
    expected = [
        (
            r.ts_recv,
            r.ts_event,
            r.instrument_id,
            r.sequence,
            r.price,
            r.size,
            value(r.side),
            int(r.flags),
        )
        for r in records(glbx["trades"])
    ]
    assert [
        (t.ts_recv, t.ts_event, t.instrument_id, t.sequence, t.price, t.size, t.side, t.flags)
        for t in trades
    ] == expected
    assert Counter(t.side for t in trades) == Counter({"B": 3, "A": 1})  # lifted 3x, hit once


def test_top_of_book_changes_and_samples_become_quotes_flagged_as_sampled(glbx):
    for schema, sampled in (("mbp-1", False), ("bbo-1s", True), ("bbo-1m", True)):
        got, _ = ingest([glbx["definition"], glbx[schema]])
        quotes = of_type(got, CmeQuote)
        expected = [
            (r.ts_recv, none_if(r.bid_px_00), none_if(r.ask_px_00), r.bid_sz_00, r.ask_sz_00)
            for r in records(glbx[schema])
            if value(getattr(r, "action", "")) != "T"
        ]
        assert [(q.ts_recv, q.bid_px, q.ask_px, q.bid_sz, q.ask_sz) for q in quotes] == expected
        assert {q.sampled for q in quotes} == {sampled}


def test_statistics_keep_their_type_and_value_undefined_ones_as_none(glbx):
    got, _ = ingest([glbx["definition"], glbx["statistics"]])
    expected = [
        (int(r.stat_type), none_if(r.price), none_if(r.quantity, UNDEF_QTY), r.sequence)
        for r in records(glbx["statistics"])
    ]
    stats = of_type(got, CmeStatistic)
    assert [(s.stat_type, s.price, s.quantity, s.sequence) for s in stats] == expected
    assert all(s.quantity is None and s.price is not None for s in stats)


def test_glbx_records_without_their_definition_are_quarantined_fail_closed(glbx):
    for schema in ("trades", "tbbo", "mbp-1", "bbo-1s", "bbo-1m", "statistics"):
        got, normaliser = ingest([glbx[schema]])
        assert [type(e) for e in got] == [Quarantined] * len(records(glbx[schema]))
        assert {e.reason for e in got} == {"missing_definition"}
        assert all("'ESH1'" in e.detail for e in got)
        assert normaliser.counters["quarantined:missing_definition"] == len(got)


def test_an_option_on_a_future_is_joined_to_its_future_by_its_definition(es_options):
    folder = es_options / "options_catalog/databento"
    got, _ = ingest(sorted(folder.glob("*definition.dbn.zst")))
    instruments = {e.instrument_id: e for e in of_type(got, CmeInstrument)}
    rows = [r for p in sorted(folder.glob("*definition.dbn.zst")) for r in records(p)]
    assert set(instruments) == {r.instrument_id for r in rows}
    puts = [e for e in instruments.values() if e.instrument_class == "P"]
    assert sorted(p.strike_price for p in puts) == [5230 * 10**9, 5250 * 10**9]
    for put in puts:
        future = instruments[put.underlying_id]
        assert (future.symbol, future.instrument_class) == ("ESM4", "F")
        assert put.underlying_symbol == future.symbol and put.asset == future.asset == "ES"
        assert put.expiration == future.expiration  # quarterly options expire with ESM4
        assert put.tick is None  # CME publishes a variable tick for these options
        assert put.cfi == "OPAFPS" and put.multiplier == future.multiplier == 50 * 10**9


def test_es_futures_and_puts_quotes_on_2024_05_09_are_all_cme_quotes(es_options):
    catalog = es_options / "options_catalog/databento"
    example = es_options / "option_catalog_example/databento"
    for folder, quotes in ((catalog, "*bbo-1m*"), (example, "options_mbp-1*")):
        paths = sorted(folder.glob("*definition.dbn.zst")) + sorted(folder.glob(quotes))
        got, _ = ingest(paths)
        quote_rows = [r for p in sorted(folder.glob(quotes)) for r in records(p)]
        by_instrument = Counter(q.instrument_id for q in of_type(got, CmeQuote))
        assert by_instrument == Counter(r.instrument_id for r in quote_rows)
        assert not of_type(got, Quarantined)
        names = {e.instrument_id: e.symbol for e in of_type(got, CmeInstrument)}
        assert {q.symbol for q in of_type(got, CmeQuote)} == {names[i] for i in by_instrument}


def test_a_sampled_quote_keeps_its_last_trades_time_however_old(es_options):
    folder = es_options / "options_catalog/databento"
    bbo = folder / "options_bbo-1m_2024-05-09T09-55_2024-05-09T10-05.dbn.zst"
    got, _ = ingest([folder / "options_definition.dbn.zst", bbo])
    quotes = of_type(got, CmeQuote)
    rows = records(bbo)
    assert sorted((q.ts_recv, q.instrument_id, q.ts_event) for q in quotes) == sorted(
        (r.ts_recv, r.instrument_id, r.ts_event) for r in rows
    )
    # The puts last traded on 2024-05-08: a consumer must age these quotes by ts_recv.
    day_ns = 86_400 * 10**9
    assert all(q.sampled and q.ts_recv // day_ns > q.ts_event // day_ns for q in quotes)


def test_the_column_path_hands_glbx_trades_to_the_record_path(glbx):
    by_records = RecordNormaliser()
    list(iter_file_events(glbx["definition"], normaliser=by_records))
    expected = list(iter_file_events(glbx["trades"], normaliser=by_records))
    by_columns = RecordNormaliser()
    list(iter_file_events(glbx["definition"], normaliser=by_columns))
    got = list(bulk_file_events(glbx["trades"], normaliser=by_columns))
    assert got == expected and [type(e) for e in got] == [CmeTrade] * 4
    assert by_columns.counters == by_records.counters

"""Databento normalisation rules, quarantines, canonical merging and the live/historical paths."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import threading
from pathlib import Path

import databento as db
import databento_dbn as dbn
import pytest

from ingest.databento import (
    DatabentoFileConfig,
    DatabentoFileSource,
    DatabentoHistoricalConfig,
    DatabentoHistoricalSource,
    DatabentoLiveConfig,
    DatabentoLiveSource,
    RecordNormaliser,
    bulk_file_events,
    iter_file_events,
    read_dbn,
)
from ingest.source import Source
from replay.sources import dbn_tables
from schemas.cme import CME_RAW_EVENTS, CmeInstrument
from schemas.events import (
    UNDEF_PRICE,
    UNDEF_TIMESTAMP,
    EquityPrint,
    OpenInterest,
    OptionContract,
    OptionPrint,
    OptionQuote,
    Quarantined,
)
from schemas.ordering import canonical_sort
from synth.dbn import SymbolInterval, SymbolMapping
from tests.unit.ingest.dbn_files import (
    DAY,
    OPRA_CONS,
    OPRA_XCBO,
    OPRA_XPHL,
    T0,
    cmbp1,
    dbn_bytes,
    metadata,
    option_definition,
    tcbbo,
    trade,
    write_dbn,
)

CALL = "AAPL  250221C00250000"
PUT = "AAPL  250221P00240000"
SYMBOLS = {CALL: 101, PUT: 102}


def run(path: Path | list[Path], **kwargs) -> tuple[list, RecordNormaliser]:
    normaliser = RecordNormaliser(**kwargs)
    return list(iter_file_events(path, normaliser=normaliser)), normaliser


def reasons(events: list) -> list[str]:
    return [e.reason for e in events if isinstance(e, Quarantined)]


# ------------------------------------------------------------------ normalisation rules


def test_tcbbo_trade_carries_the_nbbo_just_before_it(tmp_path):
    path = write_dbn(
        tmp_path / "a.tcbbo.dbn.zst",
        metadata(SYMBOLS),
        [tcbbo(101, T0, 2_500_000_000, 7, 2_400_000_000, 2_600_000_000)],
    )
    (event,), _ = run(path)
    assert isinstance(event, OptionPrint)
    assert (event.price, event.size, event.publisher_id) == (2_500_000_000, 7, OPRA_XCBO)
    assert (event.bid_px, event.ask_px, event.bid_sz, event.ask_sz) == (
        2_400_000_000,
        2_600_000_000,
        10,
        10,
    )
    assert (event.symbol, event.underlying) == (CALL, "AAPL")


def test_cmbp1_quote_updates_become_nbbo_quotes_and_its_trades_become_prints(tmp_path):
    path = write_dbn(
        tmp_path / "a.cmbp-1.dbn.zst",
        metadata(SYMBOLS),
        [
            cmbp1(101, T0, 1_000_000_000, 1_100_000_000),
            cmbp1(
                101,
                T0 + 1,
                1_000_000_000,
                1_100_000_000,
                action=dbn.Action.TRADE,
                price=1_100_000_000,
                size=3,
                publisher=OPRA_XCBO,
            ),
        ],
    )
    (quote, print_), _ = run(path)
    assert isinstance(quote, OptionQuote) and isinstance(print_, OptionPrint)
    assert (quote.publisher_id, quote.bid_pb, quote.ask_pb) == (OPRA_CONS, OPRA_XCBO, OPRA_XPHL)
    assert not quote.sampled  # every NBBO change: held in force until the next one
    assert (print_.bid_px, print_.ask_px) == (1_000_000_000, 1_100_000_000)


def test_definition_underlying_wins_over_the_occ_root(tmp_path):
    # An adjusted contract: OCC root AAPL1, deliverable AAPL.
    symbols = {"AAPL1 250221C00250000": 7}
    path = write_dbn(
        tmp_path / "adj.dbn",
        metadata(symbols),
        [
            option_definition(7, "AAPL1 250221C00250000", T0 - 10, underlying="AAPL"),
            trade(7, T0, 1_000_000_000, 1),
        ],
        zstd=False,
    )
    (contract, print_), _ = run(path)
    assert contract.underlying == print_.underlying == "AAPL"
    # Without a definition the OCC root is the underlying.
    path = write_dbn(tmp_path / "b.dbn", metadata(symbols), [trade(7, T0, 1_000_000_000, 1)])
    (print_,), _ = run(path)
    assert print_.underlying == "AAPL1"


def test_undefined_expiration_becomes_none(tmp_path):
    path = write_dbn(
        tmp_path / "d.dbn.zst",
        metadata(SYMBOLS),
        [option_definition(101, CALL, T0, expiration=UNDEF_TIMESTAMP)],
    )
    (contract,), _ = run(path)
    assert isinstance(contract, OptionContract) and contract.expiration is None


def test_one_sided_quote_keeps_the_missing_side_as_none(tmp_path):
    path = write_dbn(
        tmp_path / "q.dbn.zst",
        metadata(SYMBOLS),
        [cmbp1(101, T0, UNDEF_PRICE, 50_000_000, bid_sz=0)],
    )
    (quote,), _ = run(path)
    assert isinstance(quote, OptionQuote)
    assert (quote.bid_px, quote.ask_px, quote.bid_sz) == (None, 50_000_000, 0)


def test_open_interest_is_one_event_per_contract_per_day_and_again_when_it_changes(tmp_path):
    def stat(iid: int, ts: int, qty: int, publisher: int, seq: int) -> dbn.StatMsg:
        return dbn.StatMsg(
            publisher_id=publisher,
            instrument_id=iid,
            ts_event=ts,
            ts_recv=ts,
            ts_ref=UNDEF_TIMESTAMP,
            price=UNDEF_PRICE,
            quantity=qty,
            stat_type=dbn.StatType.OPEN_INTEREST,
            sequence=seq,
            update_action=dbn.StatUpdateAction.NEW,
        )

    records = [
        stat(101, T0, 500, 22, 1),
        stat(101, T0, 500, 35, 2),  # same value from another venue
        stat(102, T0, 80, 22, 3),  # another contract
        stat(101, T0 + 5, 520, 22, 4),  # changed value
        stat(101, T0 + 6, 520, 35, 5),
    ]
    path = write_dbn(tmp_path / "s.dbn.zst", metadata(SYMBOLS), records)
    got, normaliser = run(path)
    assert [(e.instrument_id, e.open_interest) for e in got] == [(101, 500), (102, 80), (101, 520)]
    assert all(isinstance(e, OpenInterest) for e in got)
    assert normaliser.counters["open_interest_duplicate"] == 2


def test_equity_prints_from_finra_trf_publishers_are_off_exchange(tmp_path):
    finn = int(db.Publisher.EQUS_PLUS_FINN.to_int())
    nasdaq = int(db.Publisher.EQUS_PLUS_XNAS.to_int())
    meta = metadata({"NVDA": 55}, dataset="EQUS.PLUS")
    path = write_dbn(
        tmp_path / "e.dbn.zst",
        meta,
        [
            trade(55, T0, 500 * 10**9, 10_000, publisher=finn),
            trade(55, T0 + 1, 500 * 10**9, 100, publisher=nasdaq),
        ],
    )
    dark, lit = run(path)[0]
    assert isinstance(dark, EquityPrint) and isinstance(lit, EquityPrint)
    assert (dark.venue, dark.off_exchange) == ("FINN", True)
    assert (lit.venue, lit.off_exchange) == ("XNAS", False)


def test_options_on_futures_of_other_futures_venues_normalise_through_their_definitions(
    tmp_path,
):
    ifeu = 57  # IFEU.IMPACT.IFEU: its options on futures are options (CME's are schemas.cme's)
    glbx = ifeu
    symbols = {"ESH1 C3700": 9001, "ESH1": 5482}
    meta = metadata(symbols, dataset="IFEU.IMPACT")
    option_def = option_definition(
        9001,
        "ESH1 C3700",
        T0 - 100,
        underlying="ESH1",
        strike=3700 * 10**9,
        publisher=glbx,
        asset="ES",
        security_type="OOF",
    )
    future_def = option_definition(
        5482,
        "ESH1",
        T0 - 100,
        underlying="",
        instrument_class="F",
        strike=UNDEF_PRICE,
        publisher=glbx,
        asset="ES",
        security_type="FUT",
    )
    path = write_dbn(
        tmp_path / "glbx.dbn.zst",
        meta,
        [
            future_def,
            option_def,
            trade(9001, T0, 25 * 10**9, 2, publisher=glbx),
            trade(5482, T0 + 1, 3700 * 10**9, 1, publisher=glbx),
        ],
    )
    got, _ = run(path)
    contract, print_, future = got
    assert isinstance(contract, OptionContract) and contract.underlying == "ESH1"
    assert contract.strike_price == 3700 * 10**9 and contract.right == "C"
    assert isinstance(print_, OptionPrint) and print_.underlying == "ESH1"
    assert isinstance(future, Quarantined) and future.reason == "unsupported_instrument_class"


def test_a_stale_definition_for_a_reused_instrument_id_is_not_used(tmp_path):
    # Yesterday's definition says id 101 was a put; today's mapping says it is the call.
    path = write_dbn(
        tmp_path / "x.dbn.zst",
        metadata(SYMBOLS),
        [option_definition(101, PUT, T0 - 10, underlying="OLD"), trade(101, T0, 10**9, 1)],
    )
    got, _ = run(path)
    assert got[-1].symbol == CALL and got[-1].underlying == "AAPL"


def test_parent_symbology_files_are_named_by_their_definitions_not_the_parent(tmp_path):
    def parent_metadata() -> dbn.Metadata:
        meta = metadata({"AAPL.OPT": 101})
        return dbn.Metadata(
            dataset="OPRA.PILLAR",
            start=meta.start,
            stype_in=dbn.SType.PARENT,
            stype_out=dbn.SType.INSTRUMENT_ID,
            schema=None,
            symbols=["AAPL.OPT"],
            mappings=[
                SymbolMapping(
                    "AAPL.OPT",
                    [
                        SymbolInterval(DAY, DAY + dt.timedelta(days=1), "101"),
                        SymbolInterval(DAY, DAY + dt.timedelta(days=1), "102"),
                    ],
                )
            ],
            end=meta.end,
        )

    defs = write_dbn(tmp_path / "d.dbn.zst", parent_metadata(), [option_definition(101, CALL, T0)])
    trades = write_dbn(
        tmp_path / "t.dbn.zst",
        parent_metadata(),
        [trade(101, T0 + 1, 10**9, 1), trade(102, T0 + 2, 10**9, 1)],
    )
    got, normaliser = run([defs, trades])
    contract, print_, unnamed = got
    assert isinstance(print_, OptionPrint) and print_.symbol == CALL
    assert isinstance(unnamed, Quarantined) and unnamed.reason == "unmapped_instrument"
    assert normaliser.counters["metadata_mappings_not_raw_symbols"] == 2


# ------------------------------------------------------------------------- quarantines


def test_unmapped_instrument_is_quarantined_and_counted_never_guessed(tmp_path):
    path = write_dbn(
        tmp_path / "u.dbn.zst",
        metadata(SYMBOLS),
        [trade(999, T0, 10**9, 1), trade(101, T0 + 1, 10**9, 1)],
    )
    got, normaliser = run(path)
    assert isinstance(got[0], Quarantined) and got[0].reason == "unmapped_instrument"
    assert "instrument_id=999" in got[0].detail and got[0].payload  # raw record kept
    assert isinstance(got[1], OptionPrint) and got[1].symbol == CALL
    assert normaliser.counters["unmapped_instrument"] == 1


def test_mapping_is_per_day_an_id_outside_its_interval_is_unmapped(tmp_path):
    next_day = T0 + 86_400 * 10**9
    path = write_dbn(tmp_path / "n.dbn.zst", metadata(SYMBOLS), [trade(101, next_day, 10**9, 1)])
    assert reasons(run(path)[0]) == ["unmapped_instrument"]


def test_bad_quotes_and_prints_are_quarantined_with_reasons(tmp_path):
    records = [
        cmbp1(101, T0, 2_000_000_000, 1_000_000_000),  # crossed
        cmbp1(101, T0 + 1, UNDEF_PRICE, UNDEF_PRICE, bid_sz=0, ask_sz=0),  # empty
        cmbp1(101, T0 + 2, 0, 0, bid_sz=0, ask_sz=0),  # zero
        trade(101, T0 + 3, 10**9, 0),  # zero size
        trade(101, T0 + 4, UNDEF_PRICE, 5),  # no price
        trade(101, T0 + 5, -(10**9), 5),  # negative price
        cmbp1(101, T0 + 6, 1_000_000_000, 1_000_000_000),  # locked: fine
    ]
    got, _ = run(write_dbn(tmp_path / "bad.dbn.zst", metadata(SYMBOLS), records))
    assert reasons(got) == [
        "crossed_quote",
        "empty_quote",
        "empty_quote",
        "nonpositive_size",
        "undefined_price",
        "negative_price",
    ]
    assert isinstance(got[-1], OptionQuote)


def test_garbage_file_is_one_quarantine(tmp_path):
    path = tmp_path / "garbage.dbn"
    path.write_bytes(b"this is not DBN" * 20)
    got, _ = run(path)
    assert reasons(got) == ["malformed_dbn"]


def test_truncated_file_keeps_its_whole_records_and_quarantines_the_tail(tmp_path):
    raw = dbn_bytes(metadata(SYMBOLS), [trade(101, T0 + i, 10**9, 1, sequence=i) for i in range(3)])
    path = tmp_path / "cut.dbn"
    path.write_bytes(raw[:-5])
    got, _ = run(path)
    assert [type(e) for e in got] == [OptionPrint, OptionPrint, Quarantined]
    assert got[-1].reason == "truncated_dbn"


def test_corrupt_zstd_is_quarantined(tmp_path):
    good = write_dbn(tmp_path / "ok.dbn.zst", metadata(SYMBOLS), [trade(101, T0, 10**9, 1)])
    data = bytearray(good.read_bytes())
    data[20:40] = b"\x00" * 20
    bad = tmp_path / "bad.dbn.zst"
    bad.write_bytes(bytes(data))
    assert reasons(run(bad)[0]) == ["malformed_dbn"]


def test_garbage_records_after_a_valid_header_are_quarantined_not_raised(tmp_path):
    raw = bytes(metadata(SYMBOLS)) + bytes([12, 0]) + b"\x07" * 46  # a "trade" of junk
    path = tmp_path / "junk.dbn"
    path.write_bytes(raw)
    got, _ = run(path)
    assert len(got) == 1 and isinstance(got[0], Quarantined)
    assert got[0].reason in {"unknown_publisher", "unmapped_instrument", "malformed_dbn"}


@pytest.mark.parametrize("length_byte", [0, 9, 13])  # 48-byte trades: 12 is right
def test_bulk_path_quarantines_a_row_whose_length_byte_is_not_its_records(tmp_path, length_byte):
    records = [trade(101, T0 + i, 10**9, 1, sequence=i) for i in range(4)]
    records[2] = trade(999, T0 + 2, 10**9, 1, sequence=2)  # unmapped: the record path's row
    meta = metadata(SYMBOLS, schema=dbn.Schema.TRADES)
    raw = bytearray(dbn_bytes(meta, records))
    raw[len(bytes(meta)) + 2 * len(bytes(records[0]))] = length_byte
    path = tmp_path / "bent.trades.dbn"
    path.write_bytes(bytes(raw))
    got = list(bulk_file_events(path, normaliser=RecordNormaliser()))
    assert [type(e) for e in got] == [OptionPrint, OptionPrint, Quarantined, OptionPrint]
    assert got[2].reason == "malformed_dbn" and f"({length_byte})" in got[2].detail


@pytest.mark.parametrize("side", [b"X", b"\xb3"])
def test_bulk_path_leaves_a_trade_of_unknown_side_to_the_record_path(tmp_path, side):
    records = [trade(101, T0 + i, 10**9, 1, sequence=i) for i in range(3)]
    meta = metadata(SYMBOLS, schema=dbn.Schema.TRADES)
    raw = bytearray(dbn_bytes(meta, records))
    one = bytes(records[0])
    raw[len(bytes(meta)) + len(one) + one.index(b"TN") + 1] = side[0]  # action T, side N
    path = tmp_path / "side.trades.dbn"
    path.write_bytes(bytes(raw))
    slow, slow_norm = run(path)
    fast_norm = RecordNormaliser()
    fast = list(bulk_file_events(path, normaliser=fast_norm))
    assert fast == slow
    assert fast_norm.counters == slow_norm.counters
    assert reasons(fast) == ["unparseable_record"]


@pytest.mark.parametrize(
    ("ts_recv", "ts_event", "reason"),
    [(2**63 + 5, T0, "ts_recv_out_of_range"), (T0 + 1, 2**63, "ts_event_out_of_range")],
)
def test_a_time_beyond_int64_is_quarantined_on_every_path(tmp_path, ts_recv, ts_event, reason):
    # DBN times are u64; flowtape's (DateTime64, Arrow) are int64: such a time cannot be stored.
    records = [trade(101, T0 + i, 10**9, 1, sequence=i) for i in range(3)]
    bent = trade(101, ts_recv, 10**9, 1, sequence=1)
    bent.ts_event = ts_event
    records[1] = bent
    path = write_dbn(tmp_path / "far.trades.dbn.zst", metadata(SYMBOLS, schema=dbn.Schema.TRADES),
                     records)  # fmt: skip
    slow, slow_norm = run(path)
    fast_norm = RecordNormaliser()
    fast = list(bulk_file_events(path, normaliser=fast_norm))
    assert fast == slow and fast_norm.counters == slow_norm.counters
    assert reasons(slow) == [reason]
    assert all(event.ts_recv < 2**63 for event in slow)
    tables, _ = dbn_tables([path])
    assert tables[Quarantined].column("reason").to_pylist() == [reason]


# ---------------------------------------------------------------------- merging, order


def test_several_files_merge_in_canonical_order_and_a_broken_one_does_not_stop_the_rest(tmp_path):
    defs = write_dbn(
        tmp_path / "d.definition.dbn.zst",
        metadata(SYMBOLS),
        [
            option_definition(101, CALL, T0 - 1000),
            option_definition(102, PUT, T0 - 1000, instrument_class="P", strike=240 * 10**9),
        ],
    )
    quotes = write_dbn(
        tmp_path / "q.cmbp-1.dbn.zst",
        metadata(SYMBOLS),
        [cmbp1(101, T0 + 10 * i, 10**9, 11 * 10**8) for i in range(50)]
        + [cmbp1(102, T0 + 10 * i + 5, 10**9, 11 * 10**8) for i in range(50)],
    )
    # Sort quotes by ts_recv as Databento files are.
    q_records = sorted(
        [r for r in read_dbn(quotes) if not isinstance(r, dbn.Metadata)], key=lambda r: r.ts_recv
    )
    write_dbn(quotes, metadata(SYMBOLS), q_records)
    trades = write_dbn(
        tmp_path / "t.trades.dbn.zst",
        metadata(SYMBOLS),
        # Same ts_recv as quotes: the quote must come first in canonical order.
        [
            trade(101 + i % 2, T0 + 10 * i, 10**9, 1, publisher=OPRA_XPHL - i % 3, sequence=i)
            for i in range(100)
        ],
    )
    broken = tmp_path / "broken.dbn"
    broken.write_bytes(b"\x00\x01junk")
    got, normaliser = run([broken, trades, defs, quotes])
    assert got == canonical_sort(got)
    kinds = {type(e) for e in got}
    assert {OptionContract, OptionQuote, OptionPrint, Quarantined} <= kinds
    assert reasons(got) == ["malformed_dbn"]
    assert sum(isinstance(e, OptionPrint) for e in got) == 100
    assert sum(isinstance(e, OptionQuote) for e in got) == 100
    # Merging is order-independent.
    assert run([quotes, defs, trades, broken])[0] == got


def test_unordered_recording_needs_a_window_or_full_sort(tmp_path):
    path = write_dbn(
        tmp_path / "live.dbn.zst",
        metadata(SYMBOLS),
        [trade(101, T0 + dt, 10**9, 1, sequence=dt) for dt in (10, 5, 20, 18, 30)],
    )
    in_order = [T0 + dt for dt in (5, 10, 18, 20, 30)]
    full = list(iter_file_events(path, reorder_window_ns=None))
    windowed = list(iter_file_events(path, reorder_window_ns=10))
    assert [e.ts_recv for e in full] == [e.ts_recv for e in windowed] == in_order
    streamed = list(iter_file_events(path, reorder_window_ns=0))
    late = [e for e in streamed if isinstance(e, Quarantined)]
    assert [e.reason for e in late] == ["out_of_order", "out_of_order"]
    assert b"option_print" in late[0].payload  # the late event is kept, encoded
    assert [e.ts_recv for e in streamed if isinstance(e, OptionPrint)] == [
        T0 + 10,
        T0 + 20,
        T0 + 30,
    ]


def test_bulk_path_gives_the_same_events_and_counters_as_the_record_path(tmp_path):
    records = [
        tcbbo(101 + i % 2, T0 + i // 2, 10**9 + i, 1 + i % 5, 9 * 10**8, 11 * 10**8)
        for i in range(2000)
    ]
    records[17] = tcbbo(999, T0 + 8, 10**9, 1, 9 * 10**8, 11 * 10**8)  # unmapped
    records[300] = tcbbo(101, T0 + 150, UNDEF_PRICE, 1, 9 * 10**8, 11 * 10**8)
    records[301] = tcbbo(101, T0 + 150, 10**9, 0, 9 * 10**8, 11 * 10**8)
    records[1999] = tcbbo(101, UNDEF_TIMESTAMP, 10**9, 1, 9 * 10**8, 11 * 10**8)
    path = write_dbn(
        tmp_path / "b.tcbbo.dbn.zst", metadata(SYMBOLS, schema=dbn.Schema.TCBBO), records
    )
    slow, slow_norm = run(path)
    fast_norm = RecordNormaliser()
    fast = list(bulk_file_events(path, normaliser=fast_norm, chunk_records=256))
    assert fast == slow
    assert fast_norm.counters == slow_norm.counters
    assert reasons(fast) == [
        "unmapped_instrument",
        "undefined_price",
        "nonpositive_size",
        "undefined_ts_recv",
    ]


# --------------------------------------------------------------- async, live, historical


async def test_file_source_is_a_source_and_streams_asynchronously(shared_data: Path):
    path = shared_data / "OPRA.PILLAR/test_data.trades.dbn.zst"
    source = DatabentoFileSource(DatabentoFileConfig(paths=[str(path)], yield_every=1))
    assert isinstance(source, Source)
    await source.connect()
    got = [event async for event in source.events()]
    await source.close()
    assert got == list(iter_file_events(path))


async def test_live_callback_path_gives_the_same_events_as_the_file_path(shared_data: Path):
    files = [
        shared_data / "OPRA.PILLAR/test_data.definition.dbn.zst",
        shared_data / "OPRA.PILLAR/test_data.tbbo.dbn.zst",
    ]
    source = DatabentoLiveSource(
        DatabentoLiveConfig(dataset="OPRA.PILLAR", schemas=["tbbo"], symbols=["AAPL.OPT"])
    )
    source.attach_loop(asyncio.get_running_loop())
    records = []
    for path in files:
        store = db.DBNStore.from_file(path)
        source.normaliser.add_metadata(store.metadata)
        records.extend(store)

    def gateway() -> None:  # the live client's thread
        for record in records:
            source.on_record(record)
        source.end_of_stream()

    thread = threading.Thread(target=gateway)
    thread.start()
    got = [event async for event in source.events()]
    thread.join()
    assert got == list(iter_file_events(files))


async def test_live_session_with_symbol_mapping_records_resolves_symbols_from_them(
    shared_data: Path,
):
    path = shared_data / "LIVE/test_data.live.dbn.zst"
    source = DatabentoLiveSource(
        DatabentoLiveConfig(dataset="GLBX.MDP3", schemas=["mbp-1"], symbols=["ESZ4"])
    )
    source.attach_loop(asyncio.get_running_loop())
    store = db.DBNStore.from_file(path)  # live metadata carries no mappings
    store.replay(source.on_record)
    source.end_of_stream()
    got = [event async for event in source.events()]
    assert source.normaliser.counters["symbol_mappings"] == 20
    # ESZ4's records before its definition fail closed; those after it are CME events.
    definition = next(i for i, e in enumerate(got) if isinstance(e, CmeInstrument))
    before, after = got[:definition], got[definition:]
    assert before and all(e.reason == "missing_definition" for e in before)
    assert all("'ESZ4'" in e.detail for e in before)  # mapped via SymbolMappingMsg
    assert after and all(isinstance(e, CME_RAW_EVENTS) for e in after)
    assert {e.symbol for e in after} == {"ESZ4"}


async def test_historical_source_normalises_what_it_downloads(tmp_path, shared_data: Path):
    sample = shared_data / "OPRA.PILLAR/test_data.trades.dbn.zst"

    def fetch(config: DatabentoHistoricalConfig, path: Path) -> None:
        shutil.copy(sample, path)

    config = DatabentoHistoricalConfig(
        dataset="OPRA.PILLAR",
        schema="trades",
        symbols=[CALL],
        start="2025-02-20",
        end="2025-02-21",
        download_dir=str(tmp_path),
    )
    source = DatabentoHistoricalSource(config, fetch=fetch)
    await source.connect()
    got = [event async for event in source.events()]
    assert got == list(iter_file_events(sample))
    # The same callback shape works with DBNStore.replay.
    normaliser = RecordNormaliser()
    store = db.DBNStore.from_file(sample)
    normaliser.add_metadata(store.metadata)
    sink: list = []
    store.replay(normaliser.callback(sink.extend))
    assert sink == got


def test_live_source_refuses_to_start_without_an_api_key():
    from ingest.databento.config import MissingApiKey, api_key

    with pytest.raises(MissingApiKey):
        api_key("")
    assert api_key("db-realistic-key") == "db-realistic-key"


class RecordedGateway:
    """Stands in for `databento.Live`: plays recorded records to the callback on a thread."""

    def __init__(self, paths: list[Path]) -> None:
        self.records = [r for p in paths for r in db.DBNStore.from_file(p)]
        self.metadata = [db.DBNStore.from_file(p).metadata for p in paths]
        self.subscriptions: list[dict] = []
        self._done = threading.Event()

    def subscribe(self, **kwargs) -> None:
        self.subscriptions.append(kwargs)

    def add_callback(self, record_callback, exception_callback=None) -> None:
        self.callback = record_callback

    def start(self) -> None:
        def play() -> None:
            for record in self.records:
                self.callback(record)
            self._done.set()

        threading.Thread(target=play, daemon=True).start()

    async def wait_for_close(self) -> None:
        await asyncio.to_thread(self._done.wait, 5)

    def stop(self) -> None:
        self._done.set()


async def test_live_source_wires_subscriptions_and_callback_of_the_client(shared_data: Path):
    files = [
        shared_data / "OPRA.PILLAR/test_data.definition.dbn.zst",
        shared_data / "OPRA.PILLAR/test_data.trades.dbn.zst",
    ]
    gateway = RecordedGateway(files)
    config = DatabentoLiveConfig(
        dataset="OPRA.PILLAR",
        schemas=["definition", "trades"],
        symbols=["AAPL.OPT"],
        stype_in="parent",
    )
    source = DatabentoLiveSource(config, client_factory=lambda: gateway)
    await source.connect()
    got = [event async for event in source.events()]
    await source.close()
    assert [s["schema"] for s in gateway.subscriptions] == ["definition", "trades"]
    assert all(s["stype_in"] == "parent" for s in gateway.subscriptions)
    # Live carries no file mappings: the definition names the contract.
    assert [type(e) for e in got] == [OptionContract] + [OptionPrint] * 4
    assert all(e.symbol == CALL for e in got)

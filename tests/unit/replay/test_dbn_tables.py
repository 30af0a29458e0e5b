"""DBN files read as raw Arrow tables give, table for table and row for row, what the event
path gives: `events_to_arrow` of `dbn_events`, grouped by type."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import databento_dbn as dbn
import pyarrow as pa
import pytest

from infra.warehouse import events_to_arrow
from replay.sources import dbn_events, dbn_tables
from schemas.events import EquityPrint, Event, OptionPrint, OptionQuote, Quarantined
from schemas.raw_arrow import RAW_SCHEMAS
from synth.config import SynthConfig, hard_config
from synth.session import generate_session, write_session
from tests.unit.ingest.dbn_files import (
    OPRA_CONS,
    T0,
    cmbp1,
    metadata,
    option_definition,
    tcbbo,
    trade,
    write_dbn,
)

CALL, PUT = "AAPL  250221C00250000", "AAPL  250221P00250000"
SYMBOLS = {CALL: 1, PUT: 2}
PX = 1_250_000_000


def event_tables(paths: list[Path]) -> dict[type[Event], pa.Table]:
    """The event path's tables: `dbn_events` grouped by type, as the writer converts them."""
    grouped: defaultdict[type[Event], list[Event]] = defaultdict(list)
    events, _ = dbn_events(paths)
    for event in events:
        grouped[type(event)].append(event)
    return {
        event_type: events_to_arrow(group, run_id="r", log_seqs=[0] * len(group)).drop_columns(
            ["run_id", "log_seq"]
        )
        for event_type, group in grouped.items()
    }


def assert_same_tables(paths: list[Path]) -> dict[type[Event], pa.Table]:
    expected = event_tables(paths)
    got, span = dbn_tables(paths)
    assert span == dbn_events(paths)[1]
    assert set(got) == set(expected)
    for event_type, table in got.items():
        assert table.schema.equals(RAW_SCHEMAS[event_type])
        assert table.equals(expected[event_type]), event_type.__name__
    return got


def dbn_paths(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.dbn.zst"))


@pytest.mark.parametrize(
    "config",
    [SynthConfig(seed=5, minutes=2), hard_config(seed=2, minutes=2, n_underlyings=6)],
    ids=["standard", "hard"],
)
def test_a_synthetic_session_reads_as_the_event_path_tables(
    config: SynthConfig, tmp_path: Path
) -> None:
    paths = [p for p in write_session(generate_session(config), tmp_path) if p.suffix == ".zst"]
    got = assert_same_tables(paths)
    assert got[OptionPrint].num_rows > 1000 and got[OptionQuote].num_rows > 1000


@pytest.mark.parametrize("dataset", ["OPRA.PILLAR", "EQUS.MINI", "GLBX.MDP3", "XNAS.ITCH", "LIVE"])
def test_each_databento_sample_reads_as_the_event_path_tables(
    shared_data: Path, dataset: str
) -> None:
    assert_same_tables(dbn_paths(shared_data / dataset))


def test_every_databento_sample_merged_reads_as_the_event_path_tables(shared_data: Path) -> None:
    got = assert_same_tables(sorted(shared_data.glob("*/*.dbn.zst")))
    assert got[Quarantined].num_rows > 0


def bad_session(folder: Path) -> list[Path]:
    """Definitions, a tcbbo file with every kind of bad print (and rows out of order, and
    exact duplicates), a cmbp-1 file with bad quotes and a trade among them, and a trades
    file whose prints the session does not take."""
    definitions = write_dbn(
        folder / "day.definition.dbn.zst",
        metadata(SYMBOLS, schema=dbn.Schema.DEFINITION),
        [option_definition(1, CALL, T0 - 10**9), option_definition(2, PUT, T0 - 10**9)],
    )
    undefined_ts_event = tcbbo(1, T0 + 900, PX, 1, PX - 10, PX + 10)
    undefined_ts_event.ts_event = 2**64 - 1
    undefined_ts_recv = tcbbo(2, T0 + 950, PX, 1, PX - 10, PX + 10)
    undefined_ts_recv.ts_recv = 2**64 - 1
    prints = [
        tcbbo(1, T0 + 100, PX, 3, PX - 10, PX + 10),
        tcbbo(2, T0 + 100, PX, 3, PX - 10, 2**63 - 1),  # no ask: NULL
        tcbbo(1, T0 + 200, 2**63 - 1, 3, PX - 10, PX + 10),  # undefined price
        tcbbo(1, T0 + 300, PX, 0, PX - 10, PX + 10),  # zero size
        tcbbo(99, T0 + 400, PX, 1, PX - 10, PX + 10),  # unmapped
        tcbbo(1, T0 + 500, -5, 1, PX - 10, PX + 10),  # negative price
        tcbbo(2, T0 + 450, PX, 2, PX - 10, PX + 10),  # out of order
        tcbbo(1, T0 + 600, PX, 2, PX - 10, PX + 10),
        tcbbo(1, T0 + 600, PX, 2, PX - 10, PX + 10),  # an exact duplicate
        tcbbo(2, T0 + 600, PX + 1, 2, PX - 10, PX + 10),
        undefined_ts_event,
        undefined_ts_recv,
        tcbbo(2, T0 + 550, PX, 4, PX - 10, PX + 10),  # out of order after bad rows
        tcbbo(2, T0 + 2000, PX, 5, PX - 10, PX + 10),
    ]
    tcbbo_file = write_dbn(
        folder / "day.tcbbo.dbn.zst", metadata(SYMBOLS, schema=dbn.Schema.TCBBO), prints
    )
    quotes = [
        cmbp1(1, T0 + 50, PX - 10, PX + 10),
        cmbp1(2, T0 + 100, PX + 20, PX + 10),  # crossed
        cmbp1(1, T0 + 150, 2**63 - 1, 2**63 - 1),  # empty
        cmbp1(1, T0 + 600, PX - 5, PX + 5, action=dbn.Action.TRADE, price=-1, size=1),
        cmbp1(2, T0 + 700, PX - 5, PX + 5, publisher=OPRA_CONS),
    ]
    cmbp_file = write_dbn(
        folder / "day.cmbp-1.dbn.zst", metadata(SYMBOLS, schema=dbn.Schema.CMBP_1), quotes
    )
    trades = write_dbn(
        folder / "day.trades.dbn.zst",
        metadata(SYMBOLS, schema=dbn.Schema.TRADES),
        [trade(1, T0 + 100, PX, 3), trade(1, T0 + 200, 2**63 - 1, 3)],
    )
    return [tcbbo_file, definitions, cmbp_file, trades]


def test_bad_rows_become_the_event_paths_quarantines(tmp_path: Path) -> None:
    got = assert_same_tables(bad_session(tmp_path))
    reasons = got[Quarantined].column("reason").to_pylist()
    for reason in ("undefined_price", "nonpositive_size", "unmapped_instrument",
                   "negative_price", "out_of_order", "undefined_ts_event", "undefined_ts_recv",
                   "crossed_quote", "empty_quote"):  # fmt: skip
        assert reason in reasons
    assert reasons.count("out_of_order") == 2
    prints = got[OptionPrint]
    assert prints.num_rows == 6  # the good tcbbo rows, the duplicate kept; none from trades
    assert prints.column("ask_px").null_count == 1


def test_a_print_file_cut_short_reads_as_the_event_path_tables(tmp_path: Path) -> None:
    paths = bad_session(tmp_path)
    prints = [tcbbo(1 + n % 2, T0 + 100 * n, PX + n, 1, PX - 10, PX + 10) for n in range(10)]
    raw = b"".join([bytes(metadata(SYMBOLS, schema=dbn.Schema.TCBBO)), *map(bytes, prints)])
    cut = tmp_path / "cut.tcbbo.dbn"
    cut.write_bytes(raw[:-7])
    paths[0].unlink()
    got = assert_same_tables([cut, *paths[1:]])
    assert "truncated_dbn" in got[Quarantined].column("reason").to_pylist()
    assert got[OptionPrint].num_rows == 9


def mbp1(
    iid: int, ts_recv: int, bid: int, ask: int, *, publisher: int, action: str = "A",
    price: int = 0, size: int = 0, sequence: int = 1,
) -> dbn.MBP1Msg:  # fmt: skip
    return dbn.MBP1Msg(
        publisher_id=publisher, instrument_id=iid, ts_event=ts_recv - 100, price=price,
        size=size, action=dbn.Action(action), side=dbn.Side.BID, depth=0, ts_recv=ts_recv,
        sequence=sequence, levels=dbn.BidAskPair(bid_px=bid, ask_px=ask, bid_sz=5, ask_sz=7),
    )  # fmt: skip


XNAS = 2
AAPL_EQUITY = {"AAPL": 77}


def quote_session(folder: Path) -> list[Path]:
    """Top-of-book change files as the print sources: OPRA cmbp-1 (trades among its quotes,
    bad and out-of-order quotes), OPRA mbp-1 (venue quotes, skipped; its trades not taken)
    and XNAS mbp-1 equity quotes and trades, bad ones too."""
    definitions = write_dbn(
        folder / "d.definition.dbn.zst",
        metadata(SYMBOLS, schema=dbn.Schema.DEFINITION),
        [option_definition(1, CALL, T0 - 10**9), option_definition(2, PUT, T0 - 10**9)],
    )
    undefined_ts_event = cmbp1(2, T0 + 700, PX - 5, PX + 5)
    undefined_ts_event.ts_event = 2**64 - 1
    trade_rows = {"action": dbn.Action.TRADE, "price": PX, "size": 2}
    consolidated = [
        cmbp1(1, T0 + 100, PX - 10, PX + 10),
        cmbp1(1, T0 + 200, PX - 10, PX + 10, **trade_rows),  # a print: this file gives them
        cmbp1(2, T0 + 300, 0, 2**63 - 1, bid_sz=0),  # empty
        cmbp1(2, T0 + 250, PX - 10, PX + 10),  # out of order
        cmbp1(99, T0 + 400, PX - 10, PX + 10),  # unmapped
        cmbp1(1, T0 + 500, 2**63 - 1, PX + 10),  # one-sided: a quote
        cmbp1(1, T0 + 450, PX - 10, PX + 10, **trade_rows),  # a late print
        undefined_ts_event,
        cmbp1(2, T0 + 800, PX - 10, PX + 10, publisher=OPRA_CONS),
    ]
    venue = [
        mbp1(1, T0 + 150, PX - 10, PX + 10, publisher=22),  # venue quote: skipped
        mbp1(1, T0 + 160, PX - 10, PX + 10, publisher=22, action="T", price=PX, size=1),
        mbp1(1, T0 + 170, PX - 10, PX + 10, publisher=22, action="T", price=-1, size=1),
    ]
    equity = [
        mbp1(77, T0 + 100, PX - 10, PX + 10, publisher=XNAS, sequence=1),
        mbp1(77, T0 + 120, PX + 10, PX - 10, publisher=XNAS, sequence=2),  # crossed
        mbp1(77, T0 + 130, PX, PX, publisher=XNAS, action="T", price=PX, size=100, sequence=3),
        mbp1(77, T0 + 110, PX - 9, PX + 9, publisher=XNAS, sequence=4),  # out of order
        mbp1(77, T0 + 140, -3, PX, publisher=XNAS, sequence=5),  # negative price
        mbp1(77, T0 + 900, PX - 9, PX + 9, publisher=XNAS, sequence=6),
    ]
    return [
        write_dbn(
            folder / "opra.cmbp-1.dbn.zst",
            metadata(SYMBOLS, schema=dbn.Schema.CMBP_1),
            consolidated,
        ),
        definitions,
        write_dbn(folder / "opra.mbp-1.dbn.zst", metadata(SYMBOLS, schema=dbn.Schema.MBP_1), venue),
        write_dbn(
            folder / "xnas.mbp-1.dbn.zst",
            metadata(AAPL_EQUITY, dataset="XNAS.ITCH", schema=dbn.Schema.MBP_1),
            equity,
        ),
    ]


def test_top_of_book_files_read_as_the_event_path_tables(tmp_path: Path) -> None:
    got = assert_same_tables(quote_session(tmp_path))
    reasons = got[Quarantined].column("reason").to_pylist()
    for reason in ("empty_quote", "unmapped_instrument", "undefined_ts_event",
                   "crossed_quote", "negative_price", "out_of_order"):  # fmt: skip
        assert reason in reasons
    assert reasons.count("out_of_order") == 3  # a quote, a print and an equity quote
    assert got[OptionPrint].num_rows == 1  # the cmbp-1 trade in order
    assert got[EquityPrint].num_rows == 1
    assert got[OptionQuote].column("bid_px").null_count == 1
    assert set(got[OptionQuote].column("publisher_id").to_pylist()) == {OPRA_CONS}

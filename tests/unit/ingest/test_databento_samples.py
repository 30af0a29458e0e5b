"""Real Databento sample files ingest to the events `DBNStore.to_df()` describes."""

from __future__ import annotations

import warnings
from pathlib import Path

import databento as db
import pytest

from ingest.databento import RecordNormaliser, bulk_file_events, iter_file_events
from schemas.cme import CmeInstrument, CmeTrade
from schemas.events import (
    UNDEF_PRICE,
    EquityPrint,
    EquityQuote,
    OpenInterest,
    OptionContract,
    OptionPrint,
    OptionQuote,
    Quarantined,
)

AAPL = "AAPL  250221C00250000"
AAPL_ID = 16783963


@pytest.fixture
def opra(shared_data: Path) -> Path:
    return shared_data / "OPRA.PILLAR"


def rows(path: Path) -> list[dict]:
    """The file's records as to_df sees them (integer prices, integer nanosecond times)."""
    with warnings.catch_warnings():  # pandas deprecations inside databento's to_df
        warnings.simplefilter("ignore")
        store = db.DBNStore.from_file(path)
        df = store.to_df(price_type="fixed", pretty_ts=False, map_symbols=True)
    df = df.reset_index()
    return df.to_dict("records")


def events(path: Path, **kwargs) -> tuple[list, RecordNormaliser]:
    normaliser = RecordNormaliser(**kwargs)
    return list(iter_file_events(path, normaliser=normaliser)), normaliser


def none_if_undef(value: int) -> int | None:
    return None if value == UNDEF_PRICE else int(value)


def test_opra_trades_become_option_prints_field_by_field(opra: Path):
    path = opra / "test_data.trades.dbn.zst"
    got, _ = events(path)
    expected = rows(path)
    assert len(got) == len(expected) == 4
    for event, row in zip(got, expected, strict=True):
        assert isinstance(event, OptionPrint)
        assert event.ts_recv == int(row["ts_recv"])
        assert event.ts_event == int(row["ts_event"])
        assert event.publisher_id == row["publisher_id"]
        assert event.instrument_id == row["instrument_id"] == AAPL_ID
        assert event.sequence == row["sequence"]
        assert event.price == row["price"]
        assert event.size == row["size"]
        assert event.side == row["side"] == "N"
        assert event.flags == row["flags"]
        assert event.symbol == row["symbol"] == AAPL
        assert event.underlying == "AAPL"
        assert event.source == "databento"
        assert event.coarse is False
        assert (event.bid_px, event.ask_px) == (None, None)
    assert [e.price for e in got] == [240_000_000, 200_000_000, 190_000_000, 190_000_000]
    assert [e.publisher_id for e in got] == [23, 26, 26, 37]


def test_opra_tbbo_prints_do_not_carry_the_venue_bbo_as_nbbo(opra: Path):
    path = opra / "test_data.tbbo.dbn.zst"
    got, normaliser = events(path)
    expected = rows(path)
    assert [type(e) for e in got] == [OptionPrint] * 4
    for event, row in zip(got, expected, strict=True):
        assert (event.ts_recv, event.price, event.size, event.sequence) == (
            int(row["ts_recv"]),
            row["price"],
            row["size"],
            row["sequence"],
        )
        # tbbo's BBO belongs to the trading venue, not the consolidated market.
        assert (event.bid_px, event.ask_px, event.bid_sz, event.ask_sz) == (None,) * 4
    assert normaliser.counters["venue_bbo_dropped"] == 4


def test_opra_definition_becomes_an_option_contract(opra: Path):
    path = opra / "test_data.definition.dbn.zst"
    got, _ = events(path)
    (row,) = rows(path)
    (contract,) = got
    assert isinstance(contract, OptionContract)
    assert contract.symbol == row["raw_symbol"] == AAPL
    assert contract.instrument_id == AAPL_ID
    assert contract.publisher_id == 30
    assert contract.underlying == row["underlying"] == "AAPL"
    assert contract.right == row["instrument_class"] == "C"
    assert contract.strike_price == row["strike_price"] == 250_000_000_000
    assert contract.expiration == int(row["expiration"]) == 1_740_096_000_000_000_000
    assert contract.multiplier == 100
    assert contract.ts_recv == int(row["ts_recv"])


def test_opra_open_interest_from_four_venues_is_one_event(opra: Path):
    path = opra / "test_data.statistics.dbn.zst"
    expected = rows(path)
    assert {r["quantity"] for r in expected} == {57924} and len(expected) == 4
    got, normaliser = events(path)
    (oi,) = got
    assert isinstance(oi, OpenInterest)
    assert oi.open_interest == 57924
    assert oi.symbol == AAPL and oi.underlying == "AAPL" and oi.instrument_id == AAPL_ID
    assert (oi.publisher_id, oi.sequence) == (expected[0]["publisher_id"], expected[0]["sequence"])
    assert normaliser.counters["open_interest_duplicate"] == 3


def test_opra_cbbo_1s_becomes_nbbo_quotes_and_the_empty_first_sample_is_quarantined(opra: Path):
    path = opra / "test_data.cbbo-1s.dbn.zst"
    got, _ = events(path)
    expected = rows(path)
    assert isinstance(got[0], Quarantined) and got[0].reason == "empty_quote"
    for event, row in zip(got[1:], expected[1:], strict=True):
        assert isinstance(event, OptionQuote)
        assert event.publisher_id == 30
        assert event.ts_recv == int(row["ts_recv"])
        assert event.ts_event == int(row["ts_event"])
        assert (event.bid_px, event.ask_px) == (row["bid_px_00"], row["ask_px_00"])
        assert (event.bid_sz, event.ask_sz) == (row["bid_sz_00"], row["ask_sz_00"])
        assert (event.bid_pb, event.ask_pb) == (row["bid_pb_00"], row["ask_pb_00"])
        assert event.sampled  # a one-second sample, held only for NBBO_MAX_AGE_MS


def test_opra_cbbo_1m_quotes_are_samples_too(opra: Path):
    got, _ = events(opra / "test_data.cbbo-1m.dbn.zst")
    quotes = [e for e in got if isinstance(e, OptionQuote)]
    assert quotes and all(q.sampled for q in quotes)


def test_opra_mbp1_venue_quotes_are_skipped_unless_asked_for(opra: Path):
    path = opra / "test_data.mbp-1.dbn.zst"
    got, normaliser = events(path)
    # Three venue BBOs skipped; the consolidated publisher's record has an empty book.
    assert [(type(e), getattr(e, "reason", "")) for e in got] == [(Quarantined, "empty_quote")]
    assert normaliser.counters["venue_quote_skipped"] == 3
    got, _ = events(path, emit_venue_quotes=True)
    assert all(isinstance(e, Quarantined) and e.reason == "empty_quote" for e in got)


def test_xnas_itch_trades_tbbo_and_mbp1_become_equity_events(shared_data: Path):
    trades, _ = events(shared_data / "XNAS.ITCH/test_data.trades.dbn.zst")
    expected = rows(shared_data / "XNAS.ITCH/test_data.trades.dbn.zst")
    for event, row in zip(trades, expected, strict=True):
        assert isinstance(event, EquityPrint)
        assert (event.symbol, event.venue, event.off_exchange) == ("NVDA", "XNAS", False)
        assert (event.price, event.size, event.side, event.sequence) == (
            row["price"],
            row["size"],
            row["side"],
            row["sequence"],
        )
        assert event.ts_event == int(row["ts_event"])
    tbbo, _ = events(shared_data / "XNAS.ITCH/test_data.tbbo.dbn.zst")
    tbbo_rows = rows(shared_data / "XNAS.ITCH/test_data.tbbo.dbn.zst")
    for event, row in zip(tbbo, tbbo_rows, strict=True):
        assert isinstance(event, EquityPrint)
        assert (event.bid_px, event.ask_px, event.bid_sz, event.ask_sz) == (
            row["bid_px_00"],
            row["ask_px_00"],
            row["bid_sz_00"],
            row["ask_sz_00"],
        )
    quotes, _ = events(shared_data / "XNAS.ITCH/test_data.mbp-1.dbn.zst")
    quote_rows = rows(shared_data / "XNAS.ITCH/test_data.mbp-1.dbn.zst")
    assert [type(e) for e in quotes] == [EquityQuote] * 4
    for event, row in zip(quotes, quote_rows, strict=True):
        assert event.bid_px == none_if_undef(row["bid_px_00"])
        assert event.ask_px == none_if_undef(row["ask_px_00"])
        assert (event.bid_sz, event.ask_sz, event.venue) == (
            row["bid_sz_00"],
            row["ask_sz_00"],
            "XNAS",
        )
    assert quotes[0].ask_px is None  # i64::MAX on the empty ask side


def test_equs_mini_trades_and_sampled_bbo(shared_data: Path):
    trades, _ = events(shared_data / "EQUS.MINI/test_data.trades.dbn.zst")
    expected = rows(shared_data / "EQUS.MINI/test_data.trades.dbn.zst")
    assert [(e.symbol, e.venue, e.price, e.size) for e in trades] == [
        ("QQQ", "EQUS", r["price"], r["size"]) for r in expected
    ]
    bbo, _ = events(shared_data / "EQUS.MINI/test_data.bbo-1s.dbn.zst")
    bbo_rows = rows(shared_data / "EQUS.MINI/test_data.bbo-1s.dbn.zst")
    assert isinstance(bbo[0], Quarantined) and bbo[0].reason == "empty_quote"
    for event, row in zip(bbo[1:], bbo_rows[1:], strict=True):
        assert isinstance(event, EquityQuote)
        # No trade yet in the session: the sample is stamped with its own time.
        assert event.ts_event == int(row["ts_recv"])
        assert event.bid_px == none_if_undef(row["bid_px_00"])
        assert event.ask_px == none_if_undef(row["ask_px_00"])


def test_futures_are_cme_trades_through_their_definition(shared_data: Path):
    files = [
        shared_data / "GLBX.MDP3/test_data.definition.dbn.zst",
        shared_data / "GLBX.MDP3/test_data.trades.dbn.zst",
    ]
    normaliser = RecordNormaliser()
    got = list(iter_file_events(files, normaliser=normaliser))
    assert [type(e) for e in got] == [CmeInstrument] + [CmeTrade] * 4
    assert {e.symbol for e in got} == {"ESH1"}
    # Without the definition the class is unknown: quarantined as such, never guessed.
    alone, _ = events(shared_data / "GLBX.MDP3/test_data.trades.dbn.zst")
    assert {e.reason for e in alone} == {"missing_definition"}


def test_every_sample_file_ingests_without_raising(shared_data: Path):
    for path in sorted(shared_data.glob("*/*.dbn.zst")):
        window = None if "LIVE" in str(path) else 0
        for event in iter_file_events(path, reorder_window_ns=window):
            assert event.source == "databento"


@pytest.mark.parametrize("name", ["trades", "tbbo"])
def test_bulk_path_matches_the_record_path_on_real_files(name, opra: Path):
    path = opra / f"test_data.{name}.dbn.zst"
    assert list(bulk_file_events(path)) == events(path)[0]

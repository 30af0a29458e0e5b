"""CME records that cannot be used are quarantined with their reason, never guessed at."""

from __future__ import annotations

from pathlib import Path

from ingest.databento import RecordNormaliser, iter_file_events
from schemas.cme import CmeInstrument, CmeQuote, CmeStatistic, CmeTrade
from schemas.events import UNDEF_PRICE, UNDEF_TIMESTAMP, Event, Quarantined
from tests.unit.ingest.databento.glbx_records import (
    CL_SPREAD,
    CLM5,
    LOM5_C70,
    call_option,
    definition,
    future,
    sample,
    settlement,
    top_of_book,
    trade,
)
from tests.unit.ingest.dbn_files import T0, dbn_bytes, metadata, write_dbn

SYMBOLS = {"CLM5": CLM5, "LOM5 C7000": LOM5_C70, "CLM5-CLN5": CL_SPREAD}
DOLLAR = 10**9


def run(tmp_path: Path, records: list[object]) -> tuple[list[Event], RecordNormaliser]:
    path = write_dbn(tmp_path / "glbx.dbn.zst", metadata(SYMBOLS, dataset="GLBX.MDP3"), records)
    normaliser = RecordNormaliser()
    return list(iter_file_events(path, normaliser=normaliser)), normaliser


def reasons(events: list[Event]) -> list[str]:
    return [e.reason for e in events if isinstance(e, Quarantined)]


def test_an_option_trade_names_its_future_through_the_definitions(tmp_path):
    got, _ = run(tmp_path, [future(), call_option(), trade(LOM5_C70, T0, 2 * DOLLAR, 3, "A")])
    fut, option, print_ = got
    assert isinstance(option, CmeInstrument) and option.underlying_id == fut.instrument_id
    assert (option.underlying_symbol, option.strike_price) == ("CLM5", 70 * DOLLAR)
    assert (option.asset, option.instrument_class, option.tick) == ("LO", "C", None)
    assert isinstance(print_, CmeTrade)
    assert (print_.symbol, print_.price, print_.size, print_.side) == (
        "LOM5 C7000",
        2 * DOLLAR,
        3,
        "A",
    )


def test_a_definition_without_multiplier_is_quarantined_and_its_trades_fail_closed(tmp_path):
    got, normaliser = run(
        tmp_path, [definition(CLM5, "CLM5", "F", multiplier=UNDEF_PRICE), trade(CLM5, T0, DOLLAR)]
    )
    assert reasons(got) == ["undefined_multiplier", "missing_definition"]
    assert "'CLM5'" in got[0].detail
    assert normaliser.counters["quarantined:missing_definition"] == 1


def test_option_definitions_lacking_strike_underlying_or_expiry_are_quarantined(tmp_path):
    got, _ = run(
        tmp_path,
        [
            call_option(strike=UNDEF_PRICE),
            call_option(underlying=""),
            call_option(expiration=UNDEF_TIMESTAMP),
        ],
    )
    assert reasons(got) == ["undefined_strike", "missing_underlying", "undefined_expiration"]


def test_a_spread_is_an_unsupported_instrument_class(tmp_path):
    spread = definition(CL_SPREAD, "CLM5-CLN5", "S")
    got, normaliser = run(tmp_path, [spread, trade(CL_SPREAD, T0, -DOLLAR // 10)])
    assert reasons(got) == ["unsupported_instrument_class"]
    assert "'S'" in got[0].detail and "'CLM5-CLN5'" in got[0].detail
    assert normaliser.counters["ignored:definition:S"] == 1


def test_an_instrument_neither_mapped_nor_defined_is_unmapped(tmp_path):
    got, normaliser = run(tmp_path, [trade(9999, T0, DOLLAR)])
    assert reasons(got) == ["unmapped_instrument"]
    assert normaliser.counters["unmapped_instrument"] == 1


def test_a_future_may_trade_and_quote_below_zero_an_option_may_not(tmp_path):
    # CL May 2020 settled at -37.63 on 2020-04-20.
    negative = -37_630_000_000
    got, _ = run(
        tmp_path,
        [
            future(),
            call_option(),
            trade(CLM5, T0, negative, 2, "A"),
            top_of_book(CLM5, T0 + 1, negative - 10**7, negative + 10**7),
            trade(LOM5_C70, T0 + 2, -DOLLAR),
        ],
    )
    trades, quotes = (
        [e for e in got if isinstance(e, CmeTrade)],
        [e for e in got if isinstance(e, CmeQuote)],
    )
    assert [t.price for t in trades] == [negative]
    assert [(q.bid_px, q.ask_px) for q in quotes] == [(negative - 10**7, negative + 10**7)]
    assert reasons(got) == ["negative_price"]


def test_trades_and_quotes_that_say_nothing_usable_are_quarantined_with_their_reason(tmp_path):
    got, _ = run(
        tmp_path,
        [
            future(),
            trade(CLM5, T0, UNDEF_PRICE),
            trade(CLM5, T0 + 1, DOLLAR, size=0),
            top_of_book(CLM5, T0 + 2, 71 * DOLLAR, 70 * DOLLAR),
            top_of_book(CLM5, T0 + 3, UNDEF_PRICE, UNDEF_PRICE),
            settlement(CLM5, T0 + 4, 70 * DOLLAR),
        ],
    )
    assert reasons(got) == ["undefined_price", "nonpositive_size", "crossed_quote", "empty_quote"]
    (stat,) = [e for e in got if isinstance(e, CmeStatistic)]
    assert (stat.stat_type, stat.price, stat.quantity) == (3, 70 * DOLLAR, None)


def test_a_sampled_quote_before_the_first_trade_is_stamped_with_its_sample_time(tmp_path):
    before_any_trade = sample(CLM5, T0, 70 * DOLLAR, 70 * DOLLAR + 10**7, UNDEF_TIMESTAMP)
    got, _ = run(tmp_path, [future(), before_any_trade])
    quote = got[-1]
    assert isinstance(quote, CmeQuote) and quote.sampled and quote.ts_event == T0


def test_a_cut_glbx_file_keeps_what_it_read_and_ends_in_a_quarantine(tmp_path):
    raw = dbn_bytes(
        metadata(SYMBOLS, dataset="GLBX.MDP3"),
        [future(), trade(CLM5, T0, DOLLAR), trade(CLM5, T0 + 1, DOLLAR)],
    )
    path = tmp_path / "cut.dbn"
    path.write_bytes(raw[:-10])
    got = list(iter_file_events(path))
    assert [type(e) for e in got] == [CmeInstrument, CmeTrade, Quarantined]
    assert got[-1].reason == "truncated_dbn"

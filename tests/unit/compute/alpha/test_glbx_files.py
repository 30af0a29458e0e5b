"""The real GLBX.MDP3 options files (../shared/data/databento/GLBX.MDP3.options, SOURCE.md):
two ES puts on ESM4 quoted on 2024-05-09. Records are decoded here with `databento`
directly. The engine's vols match a reference Black-76 solve written in the test within
0.01 vol points; the frame says the chain is too thin for rr25, and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import databento as db
import pytest

from compute.alpha import AlphaConfig, AlphaState, finish, initial_state, option_vols, step
from schemas.cme import AlphaFrame, CmeInstrument, CmeQuote
from schemas.events import UNDEF_PRICE, Event
from schemas.ordering import canonical_sort
from tests.unit.compute.alpha.market import MS, SECOND, YEAR_NS, reference_vol

RATE = 0.0533  # 3-month USD rate of 2024-05 (the folder's usd_short_term_rate.xml)
CATALOG = "GLBX.MDP3.options/options_catalog/databento"
EXAMPLE = "GLBX.MDP3.options/option_catalog_example/databento"
ESM4 = 5602


def _price(value: int) -> int | None:
    return None if value == UNDEF_PRICE else value


def header(record: db.DBNRecord, symbol: str) -> dict[str, Any]:
    return {
        "ts_recv": record.ts_recv, "ts_event": record.ts_event,
        "publisher_id": int(record.publisher_id), "instrument_id": record.instrument_id,
        "source": "databento", "symbol": symbol,
    }  # fmt: skip


def definitions(path: Path) -> list[Event]:
    events: list[Event] = []
    for record in db.DBNStore.from_file(path):
        assert isinstance(record, db.InstrumentDefMsg)
        kind = record.instrument_class.value
        option = kind in ("C", "P")
        events.append(
            CmeInstrument(
                **header(record, record.raw_symbol),
                instrument_class=kind,
                asset=record.asset,
                expiration=record.expiration,
                multiplier=record.unit_of_measure_qty,
                tick=_price(record.min_price_increment),
                cfi=record.cfi,
                strike_price=record.strike_price if option else None,
                underlying_id=record.underlying_id if option else None,
                underlying_symbol=record.underlying if option else "",
            )
        )
    return events


def quotes(path: Path, symbols: dict[int, str], sampled: bool) -> list[Event]:
    events: list[Event] = []
    for record in db.DBNStore.from_file(path):
        level = record.levels[0]
        events.append(
            CmeQuote(
                **header(record, symbols[record.instrument_id]),
                sequence=record.sequence,
                bid_px=_price(level.bid_px),
                ask_px=_price(level.ask_px),
                bid_sz=level.bid_sz,
                ask_sz=level.ask_sz,
                sampled=sampled,
            )
        )
    return events


def symbols_of(events: list[Event]) -> dict[int, str]:
    return {e.instrument_id: e.symbol for e in events if isinstance(e, CmeInstrument)}


@pytest.fixture(scope="module")
def bbo_session(shared_data: Path) -> list[Event]:
    """Definitions of ESM4, NQM4 and the two puts, and their bbo-1m quotes 09:55-10:04."""
    folder = shared_data / CATALOG
    defined = definitions(folder / "futures_definition.dbn.zst")
    defined += definitions(folder / "options_definition.dbn.zst")
    names = symbols_of(defined)
    sampled = quotes(
        folder / "futures_bbo-1m_2024-05-09T09-55_2024-05-09T10-05.dbn.zst", names, True
    )
    sampled += quotes(
        folder / "options_bbo-1m_2024-05-09T09-55_2024-05-09T10-05.dbn.zst", names, True
    )
    assert len(defined) == 4 and len(sampled) == 40
    return canonical_sort(defined + sampled)


def es_config() -> AlphaConfig:
    # bbo-1m samples: fresh for two minutes
    return AlphaConfig(roots=("ES",), rate=RATE, max_quote_age_ms=120_000)


def mid_of(event: CmeQuote) -> float:
    assert event.bid_px is not None and event.ask_px is not None
    return (event.bid_px + event.ask_px) / 2e9


def test_the_vols_of_both_quoted_puts_match_a_reference_black76_solve(
    bbo_session: list[Event],
) -> None:
    state: AlphaState = initial_state(es_config(), "glbx")
    latest: dict[int, CmeQuote] = {}
    checked = 0
    minutes = sorted({e.ts_recv for e in bbo_session if isinstance(e, CmeQuote)})
    for minute in minutes:
        batch = [e for e in bbo_session if e.ts_recv <= minute and e.ts_recv > state.clock]
        state, _ = step(state, batch)
        latest.update({e.instrument_id: e for e in batch if isinstance(e, CmeQuote)})
        at = minute + SECOND
        vols = option_vols(state, "ES", at)
        assert {v.symbol for v in vols} == {"ESM4 P5230", "ESM4 P5250"}
        future = mid_of(latest[ESM4])
        for vol in vols:
            quote = latest[vol.instrument_id]
            time = (vol.expiration - at) / YEAR_NS
            assert vol.mid == mid_of(quote)
            assert vol.forward == future
            assert vol.time_to_expiry == pytest.approx(time, abs=1e-15)
            expected = reference_vol(mid_of(quote), future, vol.strike / 1e9, time, RATE, False)
            assert vol.vol is not None
            assert abs(vol.vol - expected) * 100 <= 0.01, (vol, expected)
            assert vol.delta is not None and -0.65 < vol.delta < -0.5  # in the money
            checked += 1
    assert checked == 20
    # SOURCE.md's own check at 10:00 UTC: about 11.5 % (P5230) and 11.3 % (P5250)
    at_ten = {v.symbol: v.vol for v in option_vols(state, "ES", minutes[5] + SECOND)}
    assert at_ten["ESM4 P5230"] == pytest.approx(0.115, abs=0.003)
    assert at_ten["ESM4 P5250"] == pytest.approx(0.113, abs=0.003)


def test_two_in_the_money_puts_are_too_thin_for_rr25_and_the_frame_says_so(
    bbo_session: list[Event],
) -> None:
    state, out = step(initial_state(es_config(), "glbx"), bbo_session)
    out += finish(state)[1]
    frames = [f for f in out if isinstance(f, AlphaFrame)]
    quoted = [f for f in frames if f.ts_recv > 1715248500 * SECOND]  # after 09:55:00
    assert len(quoted) >= 9 * 60
    for frame in quoted:
        assert frame.root == "ES" and frame.front_symbol == "ESM4"
        assert frame.health == "stale_chain"
        assert frame.rr25 is None and frame.atm_iv is None and frame.skew_signal is None
        (expiry,) = frame.expiries
        assert expiry.underlying_symbol == "ESM4"
        assert expiry.forward is None and expiry.forward_strikes == 0  # no call: no parity
        assert expiry.fresh_strikes == 2
        assert expiry.iv_strikes == 0  # both puts are in the money: no out-of-the-money vol
        assert expiry.underlying_mid == frame.cme_fwd_mid
        assert frame.health_reason.startswith("thin: 2 fresh two-sided strikes < 5")


def test_mbp1_puts_without_a_future_quote_have_no_forward(shared_data: Path) -> None:
    folder = shared_data / EXAMPLE
    defined = definitions(folder / "futures_definition.dbn.zst")
    defined += definitions(folder / "options_definition.dbn.zst")
    changes = quotes(
        folder / "options_mbp-1_2024-05-09T10h00_2024-05-09T10h05.dbn.zst",
        symbols_of(defined),
        sampled=False,
    )
    assert len(changes) == 560
    state, out = step(initial_state(es_config(), "glbx"), canonical_sort(defined + changes))
    frames = [f for f in out if isinstance(f, AlphaFrame) and f.ts_recv > changes[0].ts_recv]
    assert len(frames) >= 290
    for frame in frames:
        assert frame.cme_fwd_mid is None and frame.front_symbol == ""
        assert frame.health == "stale_chain"
        assert frame.health_reason.startswith(
            "no_forward: no future quote and no call-put pair for the front expiry "
            "(ESM4 options expiring 1718976600000000000)"
        )
    assert option_vols(state, "ES", state.clock + MS) == []

"""Odd input never crashes the engine: crossed, one-sided, zero and negative quotes, unknown
instruments, options defined before their future, redefinitions, bad trades, empty depth,
time running backwards. Each is counted or read as what it is."""

from __future__ import annotations

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compute.alpha import AlphaConfig, decode_state, encode_state, finish, initial_state, step
from schemas.book import BookLevel, Mbp10Event, Mbp10Record
from schemas.cme import AlphaFrame, CmeInstrument, CmeQuote, CmeStatistic, CmeTrade
from schemas.crypto import MarkPrice
from schemas.events import Event, Heartbeat
from tests.unit.compute.alpha.market import DAY, SCALE, SECOND, T0, CmeMarket

IDS = st.integers(1, 8)
PRICES = st.one_of(
    st.none(), st.integers(-5 * SCALE, 100 * SCALE), st.sampled_from([0, 1, 2**63 - 2])
)
SIZES = st.integers(-5, 50)


@st.composite
def odd_events(draw: st.DrawFn) -> list[Event]:
    events: list[Event] = []
    ts = T0
    for _ in range(draw(st.integers(1, 60))):
        ts += draw(st.integers(-SECOND, 3 * SECOND))
        iid = draw(IDS)
        common = {
            "ts_recv": ts, "ts_event": ts, "publisher_id": 1, "instrument_id": iid,
            "source": "odd", "symbol": f"X{iid}",
        }  # fmt: skip
        kind = draw(st.sampled_from(["def", "quote", "trade", "stat", "depth", "mark", "other"]))
        if kind == "def":
            right = draw(st.sampled_from(["F", "C", "P"]))
            events.append(
                CmeInstrument(
                    **common,
                    instrument_class=right,
                    asset=draw(st.sampled_from(["CL", "LO", "NG"])),
                    expiration=draw(
                        st.one_of(st.integers(T0 - DAY, T0 + 60 * DAY), st.just(2**63 - 1))
                    ),
                    multiplier=1000,
                    tick=draw(st.one_of(st.none(), st.integers(0, SCALE))),
                    strike_price=None if right == "F" else draw(PRICES),
                    underlying_id=None if right == "F" else draw(st.one_of(st.none(), IDS)),
                )
            )
        elif kind == "quote":
            events.append(
                CmeQuote(
                    **common,
                    sequence=0,
                    bid_px=draw(PRICES),
                    ask_px=draw(PRICES),
                    bid_sz=draw(SIZES),
                    ask_sz=draw(SIZES),
                    sampled=draw(st.booleans()),
                )  # fmt: skip
            )
        elif kind == "trade":
            events.append(
                CmeTrade(
                    **common,
                    sequence=0,
                    price=draw(st.integers(-SCALE, 100 * SCALE)),
                    size=draw(SIZES),
                    side=draw(st.sampled_from(["A", "B", "N", "?"])),
                )  # fmt: skip
            )
        elif kind == "stat":
            events.append(
                CmeStatistic(**common, sequence=0, stat_type=9, price=None, quantity=None)
            )
        elif kind == "depth":
            levels = st.lists(
                st.builds(BookLevel, st.integers(-SCALE, 100 * SCALE), SIZES, st.integers(0, 3)),
                max_size=12,
            )
            records = [
                Mbp10Record(ts, 0, "A", "B", 0, None, 0, 0, draw(levels), draw(levels))
                for _ in range(draw(st.integers(0, 2)))
            ]
            events.append(Mbp10Event(**common, venue="GLBX", sequence=0, records=records))
        elif kind == "mark":
            events.append(
                MarkPrice(
                    **common,
                    venue="v",
                    venue_symbol="v",
                    sequence=0,
                    mark_px=1,
                    funding_rate=draw(st.one_of(st.none(), st.integers(-(10**9), 10**9))),
                )  # fmt: skip
            )
        else:
            events.append(Heartbeat(ts, source="odd"))
    return events


def check_frames(out: list[Event]) -> None:
    for frame in out:
        assert isinstance(frame, AlphaFrame)
        assert (frame.health == "ok") == (frame.health_reason == "")
        assert frame.imb_5 is None or -1 <= frame.imb_5 <= 1
        assert frame.skew_signal is None or -1 <= frame.skew_signal <= 1
        for expiry in frame.expiries:
            assert expiry.time_to_expiry > 0
            assert expiry.iv_strikes <= expiry.fresh_strikes


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=odd_events(), window=st.integers(1, 3), min_fresh=st.integers(0, 3))
def test_any_soup_of_odd_events_gives_well_formed_frames_and_a_state_that_checkpoints(
    events: list[Event], window: int, min_fresh: int
) -> None:
    config = AlphaConfig(
        roots=("CL", "NG"),
        strikes_window=window,
        min_fresh_strikes=min_fresh,
        funding_symbols={"CL": "X3"},
    )
    state, out = step(initial_state(config, "odd"), events)
    state, tail = finish(state)
    check_frames(out + tail)
    assert decode_state(encode_state(state)) == state


def test_options_defined_before_their_future_join_the_chain_once_it_is_defined() -> None:
    market = CmeMarket(seed=2, strikes=tuple(range(60 * SCALE, 80 * SCALE + 1, SCALE // 2)))
    events, _ = market.session(6)
    definitions = [e for e in events if isinstance(e, CmeInstrument)]
    options = [e for e in definitions if e.instrument_class != "F"]
    futures = [e for e in definitions if e.instrument_class == "F"]
    rest = [e for e in events if not isinstance(e, CmeInstrument)]
    late = [
        CmeInstrument(**{**{f: getattr(e, f) for f in e.__struct_fields__}, "ts_recv": T0 + SECOND})
        for e in futures
    ]
    early_quotes = [e for e in rest if e.ts_recv < T0 + SECOND]
    later = [e for e in rest if e.ts_recv >= T0 + SECOND]
    state, out = step(initial_state(AlphaConfig(), "early"), options + early_quotes)
    assert all(isinstance(f, AlphaFrame) and f.health_reason.startswith("no_chain") for f in out)
    state, out = step(state, late + later)
    check_frames(out)
    assert out and all(isinstance(f, AlphaFrame) for f in out)
    healthy = [f for f in out if isinstance(f, AlphaFrame) and f.health == "ok"]
    assert len(healthy) >= 4
    assert all(f.rr25 is not None for f in healthy)


def test_crossed_zero_and_one_sided_option_quotes_are_not_used() -> None:
    market = CmeMarket(seed=9, strikes=tuple(range(60 * SCALE, 80 * SCALE + 1, SCALE)))
    events, _ = market.session(3)
    ts = T0 + 3 * SECOND
    front = market.expiries[0]
    spoiled = {  # out-of-the-money calls, whatever the future did in three seconds
        front.option_ids[(71 * SCALE, True)]: (2 * SCALE, SCALE),  # crossed
        front.option_ids[(72 * SCALE, True)]: (0, SCALE),  # zero bid
        front.option_ids[(73 * SCALE, True)]: (None, SCALE),  # one-sided
        front.option_ids[(74 * SCALE, True)]: (-SCALE, SCALE),  # negative
        front.option_ids[(74 * SCALE, False)]: (SCALE, None),  # one-sided: no quote at 74
    }
    for n, (iid, (bid, ask)) in enumerate(spoiled.items()):
        quote = CmeQuote(
            ts_recv=ts + n, ts_event=ts, publisher_id=1, instrument_id=iid, source="t",
            symbol="", sequence=0, bid_px=bid, ask_px=ask, bid_sz=1, ask_sz=1,
        )  # fmt: skip
        events.append(quote)
    events.append(CmeQuote(
        ts_recv=ts + 10, ts_event=ts, publisher_id=1, instrument_id=424242, source="t",
        symbol="", sequence=0, bid_px=1, ask_px=2, bid_sz=1, ask_sz=1,
    ))  # fmt: skip
    config = AlphaConfig(rate=market.rate, strikes_window=10, min_fresh_strikes=0)
    state, _ = step(initial_state(config, "spoiled"), events)
    state, (frame,) = finish(state)
    assert isinstance(frame, AlphaFrame)
    expiry = frame.expiries[0]
    # 21 strikes in the window: 74 has no usable quote, and 71-73 only their puts
    assert expiry.fresh_strikes == 21 - 1
    assert expiry.iv_strikes == 21 - 4
    assert state.counters["unknown_instrument:quote"] == 1


def test_mids_outside_the_no_arbitrage_bounds_are_counted_and_extreme_terms_do_not_crash() -> None:
    market = CmeMarket(seed=9, strikes=tuple(range(60 * SCALE, 80 * SCALE + 1, SCALE)))
    events, _ = market.session(3)
    ts = T0 + 3 * SECOND
    front = market.expiries[0]
    violating = {  # out-of-the-money calls worth more than the future, or nothing
        front.option_ids[(75 * SCALE, True)]: (90 * SCALE, 91 * SCALE),
        front.option_ids[(76 * SCALE, True)]: (2**63 - 3, 2**63 - 2),
    }
    for n, (iid, (bid, ask)) in enumerate(violating.items()):
        quote = CmeQuote(
            ts_recv=ts + n, ts_event=ts, publisher_id=1, instrument_id=iid, source="t",
            symbol="", sequence=0, bid_px=bid, ask_px=ask, bid_sz=1, ask_sz=1,
        )  # fmt: skip
        events.append(quote)
    far = CmeInstrument(
        ts_recv=ts + 5, ts_event=ts, publisher_id=1, instrument_id=77, source="t", symbol="far",
        instrument_class="C", asset="LO", expiration=2**63 - 1, multiplier=1, tick=None,
        strike_price=70 * SCALE, underlying_id=front.future_id,
    )  # fmt: skip
    events += [far, CmeQuote(
        ts_recv=ts + 6, ts_event=ts, publisher_id=1, instrument_id=77, source="t", symbol="far",
        sequence=0, bid_px=SCALE, ask_px=2 * SCALE, bid_sz=1, ask_sz=1,
    )]  # fmt: skip
    config = AlphaConfig(rate=1.0, strikes_window=10, min_fresh_strikes=0)
    state, _ = step(initial_state(config, "bounds"), events)
    state, (frame,) = finish(state)
    assert isinstance(frame, AlphaFrame)
    first, *_, last = frame.expiries
    assert first.iv_rejected == 2
    assert first.iv_strikes == first.fresh_strikes - 2
    assert last.expiration == 2**63 - 1 and last.fresh_strikes == 1


def test_a_redefinition_moves_the_instrument_and_an_unserved_one_is_forgotten() -> None:
    def define(iid: int, right: str, strike: int | None, asset: str = "LO") -> CmeInstrument:
        return CmeInstrument(
            ts_recv=T0, ts_event=T0, publisher_id=1, instrument_id=iid, source="t",
            symbol=f"I{iid}", instrument_class=right, asset=asset, expiration=T0 + 30 * DAY,
            multiplier=1, tick=None, strike_price=strike,
        )  # fmt: skip

    future = define(1, "F", None, asset="CL")
    option = msgspec.structs.replace(define(2, "C", 70 * SCALE), underlying_id=1)
    moved = msgspec.structs.replace(option, strike_price=71 * SCALE, instrument_class="P")
    state, _ = step(initial_state(AlphaConfig(), "redefine"), [future, option, moved])
    (group,) = state.groups
    assert (group.strikes, group.calls, group.puts) == ([71 * SCALE], [-1], [state.rows[2]])
    assert state.roots["CL"].futures == [state.rows[1]]
    state, _ = step(state, [msgspec.structs.replace(future, asset="NG")])
    assert state.roots["CL"].futures == [] and 1 not in state.rows
    state, _ = step(state, [msgspec.structs.replace(option, strike_price=None)])
    assert group.strikes == [] and 2 not in state.rows  # a definition it cannot use: forgotten
    assert state.counters == {"unserved_future": 1, "bad_option_definition": 1}
    assert finish(state)[1][0].health_reason == "no_chain: no live option expiry"

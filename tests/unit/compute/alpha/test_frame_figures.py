"""The frame's microstructure figures by hand: signed flow over the last 10 s of the front
future's trades, top-5 book imbalance from its latest MBP-10 record, funding of the
configured perpetual, the front future's choice, and frames over a long gap."""

from __future__ import annotations

from compute.alpha import AlphaConfig, AlphaState, finish, initial_state, step
from schemas.book import F_LAST, BookLevel, Mbp10Event, Mbp10Record
from schemas.cme import AlphaFrame, CmeInstrument, CmeQuote, CmeTrade
from schemas.crypto import MarkPrice
from schemas.events import Event, Heartbeat

SECOND = 1_000_000_000
DAY = 86_400 * SECOND
T0 = 1_780_000_000 * SECOND
PX = 1_000_000_000
FRONT, BACK, EXPIRED = 11, 12, 10


def future(iid: int, symbol: str, expiration: int, asset: str = "CL") -> CmeInstrument:
    return CmeInstrument(
        ts_recv=T0, ts_event=T0, publisher_id=1, instrument_id=iid, source="t", symbol=symbol,
        instrument_class="F", asset=asset, expiration=expiration, multiplier=1000 * PX,
        tick=PX // 100,
    )  # fmt: skip


def quote(
    ts: int, iid: int, bid: float | None, ask: float | None, sampled: bool = False
) -> CmeQuote:
    return CmeQuote(
        ts_recv=ts, ts_event=ts, publisher_id=1, instrument_id=iid, source="t", symbol="",
        sequence=0, bid_px=None if bid is None else round(bid * PX),
        ask_px=None if ask is None else round(ask * PX), bid_sz=1, ask_sz=1, sampled=sampled,
    )  # fmt: skip


def trade(ts: int, iid: int, side: str, size: int) -> CmeTrade:
    return CmeTrade(
        ts_recv=ts, ts_event=ts, publisher_id=1, instrument_id=iid, source="t", symbol="",
        sequence=0, price=70 * PX, size=size, side=side,
    )  # fmt: skip


def depth(ts: int, iid: int, bids: list[int], asks: list[int]) -> Mbp10Event:
    def side(sizes: list[int], sign: int) -> list[BookLevel]:
        return [BookLevel(70 * PX + sign * (i + 1) * PX // 100, n, 1) for i, n in enumerate(sizes)]

    stale = Mbp10Record(ts, 1, "A", "B", 0, 1, 1, 0, side([999], -1), side([1], 1))
    latest = Mbp10Record(ts, 2, "A", "B", 0, 1, 1, F_LAST, side(bids, -1), side(asks, 1))
    return Mbp10Event(
        ts_recv=ts, ts_event=ts, publisher_id=1, instrument_id=iid, source="t", symbol="",
        venue="GLBX", sequence=2, records=[stale, latest],
    )  # fmt: skip


def mark(ts: int, symbol: str, rate: int | None) -> MarkPrice:
    return MarkPrice(
        ts_recv=ts, ts_event=ts, publisher_id=0, instrument_id=0, source="bybit", symbol=symbol,
        venue="bybit-linear", venue_symbol=symbol, sequence=0, mark_px=70 * PX,
        funding_rate=rate,
    )  # fmt: skip


def frames_of(out: list[Event]) -> dict[int, AlphaFrame]:
    return {f.ts_recv: f for f in out if isinstance(f, AlphaFrame)}


def run(events: list[Event], config: AlphaConfig) -> tuple[AlphaState, dict[int, AlphaFrame]]:
    state, out = step(initial_state(config, "figures"), events)
    return state, frames_of(out)


def test_signed_flow_counts_the_front_futures_aggressors_over_the_last_ten_seconds() -> None:
    events: list[Event] = [
        future(FRONT, "CLN6", T0 + 30 * DAY),
        future(BACK, "CLQ6", T0 + 60 * DAY),
        quote(T0, FRONT, 70.00, 70.02),
        quote(T0, BACK, 70.50, 70.52),
        trade(T0 + 1 * SECOND, FRONT, "B", 7),  # older than 10 s at the frame of T0 + 12 s
        trade(T0 + 2 * SECOND, FRONT, "A", 3),  # exactly 10 s before it: inside
        trade(T0 + 5 * SECOND, FRONT, "B", 4),
        trade(T0 + 6 * SECOND, FRONT, "N", 9),  # no aggressor: counted, not signed
        trade(T0 + 7 * SECOND, BACK, "B", 50),  # not the front
        trade(T0 + 11 * SECOND, FRONT, "A", 1),
        trade(T0 + 12 * SECOND, FRONT, "B", 100),  # at the frame's instant: after it
        trade(T0 + 13 * SECOND, FRONT, "B", 1),
    ]
    _, frames = run(events, AlphaConfig())
    frame = frames[T0 + 12 * SECOND]
    assert (frame.signed_flow_10, frame.trades_10) == (-3 + 4 - 1, 4)
    assert frame.front_symbol == "CLN6" and frame.cme_fwd_mid == 70_010_000_000
    earlier = frames[T0 + 8 * SECOND]
    assert (earlier.signed_flow_10, earlier.trades_10) == (7 - 3 + 4, 4)


def test_imbalance_reads_the_top_five_levels_of_the_front_futures_latest_mbp10_record() -> None:
    events: list[Event] = [
        future(FRONT, "CLN6", T0 + 30 * DAY),
        depth(T0 + SECOND // 2, FRONT, [10, 20, 30, 40, 50, 60, 70], [5, 5, 5, 5, 5, 100]),
        trade(T0 + 2 * SECOND, FRONT, "B", 1),
    ]
    _, frames = run(events, AlphaConfig())
    frame = frames[T0 + SECOND]
    assert frame.imb_5 == round((150 - 25) / (150 + 25), 4)
    assert frame.book_levels == 10
    # the top of the MBP-10 book is the future's quote: 70.00 - 0.01 and 70.00 + 0.01
    assert frame.front_symbol == "CLN6" and frame.cme_fwd_mid == 70 * PX


def test_funding_is_the_latest_rate_of_the_configured_perpetual_only() -> None:
    config = AlphaConfig(funding_symbols={"CL": "CL-PERP"})
    events: list[Event] = [
        future(FRONT, "CLN6", T0 + 30 * DAY),
        mark(T0 + SECOND // 4, "CL-PERP", 125),
        mark(T0 + SECOND // 3, "BTC-PERP", 999),  # another perpetual: ignored
        mark(T0 + 1_500_000_000, "CL-PERP", None),  # a frame without the rate keeps the last
        mark(T0 + 2_500_000_000, "CL-PERP", -40),
        quote(T0 + 3 * SECOND, FRONT, 70.00, 70.02),
    ]
    state, frames = run(events, config)
    assert [frames[T0 + n * SECOND].funding for n in (1, 2, 3)] == [125, 125, -40]
    assert state.counters["ignored:mark_price_not_served"] == 1
    _, without = run(events, AlphaConfig())
    assert all(frame.funding is None for frame in without.values())


def test_the_front_future_is_the_nearest_live_expiry_with_a_two_sided_quote() -> None:
    events: list[Event] = [
        future(EXPIRED, "CLM6", T0 + SECOND // 2),
        future(FRONT, "CLN6", T0 + 30 * DAY),
        future(BACK, "CLQ6", T0 + 60 * DAY),
        quote(T0, EXPIRED, 69.00, 69.02),
        quote(T0, FRONT, 70.00, None),
        quote(T0, BACK, 70.50, 70.52),
        quote(T0 + 1_500_000_000, FRONT, 70.02, 70.00),  # crossed
        quote(T0 + 2_500_000_000, FRONT, 70.00, 70.04),
        quote(T0 + 3_500_000_000, FRONT, 70.00, 70.04),
    ]
    _, frames = run(events, AlphaConfig())
    assert frames[T0 + SECOND].front_symbol == "CLQ6"  # CLM6 expired, CLN6 one-sided
    assert frames[T0 + 2 * SECOND].front_symbol == "CLQ6"
    assert frames[T0 + 3 * SECOND].front_symbol == "CLN6"
    assert frames[T0 + 3 * SECOND].cme_fwd_mid == 70_020_000_000


def test_a_sampled_quote_serves_until_it_is_older_than_the_age_limit() -> None:
    events: list[Event] = [
        future(FRONT, "CLN6", T0 + 30 * DAY),
        quote(T0, FRONT, 70.00, 70.02, sampled=True),
        trade(T0 + 5 * SECOND, FRONT, "B", 1),
    ]
    _, frames = run(events, AlphaConfig(max_quote_age_ms=2_000))
    mids = [frames[T0 + n * SECOND].cme_fwd_mid for n in (1, 2, 3, 4)]
    assert mids == [70_010_000_000, 70_010_000_000, None, None]


def test_a_long_gap_emits_its_first_boundaries_and_counts_the_rest() -> None:
    config = AlphaConfig(max_gap_frames=60)
    events: list[Event] = [
        future(FRONT, "CLN6", T0 + 30 * DAY),
        quote(T0 + SECOND // 2, FRONT, 70.00, 70.02),
        quote(T0 + 1000 * SECOND + SECOND // 2, FRONT, 70.00, 70.04),
        quote(T0 + 1001 * SECOND + SECOND // 2, FRONT, 70.00, 70.06),
    ]
    state, frames = run(events, config)
    assert sorted(frames) == [T0 + n * SECOND for n in (*range(1, 61), 1001)]
    assert state.counters["skipped_frames"] == 1000 - 60
    assert frames[T0 + 1001 * SECOND].cme_fwd_mid == 70_020_000_000
    state, out = finish(state)
    (last,) = out
    assert last.ts_recv == T0 + 1002 * SECOND
    assert finish(state)[1][0].ts_recv == T0 + 1003 * SECOND


def test_events_the_engine_does_not_read_neither_move_the_clock_nor_make_frames() -> None:
    events: list[Event] = [
        future(FRONT, "CLN6", T0 + 30 * DAY),
        Heartbeat(T0 + 5 * SECOND, source="x"),
        depth(T0 + 6 * SECOND, 999, [1], [1]),  # not a served future
        mark(T0 + 7 * SECOND, "CL-PERP", 1),  # no funding configured
    ]
    state, frames = run(events, AlphaConfig())
    assert frames == {} and state.clock == T0
    assert state.counters == {
        "ignored:Heartbeat": 1,
        "ignored:mbp10_not_served": 1,
        "ignored:mark_price_not_served": 1,
    }
    assert finish(state)[1][0].health_reason == "no_chain: no live option expiry"

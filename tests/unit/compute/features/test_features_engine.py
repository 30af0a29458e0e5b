import json
import math
from decimal import Decimal
from functools import cache

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from compute.features import FeaturesConfig, decode_state, encode_state, finish, initial_state, step
from ingest.binance.parsing import BinanceNormaliser
from ingest.marketdata.symbology import default_table
from schemas.crypto import CryptoFeatures, CryptoSignal
from schemas.events import PRICE_SCALE, Event
from schemas.ordering import canonical_sort
from tests.kit.crypto import T0, crypto_quote, crypto_trade
from tests.kit.crypto_frames import RecordedFrame, frames

S = 1_000_000_000
CONFIG = FeaturesConfig()


def run(events: list[Event], config: FeaturesConfig = CONFIG) -> list[Event]:
    state = initial_state(config, "test")
    state, out = step(state, events)
    state, tail = finish(state)
    return out + tail


def test_hand_computed_features_of_two_quotes_and_three_trades() -> None:
    px = PRICE_SCALE
    events: list[Event] = [
        crypto_quote(ts_recv=T0, bid_px=100 * px, ask_px=102 * px, bid_sz=3, ask_sz=1),
        crypto_trade(ts_recv=T0 + S // 2, ts_event=T0 + S // 2 - 4_000_000, price=100 * px,
                     size=1, side="buy", sequence=1, trade_id="1"),
        crypto_trade(ts_recv=T0 + S // 2, ts_event=T0 + S // 2 - 2_000_000, price=102 * px,
                     size=3, side="sell", sequence=2, trade_id="2"),
        crypto_quote(ts_recv=T0 + 2 * S, bid_px=101 * px, ask_px=103 * px, bid_sz=1, ask_sz=1),
        crypto_trade(ts_recv=T0 + 61 * S, ts_event=T0 + 61 * S, price=103 * px, size=2,
                     side="buy", sequence=3, trade_id="3"),
    ]  # fmt: skip
    out = run(events)
    features = [e for e in out if isinstance(e, CryptoFeatures)]
    # emitted at T0 (first event), T0+2s (>= 1 s after), T0+61s, none at finish
    assert [f.ts_recv for f in features] == [T0, T0 + 2 * S, T0 + 61 * S]
    at_2s = features[1]
    assert at_2s.mid_px == 102 * px  # (101 + 103) / 2
    assert at_2s.spread_bps == round(2 / 102 * 10_000, 4) == 196.0784
    assert at_2s.vwap_px == (100 * 1 + 102 * 3) * px // 4 == 101_500_000_000
    assert (at_2s.trade_count, at_2s.volume, at_2s.buy_volume, at_2s.sell_volume) == (2, 4, 1, 3)
    assert at_2s.trade_imbalance == -0.5  # (1 - 3) / 4
    assert at_2s.latency_ms == 3.0  # (4 ms + 2 ms) / 2
    assert at_2s.ret_1s_bps == round((204 - 202) / 202 * 10_000, 4) == 99.0099  # mid 101 -> 102
    assert at_2s.ret_5s_bps is None  # no mid 5 s before
    assert at_2s.quote_imbalance == 0.0 and at_2s.book_imbalance is None
    assert at_2s.realized_vol_bps == round(math.sqrt((2 / 202) ** 2) * 10_000, 4)
    late = features[2]  # the first two trades left the 60 s window
    assert (late.trade_count, late.volume, late.vwap_px) == (1, 2, 103 * px)
    assert late.ret_60s_bps == 99.0099  # the mid at T0+1s was 101, now 102
    assert late.realized_vol_bps is None  # one mid change only, before the window


def test_signals_fire_on_their_rule_with_the_values_that_fired_them() -> None:
    px = PRICE_SCALE
    events: list[Event] = [crypto_quote(ts_recv=T0, bid_px=10_000 * px, ask_px=10_001 * px)]
    for i in range(6):  # six buys; the mid climbs 10 bps over the next 5 s
        events.append(crypto_trade(ts_recv=T0 + (i + 1) * S // 2, sequence=i, trade_id=str(i)))
    events.append(crypto_quote(ts_recv=T0 + 6 * S, bid_px=10_010 * px, ask_px=10_011 * px))
    out = run(events, FeaturesConfig(long_return_bps=5.0, min_trades=5))
    (signal,) = [e for e in out if isinstance(e, CryptoSignal)]
    assert (signal.direction, signal.rule, signal.ts_recv) == ("long", "momentum_long", T0 + 6 * S)
    assert signal.features["ret_5s_bps"] == round(20 / 20_001 * 10_000, 4)
    assert signal.features["trade_imbalance"] == 1.0 and signal.features["trade_count"] == 6
    assert signal.thresholds["long_return_bps"] == 5.0
    quiet = run(events, FeaturesConfig(long_return_bps=11.0, min_trades=5))
    assert not any(isinstance(e, CryptoSignal) for e in quiet)


SPOT = "binance-spot.jsonl"


@cache
def recorded(symbol: str, limit: int) -> tuple[Event, ...]:
    parse = BinanceNormaliser("binance-spot", "binance-spot", default_table())
    chosen = [f for f in frames(SPOT) if f"{symbol.lower()}@" in f.raw and "depth" not in f.raw]
    events = [e for f in chosen[:limit] for e in parse.frame(f.raw, f.recv_ts_ns)]
    return tuple(canonical_sort(events))


def _dec(text: str) -> Decimal:
    return Decimal(text)


def test_a_recorded_stretch_matches_a_hand_computation_from_the_frames() -> None:
    chosen: list[RecordedFrame] = [
        f for f in frames(SPOT) if "zilusdt@" in f.raw and "depth" not in f.raw
    ][:400]
    out = run(list(recorded("ZILUSDT", 400)))
    last = [e for e in out if isinstance(e, CryptoFeatures)][-1]
    now = max(f.recv_ts_ns for f in chosen)
    assert last.ts_recv == now
    trades = [json.loads(f.raw)["data"] | {"recv": f.recv_ts_ns} for f in chosen
              if "aggTrade" in f.raw and f.recv_ts_ns > now - 60 * S]  # fmt: skip
    quotes = [(f.recv_ts_ns, json.loads(f.raw)["data"]) for f in chosen if "bookTicker" in f.raw]
    volume = sum(_dec(t["q"]) for t in trades)
    notional = sum(_dec(t["p"]) * _dec(t["q"]) for t in trades)
    buys = sum(_dec(t["q"]) for t in trades if not t["m"])
    assert last.trade_count == len(trades) > 10
    assert last.volume == int(volume * 10**8)
    assert last.buy_volume == int(buys * 10**8)
    assert last.vwap_px == int(notional / volume * 10**9)
    assert last.trade_imbalance == round(float((2 * buys - volume) / volume), 4)
    latency = sum(t["recv"] - t["T"] * 10**6 for t in trades) / len(trades) / 1e6
    assert last.latency_ms == round(latency, 4)
    bid, ask = _dec(quotes[-1][1]["b"]), _dec(quotes[-1][1]["a"])
    assert last.mid_px == int((bid + ask) / 2 * 10**9)
    assert last.spread_bps == round(float((ask - bid) / ((bid + ask) / 2) * 10_000), 4)
    then = [(bid + ask) for ts, q in quotes if ts <= now - 5 * S
            for bid, ask in [(_dec(q["b"]), _dec(q["a"]))]]  # fmt: skip
    expected_ret = float(((bid + ask) - then[-1]) / then[-1] * 10_000) if then else None
    assert last.ret_5s_bps == (None if expected_ret is None else round(expected_ret, 4))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=1600), max_size=6), st.booleans())
def test_any_split_into_batches_gives_identical_outputs(cuts: list[int], checkpoint: bool) -> None:
    events = list(canonical_sort([*recorded("ZILUSDT", 800), *recorded("DENTUSDT", 800)]))
    expected = run(events)
    state = initial_state(CONFIG, "test")
    out: list[Event] = []
    bounds = [0, *sorted(cuts), len(events)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        state, part = step(state, events[start:end])
        out.extend(part)
        if checkpoint:
            state = decode_state(encode_state(state))
    state, tail = finish(state)
    out.extend(tail)
    assert msgspec.msgpack.encode(out) == msgspec.msgpack.encode(expected)
    assert len(expected) > 50

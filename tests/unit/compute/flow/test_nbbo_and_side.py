"""NBBO join and aggressor inference on hand-built prints."""

from __future__ import annotations

from compute.flow import EngineConfig
from tests.kit.events import gap
from tests.unit.compute.flow.session import MS, SECOND, T0, Contract, inferences, px, run

C = Contract(1)


def only_inference(*events, config=None):  # type: ignore[no-untyped-def]
    found = inferences(run([C.definition(), *events], config))
    assert len(found) == 1
    return found[0]


def test_print_at_ask_after_fresh_quote_is_a_joined_buy_at_a() -> None:
    inf = only_inference(C.quote(T0, 1.00, 1.10), C.trade(T0 + 5 * MS, 1.10))
    assert (inf.side, inf.bucket, inf.rule, inf.nbbo_status) == ("buy", "A", "quote", "joined")
    assert (inf.nbbo_bid_px, inf.nbbo_ask_px, inf.nbbo_ts_recv) == (px(1.00), px(1.10), T0)
    assert inf.confidence >= 0.8


def test_quote_rule_buckets_above_ask_at_bid_below_bid() -> None:
    cases = {1.15: ("buy", "AA"), 1.00: ("sell", "B"), 0.95: ("sell", "BB")}
    for price, expected in cases.items():
        inf = only_inference(C.quote(T0, 1.00, 1.10), C.trade(T0 + MS, price))
        assert (inf.side, inf.bucket) == expected


def test_stale_sampled_quote_is_marked_not_used() -> None:
    config = EngineConfig(nbbo_max_age_ns=1_000 * MS)
    quote = C.quote(T0, 1.00, 1.10, sampled=True)
    out = run([C.definition(), quote, C.trade(T0 + 2 * SECOND, 1.10)], config)
    inf = inferences(out)[0]
    assert inf.nbbo_status == "stale"
    assert inf.bucket == "NA"
    assert inf.rule != "quote"
    assert inf.nbbo_ts_recv == T0  # the quote looked at, so its age can be checked
    member = next(p for p in out if type(p).__name__ == "FlowPacket").members[0]  # type: ignore[attr-defined]
    assert (member.nbbo_bid_px, member.nbbo_ask_px) == (None, None)


def test_quiet_change_stream_quote_is_held_in_force_past_the_age_limit() -> None:
    config = EngineConfig(nbbo_max_age_ns=1_000 * MS)
    inf = only_inference(C.quote(T0, 1.00, 1.10), C.trade(T0 + 30 * SECOND, 1.10), config=config)
    assert (inf.nbbo_status, inf.side, inf.bucket, inf.rule) == ("held", "buy", "A", "quote")
    assert inf.nbbo_ts_recv == T0


def test_a_feed_gap_ends_the_hold_of_quotes_received_before_it() -> None:
    config = EngineConfig(nbbo_max_age_ns=1_000 * MS)
    stale = only_inference(
        C.quote(T0, 1.00, 1.10), gap(ts_recv=T0 + SECOND, source="test"),
        C.trade(T0 + 5 * SECOND, 1.10), config=config,
    )  # fmt: skip
    assert (stale.nbbo_status, stale.bucket) == ("stale", "NA")
    held = only_inference(
        gap(ts_recv=T0 - SECOND, source="test"), C.quote(T0, 1.00, 1.10),
        C.trade(T0 + 5 * SECOND, 1.10), config=config,
    )  # fmt: skip
    assert held.nbbo_status == "held"


def test_a_change_stream_quote_of_another_day_is_not_held() -> None:
    config = EngineConfig(nbbo_max_age_ns=1_000 * MS)
    next_day = T0 + 24 * 3600 * SECOND
    inf = only_inference(C.quote(T0, 1.00, 1.10), C.trade(next_day, 1.10), config=config)
    assert (inf.nbbo_status, inf.bucket) == ("stale", "NA")


def test_print_without_any_quote_is_missing_and_never_guessed() -> None:
    inf = only_inference(C.trade(T0, 1.10))
    assert (inf.nbbo_status, inf.bucket, inf.side, inf.rule) == ("missing", "NA", "unknown", "none")
    assert inf.confidence == 0.0


def test_quote_sharing_the_print_timestamp_is_not_the_quote_before_it() -> None:
    # The later quote at the print's own ts_recv may already reflect the trade.
    inf = only_inference(
        C.quote(T0, 1.00, 1.10), C.quote(T0 + MS, 1.10, 1.20), C.trade(T0 + MS, 1.10)
    )
    assert (inf.nbbo_ask_px, inf.nbbo_ts_recv) == (px(1.10), T0)
    assert (inf.side, inf.bucket) == ("buy", "A")


def test_nbbo_carried_by_the_print_wins_over_joined_quotes() -> None:
    inf = only_inference(C.quote(T0, 2.00, 2.10), C.trade(T0 + MS, 1.00, nbbo=(0.90, 1.00, 5, 5)))
    assert (inf.nbbo_status, inf.side, inf.bucket) == ("print", "buy", "A")
    assert inf.nbbo_ts_recv is None


def test_crossed_quote_is_marked_and_not_used() -> None:
    inf = only_inference(C.quote(T0, 1.20, 1.10), C.trade(T0 + MS, 1.15))
    assert (inf.nbbo_status, inf.bucket) == ("crossed", "NA")


def test_midpoint_print_uses_depth_rule_with_low_confidence() -> None:
    inf = only_inference(C.quote(T0, 1.00, 1.10, bid_sz=5, ask_sz=40), C.trade(T0 + MS, 1.05, 3))
    assert (inf.side, inf.bucket, inf.rule) == ("buy", "M", "depth")
    assert inf.confidence <= 0.6
    inf = only_inference(C.quote(T0, 1.00, 1.10, bid_sz=40, ask_sz=5), C.trade(T0 + MS, 1.05, 3))
    assert (inf.side, inf.rule) == ("sell", "depth")


def test_midpoint_print_matching_a_quoted_size_uses_the_trade_size_rule() -> None:
    inf = only_inference(C.quote(T0, 1.00, 1.10, bid_sz=7, ask_sz=12), C.trade(T0 + MS, 1.05, 7))
    assert (inf.side, inf.rule) == ("buy", "trade_size")
    inf = only_inference(C.quote(T0, 1.00, 1.10, bid_sz=7, ask_sz=12), C.trade(T0 + MS, 1.05, 12))
    assert (inf.side, inf.rule) == ("sell", "trade_size")
    assert inf.confidence <= 0.6


def test_off_midpoint_inside_print_follows_its_price_even_when_its_size_matches_a_quote() -> None:
    inf = only_inference(C.quote(T0, 1.00, 1.10, bid_sz=7, ask_sz=12), C.trade(T0 + MS, 1.04, 12))
    assert (inf.side, inf.rule) == ("sell", "quote_mid")


def test_inside_print_nearer_the_ask_is_a_buy_with_medium_confidence() -> None:
    inf = only_inference(C.quote(T0, 1.00, 1.10, bid_sz=7, ask_sz=12), C.trade(T0 + MS, 1.08, 3))
    assert (inf.side, inf.bucket, inf.rule) == ("buy", "M", "quote_mid")
    assert 0.5 < inf.confidence < 0.83


def test_without_quote_the_tick_rule_signs_prints_after_a_price_change() -> None:
    trades = [C.trade(T0, 1.00), C.trade(T0 + MS, 1.05), C.trade(T0 + 2 * MS, 1.05)]
    out = run([C.definition(), *trades])
    sides = [(i.side, i.rule) for i in inferences(out)]
    assert sides == [("unknown", "none"), ("buy", "tick"), ("buy", "tick")]

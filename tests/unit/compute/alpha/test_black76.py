"""The engine's Black-76 solve against the test's own pricing (statistics.NormalDist): a vol
priced in the test is recovered, and prices outside the no-arbitrage bounds give None."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from compute.alpha.black76 import forward_delta, implied_vol
from tests.unit.compute.alpha.market import NORMAL, b76_price


@settings(max_examples=300, deadline=None)
@given(
    forward=st.floats(1.0, 10_000.0),
    moneyness=st.floats(-0.8, 0.8),
    vol=st.floats(0.03, 3.0),
    years=st.floats(1 / 365, 3.0),
    rate=st.floats(-0.02, 0.10),
    call=st.booleans(),
)
def test_a_vol_priced_in_the_test_is_recovered(
    forward: float, moneyness: float, vol: float, years: float, rate: float, call: bool
) -> None:
    strike = forward * math.exp(moneyness)
    price = b76_price(forward, strike, vol, years, rate, call)
    spread = vol * math.sqrt(years)
    d1 = (-moneyness + 0.5 * spread * spread) / spread
    vega = math.exp(-rate * years) * forward * math.exp(-0.5 * d1 * d1) * math.sqrt(years)
    if vega < 1e-6 * forward or price < 1e-9 * forward:
        return  # the price no longer tells vols apart at double precision
    solved = implied_vol(price, forward, strike, years, rate, call)
    assert solved is not None
    assert abs(solved - vol) <= 1e-6 + 1e-9 * forward / vega
    delta = forward_delta(forward, strike, solved, years, call)
    assert abs(delta - (NORMAL.cdf(d1) - (0 if call else 1))) <= 1e-6


def test_prices_outside_the_no_arbitrage_bounds_have_no_vol() -> None:
    growth = math.exp(0.05 * 0.5)
    assert implied_vol(9.0 / growth, 110.0, 100.0, 0.5, 0.05, True) is None  # below intrinsic
    assert implied_vol(111.0 / growth, 110.0, 100.0, 0.5, 0.05, True) is None  # above forward
    assert implied_vol(101.0 / growth, 110.0, 100.0, 0.5, 0.05, False) is None  # above strike
    assert implied_vol(0.0, 110.0, 100.0, 0.5, 0.05, False) is None
    assert implied_vol(1.0, -5.0, 100.0, 0.5, 0.05, False) is None  # negative future
    assert implied_vol(1.0, 110.0, 100.0, 0.0, 0.05, False) is None  # expired
    assert implied_vol(math.nan, 110.0, 100.0, 0.5, 0.05, True) is None

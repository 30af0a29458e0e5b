"""synth's Black-76 against values worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from synth.black76 import forward_delta, norm_cdf, price


def test_the_normal_distribution_at_known_points() -> None:
    x = np.array([-1.959963984540054, 0.0, 0.6744897501960817])
    assert norm_cdf(x) == pytest.approx([0.025, 0.5, 0.75], abs=1e-15)


def test_an_at_the_money_call_is_e_minus_rt_f_times_2n_of_half_vol_root_t_less_one() -> None:
    f, t, vol, r = 70.0, 0.25, 0.4, 0.05
    expected = math.exp(-r * t) * f * (math.erf(vol * math.sqrt(t) / 2 / math.sqrt(2)))
    got = price(np.array([f]), np.array([f]), np.array([t]), np.array([vol]), r, np.array([True]))
    assert got[0] == pytest.approx(expected, rel=1e-13)


def test_calls_less_puts_are_the_discounted_forward_less_strike() -> None:
    f, t, vol, r = 70.0, 0.1, 0.35, 0.045
    k = np.array([55.0, 62.5, 70.0, 81.0])
    ones = np.ones_like(k)
    calls = price(f * ones, k, t * ones, vol * ones, r, np.ones(4, bool))
    puts = price(f * ones, k, t * ones, vol * ones, r, np.zeros(4, bool))
    assert calls - puts == pytest.approx(math.exp(-r * t) * (f - k), abs=1e-12)


def test_forward_deltas_of_a_call_and_its_put_differ_by_one() -> None:
    f, k, t, vol = np.array([70.0]), np.array([75.0]), np.array([0.2]), np.array([0.3])
    call = forward_delta(f, k, t, vol, is_call=True)
    put = forward_delta(f, k, t, vol, is_call=False)
    assert call - put == pytest.approx([1.0])
    d1 = (math.log(70 / 75) + 0.5 * 0.09 * 0.2) / (0.3 * math.sqrt(0.2))
    assert call[0] == pytest.approx(0.5 * (1 + math.erf(d1 / math.sqrt(2))), abs=1e-15)

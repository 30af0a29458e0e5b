"""The generator's (series, time) keys: ordered by series then time over every series and
time it supports, and a universe too large for them is refused in one line."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from synth import generate_session
from synth.columns import SERIES_LIMIT, TIME_BITS, series_key

from .conftest import SMALL


def test_keys_order_by_series_then_time_across_the_whole_range() -> None:
    series = np.array([0, 0, 1, 65_535, 65_536, 300_000, SERIES_LIMIT - 1, SERIES_LIMIT - 1])
    times = np.array([0, (1 << TIME_BITS) - 1, 0, 5, 0, 123, 0, (1 << TIME_BITS) - 1])
    keys = series_key(series, times)
    assert keys.dtype == np.int64
    assert (np.diff(keys) > 0).all()
    # a scalar key is the key of the same pair in an array
    assert series_key(300_000, 123) == keys[5]


def test_a_universe_beyond_the_keys_is_refused() -> None:
    config = msgspec.structs.replace(
        SMALL, n_underlyings=SERIES_LIMIT // 2_000, n_expiries=12, strikes_per_side=50
    )
    with pytest.raises(ValueError, match=rf"contracts; at most {SERIES_LIMIT} are supported"):
        generate_session(config)

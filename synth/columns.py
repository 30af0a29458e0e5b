"""Small numeric helpers shared by the option and equity generators."""

from __future__ import annotations

import numpy as np

TIME_BITS = 45  # relative nanoseconds below 2**45 (9.7 hours) share an int64 with the series
SERIES_LIMIT = 1 << (64 - TIME_BITS)  # series 0..2**19-1, stored offset into the sign bit
_SERIES_OFFSET = SERIES_LIMIT // 2


def series_key(series: np.ndarray | int, rel_ns: np.ndarray | int) -> np.ndarray:
    """One sortable int64 per (series, time) so as-of joins are a single searchsorted.

    Ordered by series, then time: the series (offset to be signed) fills the high bits, the
    time the low `TIME_BITS`."""
    high = np.asarray(series, np.int64) - _SERIES_OFFSET
    return (high << TIME_BITS) | np.asarray(rel_ns, np.int64)


def strictly_increasing(times: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Nudge times (by as few ns as needed) so that no two are equal, keeping their order.

    Order is by (time, rank); the result never moves a time backwards, so every "quote just
    before a print" relation planted by the generator survives.
    """
    order = np.lexsort((rank, times))
    sorted_times = times[order]
    steps = np.arange(len(times), dtype=np.int64)
    fixed = np.maximum.accumulate(sorted_times - steps) + steps
    out = np.empty_like(times)
    out[order] = fixed
    return out


def unique_ts_event(publisher: np.ndarray, instrument: np.ndarray, ts_event: np.ndarray) -> None:
    """Move `ts_event` back by a nanosecond where (publisher, instrument, ts_event) repeats.

    Records without a `sequence` field (cmbp-1, tcbbo) are told apart by these three alone.
    """
    for _ in range(1000):
        order = np.lexsort((ts_event, instrument, publisher))
        p, i, t = publisher[order], instrument[order], ts_event[order]
        dup = (p[1:] == p[:-1]) & (i[1:] == i[:-1]) & (t[1:] == t[:-1])
        if not dup.any():
            return
        ts_event[order[1:][dup]] -= 1
    raise RuntimeError("could not make ts_event unique")


def asof_index(
    quote_key_sorted: np.ndarray,
    quote_series_sorted: np.ndarray,
    series: np.ndarray,
    key: np.ndarray,
) -> np.ndarray:
    """Index of the last quote of the same series strictly before each key, or -1."""
    idx = np.searchsorted(quote_key_sorted, key, side="left") - 1
    ok = idx >= 0
    ok[ok] = quote_series_sorted[idx[ok]] == series[ok]
    return np.where(ok, idx, -1)


def sequence_by_publisher(publisher: np.ndarray, ts_recv: np.ndarray, start: int = 1) -> np.ndarray:
    """Per-publisher sequence numbers in `ts_recv` order (like a venue's channel sequence)."""
    order = np.lexsort((ts_recv, publisher))
    p = publisher[order]
    first = np.ones(len(p), dtype=bool)
    first[1:] = p[1:] != p[:-1]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(p)), 0))
    seq = np.empty(len(p), dtype=np.int64)
    seq[order] = np.arange(len(p)) - group_start + start
    return seq


def bucket_of(price: np.ndarray, bid: np.ndarray, ask: np.ndarray) -> np.ndarray:
    """Cheddar-Flow buckets of prices in quotes: AA, A, M, B, BB (as an array of str)."""
    out = np.full(len(price), "M", dtype="<U2")
    out[price > ask] = "AA"
    out[price == ask] = "A"
    out[price == bid] = "B"
    out[price < bid] = "BB"
    return out

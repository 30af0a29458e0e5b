"""The futures tape: ten-level books of the CL months and their trades, as MBP-10 records.

Every future follows a latent price (a Brownian path shared by the curve, a small walk of its
own and a calendar spread) sampled at its own event times. Its book is one tick wide with
ten contiguous levels a side. At each event the book moves to the tick nearest the latent
price (mostly by an aggressor trade taking the whole touch, else by requoting); an event
that moves nothing is a smaller trade (a buyer lifts the offer: side `B`; a seller hits the
bid: side `A`) or a size change at one level. A move is a cancel of the touch on the side
being crossed, then an add on the other (for one record the spread is wider, never crossed);
only an event's last record carries `F_LAST`. A trade record shows the book before the
trade, the record after it the book it left, as Databento's MBP schemas do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from synth.cme_instruments import TICK, Future
from synth.cme_smile import NS, YEAR_NS
from synth.columns import strictly_increasing
from synth.dbn import F_LAST

DEPTH = 10
SNAPSHOT_LEAD_NS = 2_000_000  # the books' first records, this long before the open
MOVE_TRADE_SHARE = 0.6  # one-tick moves that happen by a trade taking the touch
OWN_WALK_SHARE = 0.2  # a month's own walk, as a share of the curve's volatility
CALENDAR_SPREAD = (-0.45, 0.15)  # dollars from one month to the next (mostly backwardation)
MAX_TRADE = 10


@dataclass
class FuturesTape:
    """Every futures book record, in feed order (`ts_recv`, then within an event).

    Prices are 1e-9 dollars; row `r` of `bid_px`/`ask_px`/`bid_sz`/`ask_sz` is the ten-level
    book after record `r` (before it for a trade).
    """

    future: np.ndarray
    ts_event: np.ndarray
    ts_recv: np.ndarray
    ts_in_delta: np.ndarray
    action: np.ndarray
    side: np.ndarray
    depth: np.ndarray
    price: np.ndarray
    size: np.ndarray
    flags: np.ndarray
    bid_px: np.ndarray
    ask_px: np.ndarray
    bid_sz: np.ndarray
    ask_sz: np.ndarray

    def __len__(self) -> int:
        return len(self.ts_recv)

    def mid(self) -> np.ndarray:
        """The mid after each record (1e-9; whole because both sides sit on the cent grid)."""
        return np.asarray((self.bid_px[:, 0] + self.ask_px[:, 0]) // 2)

    def rows_of(self, future: int) -> np.ndarray:
        """The record rows of one future, in feed order."""
        return np.flatnonzero(self.future == future)

    def mid_at(self, future: int, ts: np.ndarray) -> np.ndarray:
        """The future's mid in force at each time: after its last record with ts_recv <= t."""
        rows = self.rows_of(future)
        return np.asarray(self.mid()[rows][np.searchsorted(self.ts_recv[rows], ts, "right") - 1])


@dataclass
class _Records:
    """Records of one future as they are emitted: columns of Python lists."""

    event: list[int]
    action: list[bytes]
    side: list[bytes]
    depth: list[int]
    price_ticks: list[int]
    size: list[int]
    last: list[bool]
    best_bid: list[int]
    best_ask: list[int]
    sizes: list[tuple[int, ...]]


def futures_tape(
    rng: np.random.Generator,
    futures: list[Future],
    front_price: int,
    open_ns: int,
    close_ns: int,
    vol: float,
    front_rate: float,
    trade_share: float,
) -> FuturesTape:
    """The books and trades of `futures` from `open_ns` to `close_ns`; the front opens at
    `front_price` (1e-9), its events arrive at `front_rate` per second, each later month's at
    half the rate of the month before."""
    duration = close_ns - open_ns
    times = []
    for i in range(len(futures)):
        count = rng.poisson(front_rate / 2**i * duration / NS)
        raw = open_ns + np.sort(rng.integers(1, duration, count))
        times.append(strictly_increasing(raw, np.zeros(count, dtype=np.int64)))
    latent = _latent_prices(rng, times, front_price / 1e9, open_ns, vol)
    tapes = [
        _one_book(rng, i, times[i], np.floor(latent[i] / (TICK / 1e9)).astype(np.int64),
                  open_ns, trade_share)
        for i in range(len(futures))
    ]  # fmt: skip
    tape = _concatenate(tapes)
    order = np.lexsort((np.arange(len(tape)), tape.future, tape.ts_recv))
    return _take(tape, order)


def _latent_prices(
    rng: np.random.Generator, times: list[np.ndarray], front: float, open_ns: int, vol: float
) -> list[np.ndarray]:
    """Each month's latent price at its open and at each of its event times (dollars)."""
    sd_per_ns = front * vol / math.sqrt(YEAR_NS)
    grid = np.unique(np.concatenate([[open_ns], *times]))
    curve = front + _brownian(rng, grid) * sd_per_ns
    spreads = np.concatenate([[0.0], np.cumsum(rng.uniform(*CALENDAR_SPREAD, len(times) - 1))])
    out = []
    for month, own_times in enumerate(times):
        at = np.concatenate([[open_ns], own_times])
        own = _brownian(rng, at) * (OWN_WALK_SHARE * sd_per_ns)
        out.append(curve[np.searchsorted(grid, at)] + spreads[month] + own)
    return out


def _brownian(rng: np.random.Generator, times: np.ndarray) -> np.ndarray:
    """A standard Brownian path at increasing `times` (ns), starting at 0."""
    steps = rng.normal(0.0, 1.0, len(times) - 1) * np.sqrt(np.diff(times))
    return np.concatenate([[0.0], np.cumsum(steps)])


def _fresh_sizes(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Level sizes: deeper levels rest larger on average."""
    return rng.integers(1, 30, size=(rows, DEPTH)) + 3 * np.arange(DEPTH)


def _one_book(
    rng: np.random.Generator,
    future: int,
    times: np.ndarray,
    target: np.ndarray,
    open_ns: int,
    trade_share: float,
) -> FuturesTape:
    n = len(times)
    fresh_bids, fresh_asks = _fresh_sizes(rng, n + 1), _fresh_sizes(rng, n + 1)
    kind_draw = rng.random(n)
    buy_draw = rng.random(n) < 0.5
    level_draw = rng.integers(0, DEPTH, n)
    quantity_draw = rng.random(n)
    out = _Records([], [], [], [], [], [], [], [], [], [])
    best = int(target[0])
    bids, asks = [int(x) for x in fresh_bids[0]], [int(x) for x in fresh_asks[0]]

    def emit(k: int, action: bytes, side: bytes, depth: int, price: int, size: int,
             last: bool, bid: int, ask: int) -> None:  # fmt: skip
        out.event.append(k)
        out.action.append(action)
        out.side.append(side)
        out.depth.append(depth)
        out.price_ticks.append(price)
        out.size.append(size)
        out.last.append(last)
        out.best_bid.append(bid)
        out.best_ask.append(ask)
        out.sizes.append((*bids, *asks))

    emit(0, b"A", b"B", 0, best, bids[0], True, best, best + 1)  # the opening snapshot
    for k in range(1, n + 1):
        step = int(target[k]) - best
        if step > 0:
            if step == 1 and kind_draw[k - 1] < MOVE_TRADE_SHARE:
                emit(k, b"T", b"B", 0, best + 1, asks[0], False, best, best + 1)
            fresh = [int(x) for x in fresh_asks[k, DEPTH - step :]]
            asks = (asks[step:] + fresh)[:DEPTH]
            emit(k, b"C", b"A", 0, best + 1, 0, False, best, best + 1 + step)
            joined = [int(x) for x in fresh_bids[k, :step]]
            bids = (joined + bids)[:DEPTH]
            best += step
            emit(k, b"A", b"B", 0, best, bids[0], True, best, best + 1)
        elif step < 0:
            if step == -1 and kind_draw[k - 1] < MOVE_TRADE_SHARE:
                emit(k, b"T", b"A", 0, best, bids[0], False, best, best + 1)
            fresh = [int(x) for x in fresh_bids[k, DEPTH + step :]]
            bids = (bids[-step:] + fresh)[:DEPTH]
            emit(k, b"C", b"B", 0, best, 0, False, best + step, best + 1)
            joined = [int(x) for x in fresh_asks[k, :-step]]
            asks = (joined + asks)[:DEPTH]
            best += step
            emit(k, b"A", b"A", 0, best + 1, asks[0], True, best, best + 1)
        elif kind_draw[k - 1] < trade_share and (asks if buy_draw[k - 1] else bids)[0] >= 2:
            touch = asks if buy_draw[k - 1] else bids
            quantity = 1 + int(quantity_draw[k - 1] * min(touch[0] - 1, MAX_TRADE))
            aggressor, resting = (b"B", b"A") if buy_draw[k - 1] else (b"A", b"B")
            price = best + 1 if buy_draw[k - 1] else best
            emit(k, b"T", aggressor, 0, price, quantity, False, best, best + 1)
            touch[0] -= quantity
            emit(k, b"M", resting, 0, price, touch[0], True, best, best + 1)
        else:
            depth = int(level_draw[k - 1])
            levels = asks if buy_draw[k - 1] else bids
            levels[depth] = int(fresh_asks[k, depth] if buy_draw[k - 1] else fresh_bids[k, depth])
            price = best + 1 + depth if buy_draw[k - 1] else best - depth
            side = b"A" if buy_draw[k - 1] else b"B"
            emit(k, b"M", side, depth, price, levels[depth], True, best, best + 1)
    return _columns(rng, future, out, np.concatenate([[open_ns - SNAPSHOT_LEAD_NS], times]))


def _columns(
    rng: np.random.Generator, future: int, out: _Records, event_ns: np.ndarray
) -> FuturesTape:
    event = np.array(out.event, dtype=np.int64)
    latency = rng.integers(8_000, 40_000, len(event_ns))
    sizes = np.array(out.sizes, dtype=np.uint32).reshape(len(event), 2 * DEPTH)
    below = np.arange(DEPTH, dtype=np.int64)
    best_bid = np.array(out.best_bid, dtype=np.int64)[:, None]
    best_ask = np.array(out.best_ask, dtype=np.int64)[:, None]
    return FuturesTape(
        future=np.full(len(event), future, dtype=np.int64),
        ts_event=event_ns[event],
        ts_recv=(event_ns + latency)[event],
        ts_in_delta=rng.integers(9_000, 30_000, len(event_ns)).astype(np.int32)[event],
        action=np.array(out.action, dtype="S1"),
        side=np.array(out.side, dtype="S1"),
        depth=np.array(out.depth, dtype=np.uint8),
        price=np.array(out.price_ticks, dtype=np.int64) * TICK,
        size=np.array(out.size, dtype=np.uint32),
        flags=np.where(np.array(out.last), F_LAST, 0).astype(np.uint8),
        bid_px=(best_bid - below) * TICK,
        ask_px=(best_ask + below) * TICK,
        bid_sz=sizes[:, :DEPTH],
        ask_sz=sizes[:, DEPTH:],
    )


def _concatenate(tapes: list[FuturesTape]) -> FuturesTape:
    names = FuturesTape.__dataclass_fields__
    return FuturesTape(
        **{name: np.concatenate([getattr(t, name) for t in tapes]) for name in names}
    )


def _take(tape: FuturesTape, rows: np.ndarray) -> FuturesTape:
    names = FuturesTape.__dataclass_fields__
    return FuturesTape(**{name: getattr(tape, name)[rows] for name in names})

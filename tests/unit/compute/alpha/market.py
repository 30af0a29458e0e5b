"""A small CME market built in the test, with its own Black-76 (statistics.NormalDist, not
the engine's): CL futures quoted a tick either side of a random walk, LO options quoted a
tick either side of their Black-76 value from a known smile, requoted as the future moves
(a change stream: only changed quotes are sent); futures trades with their aggressor keep
event time moving. A quiet spell freezes every quote while the trades go on. On request
also the front future's MBP-10 depth, a perpetual's funding and open interest."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

from schemas.book import F_LAST, BookLevel, Mbp10Event, Mbp10Record
from schemas.cme import STAT_OPEN_INTEREST, CmeInstrument, CmeQuote, CmeStatistic, CmeTrade
from schemas.crypto import MarkPrice
from schemas.events import Event

NORMAL = NormalDist()
SCALE = 1_000_000_000
TICK = 10_000_000  # $0.01: CL futures and LO options
YEAR_NS = 365 * 86_400 * SCALE
SECOND = 1_000_000_000
MS = 1_000_000
DAY = 86_400 * SECOND
T0 = 1_780_000_000 * SECOND  # 2026-05-28 20:26:40 UTC
PERPETUAL = "CL-USDT-PERP"


def b76_undiscounted(forward: float, strike: float, vol: float, time: float, call: bool) -> float:
    spread = vol * math.sqrt(time)
    d1 = (math.log(forward / strike) + 0.5 * spread * spread) / spread
    d2 = d1 - spread
    if call:
        return forward * NORMAL.cdf(d1) - strike * NORMAL.cdf(d2)
    return strike * NORMAL.cdf(-d2) - forward * NORMAL.cdf(-d1)


def b76_price(
    forward: float, strike: float, vol: float, time: float, rate: float, call: bool
) -> float:
    return math.exp(-rate * time) * b76_undiscounted(forward, strike, vol, time, call)


def reference_vol(
    price: float, forward: float, strike: float, time: float, rate: float, call: bool
) -> float:
    """Plain bisection on the test's Black-76 price (200 halvings of [1e-6, 5])."""
    low, high = 1e-6, 5.0
    for _ in range(200):
        middle = 0.5 * (low + high)
        if b76_price(forward, strike, middle, time, rate, call) < price:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


@dataclass(frozen=True)
class Smile:
    """vol(k) = atm + skew k + curvature k^2 in log-moneyness k = ln(K / F)."""

    atm: float
    skew: float
    curvature: float

    def vol(self, k: float) -> float:
        return self.atm + self.skew * k + self.curvature * k * k

    def _k_at_call_delta(self, target: float, time: float) -> float:
        low, high = -1.0, 1.0  # the call delta falls as k rises
        for _ in range(200):
            k = 0.5 * (low + high)
            vol = self.vol(k)
            d1 = (-k + 0.5 * vol * vol * time) / (vol * math.sqrt(time))
            if NORMAL.cdf(d1) > target:
                low = k
            else:
                high = k
        return 0.5 * (low + high)

    def rr25(self, time: float) -> float:
        """25-delta call vol minus 25-delta put vol (forward deltas), in vol points."""
        call_k = self._k_at_call_delta(0.25, time)
        put_k = self._k_at_call_delta(0.75, time)  # a put's delta is the call's minus 1
        return (self.vol(call_k) - self.vol(put_k)) * 100


@dataclass
class Expiry:
    future_id: int
    future_symbol: str
    expiration: int
    basis: int  # this future's price minus the front future's (1e-9)
    smile: Smile
    option_ids: dict[tuple[int, bool], int] = field(default_factory=dict)


@dataclass
class CmeMarket:
    seed: int = 1
    rate: float = 0.04
    start: int = T0
    price: int = 70 * SCALE
    strikes: tuple[int, ...] = tuple(range(55 * SCALE, 85 * SCALE + 1, SCALE // 2))
    expiries: list[Expiry] = field(default_factory=list)
    quotes: dict[int, tuple[int | None, int | None]] = field(default_factory=dict)
    sequence: int = 0

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        if not self.expiries:
            self.expiries = [
                Expiry(101, "CLN6", self.start + 40 * DAY, 0, Smile(0.35, -0.30, 0.9)),
                Expiry(102, "CLQ6", self.start + 70 * DAY, 250_000_000, Smile(0.33, -0.25, 0.6)),
            ]
        self.names: dict[int, str] = {}
        next_id = 1000
        for expiry in self.expiries:
            self.names[expiry.future_id] = expiry.future_symbol
            for strike in self.strikes:
                for call in (True, False):
                    expiry.option_ids[(strike, call)] = next_id
                    right = "C" if call else "P"
                    self.names[next_id] = f"LO{expiry.future_symbol[2:]} {right}{strike // 10**7}"
                    next_id += 1

    def _seq(self) -> int:
        self.sequence += 1
        return self.sequence

    def _definition_header(self, ts: int, iid: int) -> dict[str, Any]:
        header = self._header(ts, iid)
        del header["sequence"]
        return header

    def _header(self, ts: int, iid: int) -> dict[str, Any]:
        """What every market event says of itself; a fresh sequence number too."""
        return {
            "ts_recv": ts, "ts_event": ts, "publisher_id": 1, "instrument_id": iid,
            "source": "test", "symbol": self.names.get(iid, ""), "sequence": self._seq(),
        }  # fmt: skip

    def definitions(self, ts: int) -> list[Event]:
        events: list[Event] = []
        for expiry in self.expiries:
            events.append(
                CmeInstrument(
                    **self._definition_header(ts, expiry.future_id),
                    instrument_class="F",
                    asset="CL",
                    expiration=expiry.expiration + DAY,
                    multiplier=1000 * SCALE,
                    tick=TICK,
                    cfi="FCAXSX",
                )
            )
            for (strike, call), iid in expiry.option_ids.items():
                events.append(
                    CmeInstrument(
                        **self._definition_header(ts, iid),
                        instrument_class="C" if call else "P",
                        asset="LO",
                        expiration=expiry.expiration,
                        multiplier=1000 * SCALE,
                        tick=TICK,
                        cfi="OCAFPS" if call else "OPAFPS",
                        strike_price=strike,
                        underlying_id=expiry.future_id,
                        underlying_symbol=expiry.future_symbol,
                    )
                )
        return events

    def _quote(self, ts: int, iid: int, bid: int | None, ask: int | None) -> Event:
        return CmeQuote(
            **self._header(ts, iid),
            bid_px=bid,
            ask_px=ask,
            bid_sz=10,
            ask_sz=12,
        )

    def forward(self, expiry: Expiry) -> int:
        return self.price + expiry.basis

    def requote(self, ts: int) -> list[Event]:
        """Every quote that changed since it was last sent, at `ts`, `ts` + 1 µs, ..."""
        events: list[Event] = []
        for expiry in self.expiries:
            forward = self.forward(expiry)
            wanted: list[tuple[int, int | None, int | None]] = [
                (expiry.future_id, forward - TICK, forward + TICK)
            ]
            time = (expiry.expiration - ts) / YEAR_NS
            f = forward / SCALE
            for (strike, call), iid in expiry.option_ids.items():
                k = strike / SCALE
                vol = expiry.smile.vol(math.log(k / f))
                fair = round(b76_price(f, k, vol, time, self.rate, call) * SCALE / TICK) * TICK
                bid = fair - TICK if fair - TICK > 0 else None
                wanted.append((iid, bid, fair + TICK))
            for iid, bid, ask in wanted:
                if self.quotes.get(iid) != (bid, ask):
                    self.quotes[iid] = (bid, ask)
                    events.append(self._quote(ts + len(events) * 1_000, iid, bid, ask))
        return events

    def trade(self, ts: int) -> Event:
        front = self.expiries[0]
        side = self.random.choice("BAN")
        return CmeTrade(
            **self._header(ts, front.future_id),
            price=self.price + (TICK if side == "B" else -TICK),
            size=self.random.randint(1, 20),
            side=side,
        )

    def depth(self, ts: int) -> Event:
        """The front future's ten levels a side around its quote, random sizes."""
        front = self.expiries[0]
        bids = [
            BookLevel(self.price - (i + 1) * TICK, self.random.randint(1, 50), 1) for i in range(10)
        ]
        asks = [
            BookLevel(self.price + (i + 1) * TICK, self.random.randint(1, 50), 1) for i in range(10)
        ]
        header = self._header(ts, front.future_id)
        record = Mbp10Record(ts, header["sequence"], "M", "B", 0, bids[0].price, bids[0].size,
                             F_LAST, bids, asks)  # fmt: skip
        return Mbp10Event(**header, venue="GLBX", records=[record])

    def funding(self, ts: int) -> Event:
        return MarkPrice(
            **{**self._header(ts, 0), "symbol": PERPETUAL}, venue="bybit-linear",
            venue_symbol="CLUSDT", mark_px=self.price,
            funding_rate=self.random.randint(-50_000, 50_000),
        )  # fmt: skip

    def open_interest(self, ts: int) -> Event:
        front = self.expiries[0]
        return CmeStatistic(
            **self._header(ts, front.future_id), stat_type=STAT_OPEN_INTEREST, price=None,
            quantity=self.random.randint(1, 10**6),
        )  # fmt: skip

    def session(
        self,
        seconds: int,
        quiet: tuple[int, int] | None = None,
        step_ms: int = 500,
        extras: bool = False,
    ) -> tuple[list[Event], list[tuple[int, int]]]:
        """Definitions, then every `step_ms` a move of the future (1-3 ticks, never 0), the
        requotes it brings and a trade; between `quiet` (seconds from the start) nothing
        moves but the trades. With `extras` every step also brings the front's depth, its
        open interest and the perpetual's funding. Also the path: (ts of each move, the
        front's price after)."""
        events: list[Event] = self.definitions(self.start)
        path: list[tuple[int, int]] = []
        ts = self.start + 100 * MS
        end = self.start + seconds * SECOND
        while ts < end:
            in_quiet = (
                quiet is not None and quiet[0] * SECOND <= ts - self.start < quiet[1] * SECOND
            )
            if not in_quiet:
                self.price += self.random.choice((-3, -2, -1, 1, 2, 3)) * TICK
                events.extend(self.requote(ts))
                path.append((ts, self.price))
            events.append(self.trade(ts + 300 * MS))
            if extras:
                events += [self.depth(ts + 310 * MS), self.funding(ts + 320 * MS)]
                events.append(self.open_interest(ts + 330 * MS))
            ts += step_ms * MS
        return events, path

"""Planted option flow with known truth: sweeps, splits, blocks, multi-leg structures, ...

Each planted event gets its own contracts and time window. Inside the window the generator
writes the NBBO itself (an anchor quote before the first print, size decrements between
prints, a lifted or dropped touch right after the last one, or a move just before the
print), and background prints and quotes of those contracts are kept out of the window
widened by a second, so the truth is unambiguous and only a backward as-of join (the last
quote strictly before the print's `ts_recv`) reads the side right.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np

from synth.universe import NS, PRICE_SCALE, Universe, nbbo_from_theo, theo_price

US = 1_000
MS = 1_000_000
WINDOW_PAD = NS  # background of the same contract stays this far from planted prints
BUY, SELL = 1, -1
SIDE_NAME = {BUY: "buy", SELL: "sell", 0: "unknown"}

STRUCTURES = (
    "vertical",
    "straddle",
    "strangle",
    "butterfly",
    "calendar",
    "ladder",
    "risk_reversal",
)
PROBE_VARIANTS = ("at_ask_then_lift", "at_bid_then_drop", "at_mid", "moved_just_before")


@dataclass
class Draft:
    """A planted event before its prints have final timestamps and sequences."""

    label_id: str
    kind: str
    packet_kind: str
    underlying: int
    side: str
    prints: list[int]
    structure: str | None = None
    # (contract, side, ratio, size) per leg
    legs: list[tuple[int, str, int, int]] = field(default_factory=list)
    variant: str | None = None
    near: str | None = None
    note: str = ""


class OptionPlanter:
    """Accumulates planted quotes and prints (times relative to the open, in ns).

    `pick` wants a contract's planted windows clear of [t - lead_ns, t + span + trail_ns]
    (plus the padding), so an event that quotes or prints further around `t` widens them.
    """

    lead_ns = NS
    trail_ns = 0

    def __init__(
        self,
        rng: random.Random,
        universe: Universe,
        paths: np.ndarray,
        open_ns: int,
        duration_ns: int,
        venues: list[int],
        venue_weights: list[float],
    ) -> None:
        self.rng = rng
        self.u = universe
        self.paths = paths
        self.open_ns = open_ns
        self.duration_ns = duration_ns
        self.venues = venues
        self.venue_weights = venue_weights
        self.quotes: dict[str, list[int]] = {
            k: [] for k in ("ts", "c", "bid", "ask", "bsz", "asz", "bpb", "apb", "pub", "side")
        }
        self.prints: dict[str, list[int]] = {k: [] for k in ("ts", "c", "pub", "price", "size")}
        self.print_side: list[int] = []
        self.windows: dict[int, list[tuple[int, int]]] = {}
        self.drafts: list[Draft] = []
        self.oi_override: dict[int, int] = {}
        self._counts: dict[str, int] = {}
        self._by_under: dict[int, np.ndarray] = {
            u: np.flatnonzero(universe.c_under == u) for u in range(len(universe.tickers))
        }

    # ------------------------------------------------------------------ primitives

    def _label_id(self, kind: str) -> str:
        n = self._counts.get(kind, 0) + 1
        self._counts[kind] = n
        return f"{kind}-{n:04d}"

    def theo(self, contract: int, t: int) -> float:
        value = theo_price(
            self.u, self.paths, np.array([contract]), np.array([self.open_ns + t]), self.open_ns
        )
        return float(value[0])

    def nbbo(self, contract: int, t: int) -> tuple[int, int, int]:
        """Bid, ask and tick at relative time t."""
        theo = self.theo(contract, t)
        bid, ask = nbbo_from_theo(np.array([theo]))
        tick = PRICE_SCALE // 100 if theo < 3.0 else PRICE_SCALE // 20
        return int(bid[0]), int(ask[0]), tick

    def venue(self, exclude: tuple[int, ...] = ()) -> int:
        while True:
            v = self.rng.choices(self.venues, self.venue_weights)[0]
            if v not in exclude:
                return v

    def distinct_venues(self, n: int) -> list[int]:
        chosen: list[int] = []
        while len(chosen) < n:
            chosen.append(self.venue(tuple(chosen)))
        return chosen

    def free(self, contract: int, lo: int, hi: int) -> bool:
        return all(
            hi + 2 * WINDOW_PAD < a or lo - 2 * WINDOW_PAD > b
            for a, b in self.windows.get(contract, [])
        )

    def reserve(self, contract: int, lo: int, hi: int) -> None:
        self.windows.setdefault(contract, []).append((lo - WINDOW_PAD, hi + WINDOW_PAD))

    def quote(
        self, c: int, t: int, bid: int, ask: int, bsz: int, asz: int, pub: int, side: str
    ) -> None:
        q = self.quotes
        q["ts"].append(t)
        q["c"].append(c)
        q["bid"].append(bid)
        q["ask"].append(ask)
        q["bsz"].append(bsz)
        q["asz"].append(asz)
        q["bpb"].append(pub if side in "BN" else self.venue())
        q["apb"].append(pub if side in "AN" else self.venue())
        q["pub"].append(pub)
        q["side"].append(ord(side))

    def print_(self, c: int, t: int, pub: int, price: int, size: int, side: int) -> int:
        p = self.prints
        p["ts"].append(t)
        p["c"].append(c)
        p["pub"].append(pub)
        p["price"].append(price)
        p["size"].append(size)
        self.print_side.append(side)
        return len(self.print_side) - 1

    def pick(
        self,
        t: int,
        span: int,
        *,
        under: int | None = None,
        min_theo: float = 0.30,
        max_theo: float = 40.0,
        exclude_under: bool = False,
        tries: int = 400,
    ) -> int | None:
        """A random contract priced in [min_theo, max_theo] with no window near [t, t+span]."""
        for _ in range(tries):
            if under is None:
                c = self.rng.randrange(self.u.n_contracts)
            else:
                pool = self._by_under[under]
                c = int(pool[self.rng.randrange(len(pool))])
                if exclude_under and int(self.u.c_under[c]) == under:
                    continue
            if not self.free(c, t - self.lead_ns, t + span + self.trail_ns):
                continue
            if min_theo <= self.theo(c, t) <= max_theo:
                return c
        return None

    def anchor_gap(self) -> int:
        # A third of the time the quote changes only microseconds before the first print.
        if self.rng.random() < 0.3:
            return self.rng.randint(3 * US, 60 * US)
        return self.rng.randint(2 * MS, 400 * MS)

    def _react_gap(self, room: int) -> int:
        return max(1, min(self.rng.randint(20 * US, 300 * US), room // 2))

    def aggressive(
        self,
        c: int,
        t0: int,
        side: int,
        venues: list[int],
        offsets: list[int],
        sizes: list[int],
        *,
        lift: bool = True,
        gap: int | None = None,
    ) -> list[int]:
        """Prints that take the touch on `side`, the NBBO reacting after each of them.

        The anchor quote goes `gap` before the first print (`anchor_gap()` when None).
        """
        bid, ask, tick = self.nbbo(c, t0)
        total = sum(sizes)
        other = self.rng.randint(10, 400)
        spread = ask - bid
        anchor = t0 - (self.anchor_gap() if gap is None else gap)
        bsz, asz = (other, total) if side == BUY else (total, other)
        self.quote(c, anchor, bid, ask, bsz, asz, venues[0], "A" if side == BUY else "B")
        price = ask if side == BUY else bid
        members = []
        remaining = total
        times = [t0 + off for off in offsets]
        for i, (venue, t, size) in enumerate(zip(venues, times, sizes, strict=True)):
            members.append(self.print_(c, t, venue, price, size, side))
            remaining -= size
            room = (times[i + 1] - t) if i + 1 < len(times) else 400 * US
            tq = t + self._react_gap(room)
            if i + 1 < len(times):
                nxt = venues[i + 1]
                if side == BUY:
                    self.quote(c, tq, bid, ask, bsz, remaining, nxt, "A")
                else:
                    self.quote(c, tq, bid, ask, remaining, asz, nxt, "B")
            elif lift:
                size_new = self.rng.randint(5, 300)
                if side == BUY:  # the touch lifts: the old ask becomes the bid
                    self.quote(c, tq, ask, ask + spread, size_new, other, venue, "N")
                else:  # the touch drops: the old bid becomes the ask
                    new_bid = max(PRICE_SCALE // 100, bid - spread)
                    if new_bid == bid:
                        new_bid = bid - tick if bid > tick else bid
                    self.quote(c, tq, new_bid, bid, other, size_new, venue, "N")
        self.reserve(c, anchor, times[-1])
        return members

    def split_sizes(self, total: int, n: int) -> list[int]:
        cuts = sorted(self.rng.sample(range(1, total), n - 1)) if total > n else []
        if not cuts:
            return [max(1, total // n)] * n
        edges = [0, *cuts, total]
        return [b - a for a, b in zip(edges, edges[1:], strict=False)]

    def offsets(self, n: int, span: int) -> list[int]:
        points = sorted(self.rng.sample(range(1, max(n + 1, span // US)), n - 1))
        return [0, *(p * US for p in points)]

    # ------------------------------------------------------------------ event kinds

    def _draft(self, kind: str, packet_kind: str, c: int, side: int, prints: list[int]) -> Draft:
        draft = Draft(
            label_id=self._label_id(kind),
            kind=kind,
            packet_kind=packet_kind,
            underlying=int(self.u.c_under[c]),
            side=SIDE_NAME[side],
            prints=prints,
        )
        self.drafts.append(draft)
        return draft

    def _size_for(self, c: int, t: int, premium_dollars: float, n: int) -> int:
        px = max(self.theo(c, t), 0.05)
        return max(n, int(premium_dollars / (px * 100)))

    def sweep(self, t0: int, *, golden: bool = False, under: int | None = None) -> Draft | None:
        span = self.rng.randint(2 * MS, 250 * MS) if not golden else self.rng.randint(MS, 150 * MS)
        c = self.pick(t0, span, under=under, min_theo=2.0 if golden else 0.30)
        if c is None:
            return None
        side = BUY if (golden and self.rng.random() < 0.8) or self.rng.random() < 0.6 else SELL
        n = self.rng.randint(3, 5) if golden else self.rng.randint(2, 5)
        premium = self.rng.uniform(1.2e6, 3.0e6) if golden else self.rng.uniform(4e4, 6e5)
        total = self._size_for(c, t0, premium, n)
        bid, ask, _ = self.nbbo(c, t0)
        px = ask if side == BUY else bid
        if golden:
            while px * total * 100 // PRICE_SCALE <= 1_000_000:
                total += max(1, total // 10)
        else:
            total = min(total, max(n, int(9e5 * PRICE_SCALE / (px * 100))))
        sizes = self.split_sizes(total, n)
        prints = self.aggressive(c, t0, side, self.distinct_venues(n), self.offsets(n, span), sizes)
        draft = self._draft("golden_sweep" if golden else "sweep", "sweep", c, side, prints)
        if golden:
            self.oi_override[c] = max(1, int(total * self.rng.uniform(0.15, 0.8)))
        else:
            self.oi_override.setdefault(c, total + self.rng.randint(1, 5 * total + 10))
        return draft

    def split(self, t0: int, *, under: int | None = None) -> Draft | None:
        span = self.rng.randint(120 * MS, 400 * MS)
        c = self.pick(t0, span, under=under)
        if c is None:
            return None
        side = BUY if self.rng.random() < 0.55 else SELL
        n = self.rng.randint(2, 5)
        total = self._size_for(c, t0, self.rng.uniform(3e4, 4e5), n)
        venue = self.venue()
        prints = self.aggressive(
            c, t0, side, [venue] * n, self.offsets(n, span), self.split_sizes(total, n)
        )
        return self._draft("split", "split", c, side, prints)

    def repeated_hits(self, t0: int, *, under: int | None = None) -> Draft | None:
        span = self.rng.randint(30 * MS, 95 * MS)
        c = self.pick(t0, span, under=under, min_theo=0.8)
        if c is None:
            return None
        side = BUY if self.rng.random() < 0.6 else SELL
        n = self.rng.randint(6, 10)
        total = self._size_for(c, t0, self.rng.uniform(5e4, 3e5), n)
        venue = self.venue()
        prints = self.aggressive(
            c, t0, side, [venue] * n, self.offsets(n, span), self.split_sizes(total, n)
        )
        draft = self._draft("repeated_hits", "split", c, side, prints)
        draft.note = f"{n} prints within {span // MS} ms on one venue"
        return draft

    def block(self, t0: int, *, under: int | None = None) -> Draft | None:
        c = self.pick(t0, 0, under=under, min_theo=1.0)
        if c is None:
            return None
        size = self.rng.randint(500, 3000)
        if self.rng.random() < 0.25:
            bid, ask, tick = self.nbbo(c, t0)
            side = BUY if self.rng.random() < 0.5 else SELL
            anchor = t0 - self.anchor_gap()
            # The resting size on the aggressor's far side is larger (depth rule agrees).
            big, small = self.rng.randint(200, 800), self.rng.randint(5, 150)
            bsz, asz = (small, big) if side == BUY else (big, small)
            self.quote(c, anchor, bid, ask, bsz, asz, self.venue(), "N")
            mid = (bid + ask) // 2 // (PRICE_SCALE // 100) * (PRICE_SCALE // 100)
            if not bid < mid < ask:
                mid = bid + tick if ask - bid > tick else bid
            prints = [self.print_(c, t0, self.venue(), mid, size, side)]
            self.reserve(c, anchor, t0)
            draft = self._draft("block", "block", c, side, prints)
            draft.variant = "mid"
            return draft
        side = BUY if self.rng.random() < 0.55 else SELL
        prints = self.aggressive(c, t0, side, [self.venue()], [0], [size])
        draft = self._draft("block", "block", c, side, prints)
        draft.variant = "at_ask" if side == BUY else "at_bid"
        return draft

    def side_probe(self, t0: int, variant: str, *, under: int | None = None) -> Draft | None:
        c = self.pick(t0, 0, under=under, min_theo=0.5)
        if c is None:
            return None
        size = self.rng.randint(1, 60)
        venue = self.venue()
        if variant in ("at_ask_then_lift", "at_bid_then_drop"):
            side = BUY if variant == "at_ask_then_lift" else SELL
            prints = self.aggressive(c, t0, side, [venue], [0], [size])
        else:
            bid, ask, tick = self.nbbo(c, t0)
            side = BUY if self.rng.random() < 0.5 else SELL
            anchor = t0 - self.rng.randint(5 * MS, 400 * MS)
            bsz, asz = self.rng.randint(10, 400), self.rng.randint(10, 400)
            if variant == "at_mid":
                bsz, asz = (min(bsz, asz), max(bsz, asz) + 1)
                if side == SELL:
                    bsz, asz = asz, bsz
                self.quote(c, anchor, bid, ask, bsz, asz, self.venue(), "N")
                mid = (bid + ask) // 2 // (PRICE_SCALE // 100) * (PRICE_SCALE // 100)
                if not bid < mid < ask:  # a one-tick market: widen so a mid print exists
                    ask = bid + 2 * tick
                    self.quote(c, anchor + 10 * US, bid, ask, bsz, asz, self.venue(), "A")
                    mid = bid + tick
                prints = [self.print_(c, t0, venue, mid, size, side)]
                self.reserve(c, anchor, t0)
            else:  # moved_just_before: the stale quote says the opposite of the truth
                spread = ask - bid
                if side == BUY and bid - spread < PRICE_SCALE // 100:
                    side = SELL
                self.quote(c, anchor, bid, ask, bsz, asz, self.venue(), "N")
                moved = t0 - self.rng.randint(5 * US, 60 * US)
                if side == SELL:  # touch jumps up: old ask is the new bid, a seller hits it
                    self.quote(c, moved, ask, ask + spread, size, asz, venue, "N")
                    price = ask
                else:  # touch drops: old bid is the new ask, a buyer lifts it
                    new_bid = bid - spread
                    self.quote(c, moved, new_bid, bid, bsz, size, venue, "N")
                    price = bid
                prints = [self.print_(c, t0, venue, price, size, side)]
                self.reserve(c, anchor, t0)
        draft = self._draft("side_probe", "single", c, side, prints)
        draft.variant = variant
        return draft

    def distractor(self, near: Draft, t_ref: int) -> None:
        t = t_ref + self.rng.choice((-1, 1)) * self.rng.randint(2 * MS, 400 * MS)
        if t < 2 * NS or t > self.duration_ns - NS:
            return
        c = self.pick(t, 0, under=near.underlying, min_theo=0.2, tries=60)
        if c is None:
            return
        side = BUY if self.rng.random() < 0.5 else SELL
        prints = self.aggressive(
            c, t, side, [self.venue()], [0], [self.rng.randint(1, 20)], lift=False
        )
        draft = self._draft("distractor", "single", c, side, prints)
        draft.near = near.label_id
        draft.note = "unrelated print close to a planted event; must not join its packet"

    def multi_leg(self, t0: int, structure: str) -> Draft | None:
        for _ in range(60):
            legs = self._structure_legs(t0, structure)
            if legs is not None:
                break
        else:
            return None
        venue = self.venue()
        qty = self.rng.randint(10, 400)
        prints: list[int] = []
        leg_rows: list[tuple[int, str, int, int]] = []
        t = t0
        for k, (c, side, ratio) in enumerate(legs):
            if k:  # legs of one complex order print microseconds apart, in leg order
                t += self.rng.randint(1 * US, 40 * US)
            bid, ask, tick = self.nbbo(c, t0)
            anchor = t0 - self.rng.randint(3 * MS, 400 * MS)
            self.quote(
                c,
                anchor,
                bid,
                ask,
                self.rng.randint(10, 400),
                self.rng.randint(10, 400),
                self.venue(),
                "N",
            )
            mid = (bid + ask) / 2
            lean = self.rng.uniform(0.25, 1.0)
            if side == BUY:  # pays up: between mid and ask, on the tick
                price = min(ask, int(math.ceil((mid + lean * (ask - mid)) / tick)) * tick)
            else:
                price = max(bid, int(math.floor((mid - lean * (mid - bid)) / tick)) * tick)
            size = qty * ratio
            prints.append(self.print_(c, t, venue, price, size, side))
            leg_rows.append((c, SIDE_NAME[side], ratio, size))
            self.reserve(c, anchor, t)
        sides = {row[1] for row in leg_rows}
        draft = self._draft("multi_leg", "multi_leg", legs[0][0], 0, prints)
        draft.side = sides.pop() if len(sides) == 1 else "mixed"
        draft.structure = structure
        draft.legs = leg_rows
        return draft

    def _structure_legs(self, t0: int, structure: str) -> list[tuple[int, int, int]] | None:
        u = self.rng.randrange(len(self.u.tickers))
        pool = self._by_under[u]
        n_exp = len(self.u.expiries)
        expiry = self.rng.randrange(n_exp)
        positions = sorted(set(self.u.c_strike_pos[pool].tolist()))
        mid_pos = positions[len(positions) // 2]
        direction = BUY if self.rng.random() < 0.6 else SELL
        flip = -direction

        def find(e: int, pos: int, put: bool) -> int | None:
            hit = pool[
                (self.u.c_expiry[pool] == e)
                & (self.u.c_strike_pos[pool] == pos)
                & (self.u.c_put[pool] == put)
            ]
            return int(hit[0]) if len(hit) else None

        put = self.rng.random() < 0.5
        off = self.rng.randint(1, 3)
        legs: list[tuple[int | None, int, int]]
        if structure == "vertical":
            a = mid_pos + self.rng.randint(-2, 1)
            legs = [(find(expiry, a, put), direction, 1), (find(expiry, a + off, put), flip, 1)]
        elif structure == "straddle":
            legs = [
                (find(expiry, mid_pos, False), direction, 1),
                (find(expiry, mid_pos, True), direction, 1),
            ]
        elif structure == "strangle":
            legs = [
                (find(expiry, mid_pos + off, False), direction, 1),
                (find(expiry, mid_pos - off, True), direction, 1),
            ]
        elif structure == "butterfly":
            a = mid_pos - off
            legs = [
                (find(expiry, a, put), direction, 1),
                (find(expiry, a + off, put), flip, 2),
                (find(expiry, a + 2 * off, put), direction, 1),
            ]
        elif structure == "calendar":
            if n_exp < 2:
                return None
            near, far = sorted(self.rng.sample(range(n_exp), 2))
            legs = [(find(near, mid_pos, put), flip, 1), (find(far, mid_pos, put), direction, 1)]
        elif structure == "ladder":
            a = mid_pos + self.rng.randint(-1, 0)
            legs = [
                (find(expiry, a, put), direction, 1),
                (find(expiry, a + off, put), flip, 1),
                (find(expiry, a + 2 * off, put), flip, 1),
            ]
        elif structure == "risk_reversal":
            legs = [
                (find(expiry, mid_pos + off, False), direction, 1),
                (find(expiry, mid_pos - off, True), flip, 1),
            ]
        else:
            raise ValueError(f"unknown structure {structure!r}")
        out: list[tuple[int, int, int]] = []
        for c, side, ratio in legs:
            if c is None or not self.free(c, t0 - NS, t0 + MS) or self.theo(c, t0) < 0.10:
                return None
            out.append((c, side, ratio))
        if len({c for c, _, _ in out}) != len(out):
            return None
        return out

"""The hard profile's planted flow: what a real tape does to a detector, with its truth.

On top of the standard planted kinds (sweeps, golden sweeps, splits, blocks, repeated hits,
side probes) this plants:

- Complex orders of two, three and four legs (`synth.leg_sets.STRUCTURES`). Every print of
  one order falls within 100 us, in receive time and in event time alike, its legs in any
  order inside that window; a leg may print as several prints across venues; each print
  fills on its leg's side of the mid (buys above it, sells below it), not always at the touch.
- Unrelated prints beside a complex order, labelled `distractor` with `near` set to it:
  `same_underlying_other_venue` prints of another contract of the order's underlying, on a
  venue the order did not use, 130 to 400 us before or after it (outside its 100 us, inside
  the same few hundred microseconds), and `other_underlying_same_venue` prints on a venue of
  the order within 40 us of one of its prints.
- `same_contract_near_sweep` distractors: prints of a sweep's own contract 0.6 to 1.5 s
  before its first print or after its last (outside a 500 ms cluster window, but close).
- Quotes in force of three ages: a change within a millisecond before the print (the NBBO
  moved into it from a different one), seconds old (a quiet contract: the last change still
  stands), or milliseconds old; the NBBO reacts within a millisecond after aggressive prints.

Truth stays separable: the events of one underlying never overlap in time
(`EVENT_BEFORE`..`EVENT_AFTER` around each), so any two prints of one underlying within
100 us belong to one complex order; the background keeps away from planted prints of their
underlying (`synth.hard_background`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import numpy as np

from schemas.events import PRICE_SCALE
from synth.hard_background import GUARD_NS
from synth.leg_sets import STRUCTURES, leg_set
from synth.planted import BUY, PROBE_VARIANTS, SELL, SIDE_NAME, Draft, OptionPlanter
from synth.universe import CENT, NS, Universe

US = 1_000
MS = 1_000_000
QUIET_GAP = (1_500 * MS, 6 * NS)
MOVED_GAP = (1 * US, MS)
PLAIN_GAP = (2 * MS, 400 * MS)
ORDER_EVENT_SPAN = 75 * US  # spread of one order's prints in event time
RECEIPT_SKEW = 24 * US  # extra receive delay per print: receive span stays under 100 us
APART = (130 * US, 400 * US)
SAME_INSTANT = 40 * US
NEAR_SWEEP = (600 * MS, 1_500 * MS)
COINCIDENT_SHARE = 0.6
LEG_SPLIT_SHARE = 0.35  # legs that print across two or three venues
EVENT_BEFORE, EVENT_AFTER = 1_600 * MS, 2_000 * MS
FIRST_EVENT = 10 * NS
ATTEMPTS = 30


class HardPlanter(OptionPlanter):
    """An `OptionPlanter` whose events carry the hard profile's texture (module docstring)."""

    lead_ns = QUIET_GAP[1] + 2 * NS  # quiet anchors and distractors come before t0
    trail_ns = 2 * NS  # distractors come after the sweep

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
        super().__init__(rng, universe, paths, open_ns, duration_ns, venues, venue_weights)
        self.prints["lat"] = []  # receive latency of each planted print
        self.busy: dict[int, list[tuple[int, int]]] = {}

    # ------------------------------------------------------------------ primitives

    def print_(self, c: int, t: int, pub: int, price: int, size: int, side: int) -> int:
        self.prints["lat"].append(self.rng.randint(150 * US, 450 * US))
        return super().print_(c, t, pub, price, size, side)

    def anchor_gap(self) -> int:
        r = self.rng.random()
        lo, hi = MOVED_GAP if r < 0.4 else QUIET_GAP if r < 0.6 else PLAIN_GAP
        return self.rng.randint(lo, hi)

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
        anchor = len(self.quotes["ts"])
        members = super().aggressive(c, t0, side, venues, offsets, sizes, lift=lift, gap=gap)
        self._move_into(anchor)
        return members

    def _move_into(self, row: int) -> None:
        """A different NBBO up to a millisecond before quote `row`, which then replaces it."""
        q = self.quotes
        bid, ask = q["bid"][row], q["ask"][row]
        tick = CENT if ask < 3 * PRICE_SCALE else 5 * CENT
        shift = self.rng.choice((-1, 1)) * tick
        new_bid = max(CENT, bid + shift)
        self.quote(
            q["c"][row],
            q["ts"][row] - self.rng.randint(20 * US, MS),
            new_bid,
            max(new_bid + tick, ask + shift),
            self.rng.randint(10, 400),
            self.rng.randint(10, 400),
            self.venue(),
            "N",
        )

    def underlying_free(self, under: int, lo: int, hi: int) -> bool:
        return all(hi < a or lo > b for a, b in self.busy.get(under, []))

    def occupy(self, under: int, lo: int, hi: int) -> None:
        self.busy.setdefault(under, []).append((lo, hi))

    # ------------------------------------------------------------------ event kinds

    def plant(self, kind: str, arg: str | None, t0: int, under: int, share: float) -> bool:
        """Plant one event of `kind` on `under` at `t0`; False when it did not fit."""
        kinds: dict[str, Callable[[], Draft | None]] = {
            "sweep": lambda: self.sweep_with_distractors(t0, under, share, golden=False),
            "golden_sweep": lambda: self.sweep_with_distractors(t0, under, share, golden=True),
            "split": lambda: self.split(t0, under=under),
            "block": lambda: self.block(t0, under=under),
            "repeated_hits": lambda: self.repeated_hits(t0, under=under),
            "side_probe": lambda: self.side_probe(t0, arg or PROBE_VARIANTS[0], under=under),
            "multi_leg": lambda: self.complex_order(t0, arg or STRUCTURES[0], under),
        }
        return kinds[kind]() is not None

    def sweep_with_distractors(
        self, t0: int, under: int, share: float, *, golden: bool
    ) -> Draft | None:
        first_quote = len(self.quotes["ts"])
        draft = self.sweep(t0, golden=golden, under=under)
        if draft is None or self.rng.random() >= share:
            return draft
        quoted_from = min(self.quotes["ts"][first_quote:])
        times = [self.prints["ts"][i] for i in draft.prints]
        c = self.prints["c"][draft.prints[0]]
        where = self.rng.choice(("before", "after", "both"))
        if where != "after":
            t = min(times) - self.rng.randint(*NEAR_SWEEP)
            if t < quoted_from - MS:  # a quiet sweep's anchor may already stand there
                self._near_sweep(draft, c, t)
        if where != "before":
            self._near_sweep(draft, c, max(times) + self.rng.randint(*NEAR_SWEEP))
        return draft

    def _near_sweep(self, sweep: Draft, c: int, t: int) -> None:
        side = BUY if self.rng.random() < 0.5 else SELL
        size = self.rng.randint(1, 40)
        gap = self.rng.randint(5 * MS, 300 * MS)
        prints = self.aggressive(c, t, side, [self.venue()], [0], [size], lift=False, gap=gap)
        self._distractor(sweep, c, side, prints, "same_contract_near_sweep")

    def _distractor(self, near: Draft, c: int, side: int, prints: list[int], variant: str) -> None:
        draft = self._draft("distractor", "single", c, side, prints)
        draft.near = near.label_id
        draft.variant = variant
        draft.note = "unrelated print close to a planted event; must not join its packet"

    def complex_order(self, t0: int, structure: str, under: int) -> Draft | None:
        legs = self._legs(t0, structure, under)
        if legs is None:
            return None
        venue = self.venue()
        unit = self.rng.randint(5, 150)
        latency = self.rng.randint(150 * US, 450 * US)
        span = self.rng.randint(2 * US, ORDER_EVENT_SPAN)
        prints: list[int] = []
        rows: list[tuple[int, str, int, int]] = []
        fills: list[tuple[int, int]] = []  # (receive time, venue) of every print
        for c, side, ratio in legs:
            size = unit * ratio
            n = self.rng.randint(2, 3) if self.rng.random() < LEG_SPLIT_SHARE else 1
            venues = [venue]
            while len(venues) < min(n, size):
                venues.append(self.venue(tuple(venues)))
            skews = [self.rng.randint(0, RECEIPT_SKEW) for _ in venues]
            times = [t0 + self.rng.randint(0, span) + skew for skew in skews]
            mine = self._leg(c, side, t0, venues, times, self.split_sizes(size, len(venues)))
            for i, skew in zip(mine, skews, strict=True):
                self.prints["lat"][i] = latency + skew
            prints += mine
            fills += list(zip(times, venues, strict=True))
            rows.append((c, SIDE_NAME[side], ratio, size))
        sides = {row[1] for row in rows}
        draft = self._draft("multi_leg", "multi_leg", legs[0][0], 0, prints)
        draft.side = sides.pop() if len(sides) == 1 else "mixed"
        draft.structure = structure
        draft.legs = rows
        if self.rng.random() < COINCIDENT_SHARE:
            self._apart(draft, under, fills, latency)
        if self.rng.random() < COINCIDENT_SHARE:
            self._same_instant(draft, under, fills, latency)
        return draft

    def _legs(self, t0: int, structure: str, under: int) -> list[tuple[int, int, int]] | None:
        pool = self._by_under[under]
        for _ in range(40):
            legs = leg_set(self.rng, self.u, pool, structure)
            contracts = [c for c, _, _ in legs]
            if not legs or None in contracts or len(set(contracts)) != len(legs):
                continue
            if all(
                self.free(c, t0 - self.lead_ns, t0 + self.trail_ns) and self.theo(c, t0) >= 0.10
                for c in contracts
                if c is not None
            ):
                return [(int(c), side, ratio) for c, side, ratio in legs if c is not None]
        return None

    def _leg(
        self, c: int, side: int, t0: int, venues: list[int], times: list[int], sizes: list[int]
    ) -> list[int]:
        """One leg's prints on its side of the mid, its quote before them and its reaction."""
        bid, ask, tick = self.nbbo(c, t0)
        first_quote = len(self.quotes["ts"])
        anchor = min(times) - self.anchor_gap()
        self.quote(
            c,
            anchor,
            bid,
            ask,
            self.rng.randint(10, 400),
            self.rng.randint(10, 400),
            venues[0],
            "N",
        )
        self._move_into(first_quote)
        mid = (bid + ask) / 2
        prints = []
        for venue, t, size in zip(venues, times, sizes, strict=True):
            lean = self.rng.uniform(0.1, 1.0)
            if side == BUY:  # pays up: above the mid, on the penny grid, at most the ask
                price = min(ask, math.ceil((mid + lean * (ask - mid)) / CENT) * CENT)
            else:
                price = max(bid, math.floor((mid - lean * (mid - bid)) / CENT) * CENT)
            prints.append(self.print_(c, t, venue, price, size, side))
        end = max(times)
        if self.rng.random() < 0.6:  # the touch on the leg's side moves within a millisecond
            end += self.rng.randint(5 * US, MS)
            bsz, asz = self.rng.randint(10, 400), self.rng.randint(10, 400)
            if side == BUY:
                self.quote(c, end, bid, ask + tick, bsz, asz, venues[0], "A")
            else:
                self.quote(c, end, max(CENT, bid - tick), ask, bsz, asz, venues[0], "B")
        self.reserve(c, min(self.quotes["ts"][first_quote:]), end)
        return prints

    def _apart(self, order: Draft, under: int, fills: list[tuple[int, int]], latency: int) -> None:
        """Prints of other contracts of the underlying, on other venues, just outside 100 us."""
        times = [t for t, _ in fills]
        used = tuple({v for _, v in fills})
        # At most one on each side, so the unrelated prints never pair up among themselves.
        for before in self.rng.choice(((True,), (False,), (True, False))):
            gap = self.rng.randint(*APART)
            t = min(times) - gap if before else max(times) + gap
            self._unrelated(
                order, under, t, self.venue(used), latency, "same_underlying_other_venue"
            )

    def _same_instant(
        self, order: Draft, under: int, fills: list[tuple[int, int]], latency: int
    ) -> None:
        """Prints of other underlyings on a venue of the order, within 40 us of its prints."""
        for _ in range(self.rng.randint(1, 2)):
            t_ref, venue = self.rng.choice(fills)
            t = t_ref + self.rng.randint(-SAME_INSTANT, SAME_INSTANT)
            others = [
                u
                for u in range(len(self.u.tickers))
                if u != under and self.underlying_free(u, t - GUARD_NS, t + GUARD_NS)
            ]
            if not others:
                return
            other = self.rng.choice(others)
            if self._unrelated(order, other, t, venue, latency, "other_underlying_same_venue"):
                self.occupy(other, t - GUARD_NS, t + GUARD_NS)

    def _unrelated(
        self, order: Draft, under: int, t: int, venue: int, latency: int, variant: str
    ) -> bool:
        c = self.pick(t, 0, under=under, min_theo=0.2, tries=60)
        if c is None:
            return False
        side = BUY if self.rng.random() < 0.5 else SELL
        size = self.rng.randint(1, 50)
        prints = self.aggressive(c, t, side, [venue], [0], [size], lift=self.rng.random() < 0.5)
        # Stamped like the order's own prints, so event time tells them apart no better.
        self.prints["lat"][prints[0]] = latency + self.rng.randint(0, RECEIPT_SKEW)
        self._distractor(order, c, side, prints, variant)
        return True


def plant_hard(
    rng: random.Random, planter: HardPlanter, duration_ns: int, n: int, share: float
) -> None:
    """Plant `n` of every kind and structure the accuracy scores count, at random times and on
    underlyings drawn by liquidity, each event alone on its underlying for a few seconds.

    `share` is the chance a sweep gets same-contract distractors around it.
    """
    jobs: list[tuple[str, str | None]] = []
    for kind in ("sweep", "golden_sweep", "split", "block"):
        jobs += [(kind, None)] * n
    jobs += [("multi_leg", structure) for structure in STRUCTURES for _ in range(n)]
    jobs += [("repeated_hits", None)] * max(1, n // 3)
    jobs += [("side_probe", PROBE_VARIANTS[k % len(PROBE_VARIANTS)]) for k in range(n)]
    rng.shuffle(jobs)
    n_under = len(planter.u.tickers)
    weights = np.sqrt(planter.u.weight).tolist()
    last = duration_ns - EVENT_AFTER - NS
    if last <= FIRST_EVENT:
        return
    for kind, arg in jobs:
        for _ in range(ATTEMPTS):
            under = rng.choices(range(n_under), weights)[0]
            t0 = rng.randint(FIRST_EVENT, last)
            lo, hi = t0 - EVENT_BEFORE, t0 + EVENT_AFTER
            if planter.underlying_free(under, lo, hi) and planter.plant(
                kind, arg, t0, under, share
            ):
                planter.occupy(under, lo, hi)
                break

"""Random but valid sessions for the engine's property tests (driven by a seeded RNG)."""

from __future__ import annotations

import random

from schemas.events import Event
from schemas.ordering import canonical_sort
from tests.unit.compute.flow.session import (
    MS,
    T0,
    Contract,
    equity_print,
    equity_quote,
    heartbeat,
)


def seeded(seed: int) -> random.Random:
    """A reproducible generator for test data (not for anything secret)."""
    return random.Random(seed)  # noqa: S311  (test data, not cryptography)


def random_session(rng: random.Random, n_events: int, late_share: float = 0.0) -> list[Event]:
    """Definitions, quotes, prints (some tcbbo-style), equity flow, in canonical order.

    Bursts of prints on one contract across venues make sweeps; prints at one instant on
    several contracts make multi-leg candidates; with `late_share` some events are moved
    later in the sequence so they arrive behind event time.
    """
    contracts = [
        Contract(1, 250.0, "C"), Contract(2, 255.0, "C"), Contract(3, 250.0, "P"),
        Contract(4, 260.0, "C", underlying="MSFT"), Contract(5, 245.0, "P", expiry=20250418),
    ]  # fmt: skip
    events: list[Event] = [c.definition() for c in contracts]
    ts = T0
    mids = {c.instrument_id: rng.uniform(1.0, 5.0) for c in contracts}
    spot = 250.0
    while len(events) < n_events:
        ts += rng.choice((0, 1, 1000, 50_000, 20 * MS, 200 * MS, 700 * MS))
        roll = rng.random()
        c = rng.choice(contracts)
        mid = mids[c.instrument_id] = max(0.05, mids[c.instrument_id] + rng.uniform(-0.02, 0.02))
        bid, ask = round(mid - 0.05, 2), round(mid + 0.05, 2)
        if roll < 0.25:
            if rng.random() < 0.03:
                bid, ask = ask + 0.01, bid  # a crossed market now and then
            events.append(c.quote(ts, bid, ask, rng.randint(1, 50), rng.randint(1, 50)))
        elif roll < 0.55:
            price = rng.choice((bid, ask, round(mid, 3), ask + 0.01, bid - 0.01))
            carried = rng.random() < 0.3
            nbbo = (bid, ask, rng.randint(1, 50), rng.randint(1, 50)) if carried else None
            size = rng.choice((1, 5, 10, 50, 600))
            events.append(c.trade(ts, max(price, 0.01), size, rng.randint(20, 24), nbbo))
        elif roll < 0.65:
            # sweep burst
            for k in range(rng.randint(2, 6)):
                events.append(c.trade(ts + k * 3 * MS, ask, rng.randint(1, 100), 20 + k % 4))
        elif roll < 0.72:
            # multi-leg at one instant on one venue
            legs = rng.sample(contracts[:3], 2) + ([contracts[4]] if rng.random() < 0.3 else [])
            venue = rng.randint(20, 24)
            for leg in legs:
                events.append(leg.trade(ts, ask, rng.choice((10, 20, 30)), venue, ts_event=ts))
        elif roll < 0.8:
            spot += rng.uniform(-0.2, 0.2)
            events.append(equity_quote(ts, round(spot - 0.01, 2), round(spot + 0.01, 2)))
        elif roll < 0.9:
            size = rng.choice((100, 300, 500, 20_000))
            events.append(equity_print(ts, round(spot, 2), size, off_exchange=rng.random() < 0.6))
        elif roll < 0.95:
            events.append(c.open_interest(ts, rng.randint(10, 2000)))
        else:
            events.append(heartbeat(ts + rng.choice((1, 400 * MS, 2_000 * MS, 90_000 * MS))))
    events = canonical_sort(events)
    if late_share > 0:
        for _ in range(int(len(events) * late_share)):
            i = rng.randrange(len(events))
            j = min(len(events) - 1, i + rng.randint(1, 40))
            events.insert(j, events.pop(i))
    return events


def random_splits(rng: random.Random, n: int) -> list[int]:
    """Cut points for `n` events: sometimes every event alone, otherwise random batches."""
    if n == 0:
        return []
    mode = rng.random()
    if mode < 0.2:
        return list(range(1, n))
    if mode < 0.3:
        return []
    return sorted(rng.sample(range(1, n), k=rng.randint(0, min(n - 1, 30)))) if n > 1 else []

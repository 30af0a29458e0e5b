"""A synthetic order-book session with a known book: Databento-shaped MBO events, the MBP-10
events of the same session, and the true book after every event.

The simulator keeps every resting order itself (price-time priority, insertion order within
a level) and writes what a venue would send: a snapshot (a clear and adds flagged
`F_SNAPSHOT`) to start; a pre-open phase whose adds may cross the book, which is kept
crossed until the open cancels the crossing orders; then adds, partial and full cancels,
modifies (a new price or a larger size loses priority), sweeps (all their trade records
first, then a fill and a cancel per resting order filled, then the aggressor's remainder
resting as an add), cancels of orders that never rested, modifies of unknown orders (which
Databento's rule turns into adds), and clears. Records of one venue event share its
receive time and sequence; the last carries `F_LAST`.

The MBP-10 events are the same venue events as MBP-10 records: the top ten levels per side
after each record that changes the book, and for a trade the levels just before it. The
truth (`books`) is the full depth after each event, aggregated from the simulator's orders.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from schemas.book import (
    ADD,
    ASK,
    BID,
    CANCEL,
    CLEAR,
    F_BAD_TS_RECV,
    F_LAST,
    F_SNAPSHOT,
    FILL,
    MODIFY,
    NO_SIDE,
    TRADE,
    BookLevel,
    MboEvent,
    MboRecord,
    Mbp10Event,
    Mbp10Record,
)

TICK = 250_000_000  # 0.25, the ES tick, at the 1e-9 price scale
MBP_DEPTH = 10
SNAPSHOT_FLAGS = F_SNAPSHOT | F_BAD_TS_RECV

# A side of a true book: (price, size, orders), best first.
Side = tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class TrueTrade:
    """A trade and the true best bid and ask just before it (None for an empty side)."""

    ts_recv: int
    price: int
    size: int
    side: str
    bid_px: int | None
    ask_px: int | None
    bid_sz: int | None
    ask_sz: int | None


@dataclass(frozen=True)
class BookSession:
    """One instrument's session: `mbo[i]`, `mbp10[i]` and `books[i]` describe event i."""

    venue: str
    symbol: str
    publisher_id: int
    instrument_id: int
    mbo: list[MboEvent]
    mbp10: list[Mbp10Event]
    books: list[tuple[Side, Side]]
    trades: list[TrueTrade]
    unknown_cancels: int
    unknown_modifies: int
    clears: int
    crossed_events: int


@dataclass
class _Order:
    side: str
    price: int
    size: int


@dataclass
class _Sim:
    rng: random.Random
    mid: int
    orders: dict[int, _Order] = field(default_factory=dict)
    next_id: int = 1_000
    records: list[tuple[str, str, int | None, int, int, int]] = field(default_factory=list)
    mbp_records: list[tuple[str, str, int, int | None, int, int, Side, Side]] = field(
        default_factory=list
    )

    # ---------------------------------------------------------------- the true book

    def side_levels(self, side: str) -> Side:
        levels: dict[int, list[int]] = {}
        for order in self.orders.values():
            if order.side == side:
                level = levels.setdefault(order.price, [0, 0])
                level[0] += order.size
                level[1] += 1
        prices = sorted(levels, reverse=side == BID)
        return tuple((price, levels[price][0], levels[price][1]) for price in prices)

    def touch(self) -> tuple[int | None, int | None, int | None, int | None]:
        bids, asks = self.side_levels(BID), self.side_levels(ASK)
        return (
            bids[0][0] if bids else None,
            asks[0][0] if asks else None,
            bids[0][1] if bids else None,
            asks[0][1] if asks else None,
        )

    # ------------------------------------------------------------------ recording

    def record(self, action: str, side: str, price: int | None, size: int, order_id: int,
               flags: int = 0) -> None:  # fmt: skip
        before = (self.side_levels(BID), self.side_levels(ASK)) if action == TRADE else None
        self.apply(action, side, price, size, order_id)
        self.records.append((action, side, price, size, order_id, flags))
        if action == FILL:
            return
        bids, asks = before or (self.side_levels(BID), self.side_levels(ASK))
        self.mbp_records.append(
            (action, side, 0, price, size, flags, bids[:MBP_DEPTH], asks[:MBP_DEPTH])
        )

    def apply(self, action: str, side: str, price: int | None, size: int, order_id: int) -> None:
        if action == CLEAR:
            self.orders.clear()
        elif action == ADD and price is not None:
            self.orders[order_id] = _Order(side, price, size)
        elif action == CANCEL and order_id in self.orders:
            order = self.orders[order_id]
            order.size -= size
            if order.size <= 0:
                del self.orders[order_id]
        elif action == MODIFY and price is not None:
            order = self.orders.get(order_id)
            if order is not None and order.price == price and 0 < size <= order.size:
                order.size = size  # a smaller size keeps its place in the queue
                return
            self.orders.pop(order_id, None)
            if size > 0:
                self.orders[order_id] = _Order(side, price, size)

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    # ---------------------------------------------------------------- venue events

    def quiet_price(self, side: str) -> int:
        """A price on its own side of the book, never crossing it (1..8 ticks out)."""
        ticks = self.rng.randint(1, 8) * TICK
        bid, ask, _, _ = self.touch()
        if side == BID:
            return min(self.mid, ask if ask is not None else self.mid) - ticks
        return max(self.mid, bid if bid is not None else self.mid) + ticks

    def snapshot(self, count: int) -> None:
        self.record(CLEAR, NO_SIDE, None, 0, 0, SNAPSHOT_FLAGS)
        for _ in range(count):
            side = self.rng.choice((BID, ASK))
            size = self.rng.randint(1, 20)
            self.record(ADD, side, self.quiet_price(side), size, self.new_id(), SNAPSHOT_FLAGS)

    def preopen_add(self) -> None:
        # Before the open nothing matches: an order may rest through the other side.
        side = self.rng.choice((BID, ASK))
        price = self.mid + self.rng.randint(-3, 3) * TICK
        self.record(ADD, side, price, self.rng.randint(1, 20), self.new_id())

    def uncross(self) -> None:
        for order_id, order in list(self.orders.items()):
            crossing = order.price >= self.mid if order.side == BID else order.price <= self.mid
            if crossing:
                self.record(CANCEL, order.side, order.price, order.size, order_id)

    def add(self) -> None:
        for _ in range(self.rng.randint(1, 3)):
            side = self.rng.choice((BID, ASK))
            size = self.rng.randint(1, 20)
            self.record(ADD, side, self.quiet_price(side), size, self.new_id())

    def pick(self) -> tuple[int, _Order] | None:
        if not self.orders:
            return None
        order_id = self.rng.choice(list(self.orders))
        return order_id, self.orders[order_id]

    def cancel(self) -> None:
        picked = self.pick()
        if picked is None:
            return self.add()
        order_id, order = picked
        size = order.size if self.rng.random() < 0.6 else self.rng.randint(1, order.size)
        self.record(CANCEL, order.side, order.price, size, order_id)
        return None

    def modify(self) -> None:
        picked = self.pick()
        if picked is None:
            return self.add()
        order_id, order = picked
        side, price, size = order.side, order.price, order.size
        if self.rng.random() < 0.5:
            size = max(1, size + self.rng.randint(-5, 5))
        else:
            price = self.quiet_price(side)
        self.record(MODIFY, side, price, size, order_id)
        return None

    def unknown_cancel(self) -> None:
        side = self.rng.choice((BID, ASK))
        self.record(CANCEL, side, self.quiet_price(side), 1, self.new_id())

    def unknown_modify(self) -> None:
        side = self.rng.choice((BID, ASK))
        self.record(MODIFY, side, self.quiet_price(side), self.rng.randint(1, 9), self.new_id())

    def clear(self) -> None:
        self.record(CLEAR, NO_SIDE, None, 0, 0)

    def sweep(self, trades: list[TrueTrade], ts_recv: int) -> None:
        """An aggressor takes the other side up to a limit: trade records first, then a fill
        and a cancel per resting order, then its remainder rests."""
        side = self.rng.choice((BID, ASK))
        resting = ASK if side == BID else BID
        levels = self.side_levels(resting)
        if not levels:
            return self.add()
        deeper = min(len(levels), self.rng.randint(1, 3)) - 1
        limit = levels[deeper][0]
        wanted = self.rng.randint(1, sum(level[1] for level in levels[: deeper + 1]) + 5)
        fills: list[tuple[int, _Order, int]] = []
        at_price: dict[int, int] = {}
        left = wanted
        for price, _, _ in levels[: deeper + 1]:
            queue = [(oid, o) for oid, o in self.orders.items() if o.side == resting]
            for order_id, order in queue:
                if order.price != price or left == 0:
                    continue
                fill = min(left, order.size)
                fills.append((order_id, order, fill))
                at_price[price] = at_price.get(price, 0) + fill
                left -= fill
        touch = self.touch()
        for price, size in at_price.items():
            trades.append(TrueTrade(ts_recv, price, size, side, *touch))
            self.record(TRADE, side, price, size, 0)
        for order_id, order, fill in fills:
            self.record(FILL, resting, order.price, fill, order_id)
            self.record(CANCEL, resting, order.price, fill, order_id)
        if left and self.rng.random() < 0.5:
            self.record(ADD, side, limit, left, self.new_id())
        return None


_STEPS = (  # (weight, step) of continuous trading
    (30, "add"),
    (20, "cancel"),
    (12, "modify"),
    (14, "sweep"),
    (3, "unknown_cancel"),
    (2, "unknown_modify"),
    (1, "clear"),
)


def generate_book_session(
    seed: int,
    events: int,
    *,
    preopen_events: int = 15,
    venue: str = "GLBX",
    symbol: str = "ESH1",
    publisher_id: int = 1,
    instrument_id: int = 5482,
    start_ns: int = 1_609_113_600_000_000_000,
) -> BookSession:
    """A session of a snapshot and `events` venue events after it (same seed, same session)."""
    rng = random.Random(seed)  # noqa: S311  (a reproducible simulation, not security)
    sim = _Sim(rng, mid=3_700 * 1_000_000_000)
    weights = [weight for weight, _ in _STEPS]
    names = [name for _, name in _STEPS]
    mbo: list[MboEvent] = []
    mbp10: list[Mbp10Event] = []
    books: list[tuple[Side, Side]] = []
    trades: list[TrueTrade] = []
    counts = {"unknown_cancel": 0, "unknown_modify": 0, "clear": 0, "crossed": 0}
    ts_recv = start_ns
    sequence = 1
    sim.snapshot(rng.randint(5, 30))
    for index in range(events + 1):
        if sim.records:
            event = _events(sim, venue, symbol, publisher_id, instrument_id, ts_recv, sequence)
            mbo.append(event[0])
            mbp10.append(event[1])
            bids, asks = sim.side_levels(BID), sim.side_levels(ASK)
            books.append((bids, asks))
            if bids and asks and bids[0][0] >= asks[0][0]:
                counts["crossed"] += 1
        if index == events:
            break
        ts_recv += rng.randint(1_000, 2_000_000)
        sequence += 1
        if index < preopen_events:
            rng.choice((sim.preopen_add, sim.preopen_add, sim.cancel, sim.modify))()
        elif index == preopen_events:
            sim.uncross()
        else:
            name = rng.choices(names, weights)[0]
            if name in counts:
                counts[name] += 1
            if name == "sweep":
                sim.sweep(trades, ts_recv)
            else:
                getattr(sim, name)()
    return BookSession(
        venue, symbol, publisher_id, instrument_id, mbo, mbp10, books, trades,
        counts["unknown_cancel"], counts["unknown_modify"], counts["clear"], counts["crossed"],
    )  # fmt: skip


def _events(
    sim: _Sim,
    venue: str,
    symbol: str,
    publisher_id: int,
    instrument_id: int,
    ts_recv: int,
    sequence: int,
) -> tuple[MboEvent, Mbp10Event]:
    """The recorded records as one MBO and one MBP-10 venue event (the last flagged F_LAST)."""
    ts_event = ts_recv - 20_000
    last = len(sim.records) - 1
    mbo_records = [
        MboRecord(ts_event, sequence, action, side, price, size, order_id,
                  flags | (F_LAST if i == last else 0))
        for i, (action, side, price, size, order_id, flags) in enumerate(sim.records)
    ]  # fmt: skip
    last = len(sim.mbp_records) - 1
    mbp_records = [
        Mbp10Record(
            ts_event, sequence, action, side, depth, price, size,
            flags | (F_LAST if i == last else 0),
            [BookLevel(*level) for level in bids], [BookLevel(*level) for level in asks],
        )
        for i, (action, side, depth, price, size, flags, bids, asks) in enumerate(sim.mbp_records)
    ]  # fmt: skip
    sim.records.clear()
    sim.mbp_records.clear()
    common = {
        "ts_recv": ts_recv,
        "ts_event": ts_event,
        "publisher_id": publisher_id,
        "instrument_id": instrument_id,
        "source": "synthetic",
        "symbol": symbol,
        "venue": venue,
        "sequence": sequence,
    }
    return MboEvent(**common, records=mbo_records), Mbp10Event(**common, records=mbp_records)

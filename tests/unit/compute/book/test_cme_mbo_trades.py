"""Real CME MBO (ESH4 on 2023-12-25, tests/data/databento/SOURCE.md): the book just before
each trade places every aggressor trade at or through the touch of the side it hit, and that
touch is the one a plain model of Databento's rules, fed the file's records, holds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import databento as db
import databento_dbn as dbn

from compute.book import at_or_through_touch, initial_state, step
from ingest.databento import RecordNormaliser, iter_file_events
from schemas.book import BookTrade, MboRecord
from tests.unit.compute.book.test_random_records import Reference

ESH4_MBO = (
    Path(__file__).resolve().parents[3] / "data/databento/esh4-glbx-mdp3-20231225.mbo.dbn.zst"
)
Touch = tuple[int | None, int | None]


def engine_trades() -> list[BookTrade]:
    events = iter_file_events(ESH4_MBO, normaliser=RecordNormaliser(emit_books=True))
    _, out = step(initial_state(), list(events))
    return [t for t in out if isinstance(t, BookTrade)]


def reference_trades() -> list[tuple[str, int, Touch]]:
    """(side, price, (best bid, best ask) just before it) of each trade record, in file order."""
    reference = Reference()
    trades = []
    for r in db.DBNStore.from_file(ESH4_MBO):
        if r.action == "T":
            resting = reference.orders.values()
            touch = (
                max((price for side, price, _ in resting if side == "B"), default=None),
                min((price for side, price, _ in resting if side == "A"), default=None),
            )
            trades.append((str(r.side), r.price, touch))
        price = None if r.price == dbn.UNDEF_PRICE else r.price
        reference.apply(MboRecord(r.ts_event, r.sequence, str(r.action), str(r.side), price,
                                  r.size, r.order_id, r.flags))  # fmt: skip
    return trades


def test_every_aggressor_trade_prints_at_or_through_the_touch_of_the_side_it_hit() -> None:
    trades = engine_trades()
    expected = reference_trades()

    assert [(t.side, t.price, (t.bid_px, t.ask_px)) for t in trades] == expected
    placed = Counter(at_or_through_touch(t) for t in trades)
    # 1,542 buy and 1,430 sell aggressors, all at or through; one trade without an aggressor.
    assert Counter(t.side for t in trades) == {"B": 1_542, "A": 1_430, "N": 1}
    assert placed == {True: 2_972, None: 1}
    assert all(t.price >= t.ask_px for t in trades if t.side == "B" and t.ask_px is not None)
    assert all(t.price <= t.bid_px for t in trades if t.side == "A" and t.bid_px is not None)

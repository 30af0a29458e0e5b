"""Random depth feeds against the venue's true book: while in sync the engine's book is the
venue's book at the update id it reached; every dropped diff breaks the chain, which is
said once and cleared only by a snapshot; repeats change nothing."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from compute.book import initial_state, step, view
from schemas.book import BookResync
from schemas.crypto import BookUpdate
from tests.kit.book import l2
from tests.kit.crypto import book_update

VENUE, SYMBOL = "binance-spot", "BTC-USDT"
P = 1_000_000_000


Book = dict[str, dict[int, int]]  # side (B, A) -> price -> size


def venue_history(seed: int, updates: int) -> tuple[list[Book], list[BookUpdate]]:
    """The venue's book after each update id (index = id) and the diff that made it."""
    rng = random.Random(seed)  # noqa: S311  (test data)
    book: Book = {"B": {}, "A": {}}
    books: list[Book] = [{"B": {}, "A": {}}]
    diffs: list[BookUpdate] = [book_update()]  # id 0 has no diff
    for update_id in range(1, updates + 1):
        changes: dict[str, dict[int, int]] = {"B": {}, "A": {}}
        for _ in range(rng.randint(1, 3)):
            side = rng.choice("BA")
            price = (100 - rng.randint(1, 6) if side == "B" else 100 + rng.randint(1, 6)) * P
            changes[side][price] = 0 if rng.random() < 0.3 else rng.randint(1, 50)
        for side in "BA":
            for price, size in changes[side].items():
                if size:
                    book[side][price] = size
                else:
                    book[side].pop(price, None)
        books.append({side: dict(levels) for side, levels in book.items()})
        diffs.append(book_update(
            snapshot=False, first_update_id=update_id, sequence=update_id,
            bid_px=list(changes["B"]), bid_sz=list(changes["B"].values()),
            ask_px=list(changes["A"]), ask_sz=list(changes["A"].values()),
        ))  # fmt: skip
    return books, diffs


def snapshot_at(books: list[Book], update_id: int) -> BookUpdate:
    bids, asks = books[update_id]["B"], books[update_id]["A"]
    return book_update(
        snapshot=True, first_update_id=update_id, sequence=update_id, bid_px=list(bids),
        bid_sz=list(bids.values()), ask_px=list(asks), ask_sz=list(asks.values()),
    )  # fmt: skip


def as_l2(levels: dict[int, int], reverse: bool) -> tuple[tuple[int, int, int], ...]:
    return tuple((p, levels[p], 0) for p in sorted(levels, reverse=reverse))


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), plan=st.lists(st.sampled_from("ddddddxrs"), max_size=60))
def test_a_depth_book_is_the_venue_book_while_in_sync(seed: int, plan: list[str]) -> None:
    books, diffs = venue_history(seed, 2 * len(plan) + 2)
    state, _ = step(initial_state(), [snapshot_at(books, 1)])
    next_id = 2
    broken = False
    for op in plan:
        if op == "s":  # the provider resynchronises: a snapshot at the venue's current id
            event: BookUpdate = snapshot_at(books, next_id - 1)
            broken = False
        elif op == "r":  # a repeat of the last diff delivered
            event = diffs[next_id - 1]
        else:
            if op == "x":  # this diff never arrives
                next_id += 1
            event = diffs[next_id]
            next_id += 1
        state, out = step(state, [event])
        resyncs = [e for e in out if isinstance(e, BookResync)]
        if op == "x" and not broken:
            assert len(resyncs) == 1
            broken = True
        else:
            assert resyncs == []
        shown = view(state, VENUE, SYMBOL, 100)
        assert shown is not None and shown.in_sync == (not broken)
        if broken:
            assert l2(state, VENUE, SYMBOL) == ((), ())
        else:
            truth = books[state.books[f"{VENUE}|{SYMBOL}"].sequence]
            assert l2(state, VENUE, SYMBOL) == (as_l2(truth["B"], True), as_l2(truth["A"], False))

"""One Databento MBO record applied to a book (L2: size and order count per price).

The rules are Databento's (its limit-order-book examples and `Action` docs):
- Add inserts an order; with `F_TOB` it is a top-of-book record instead, which replaces
  that whole side by one level of unknown order count (empty when its price is undefined).
  A publisher sends one kind or the other; were they mixed, a level's last order leaving
  would close it.
- Cancel takes size from an order, fully or partially.
- Modify changes an order's price and/or size; an order not in the book is added.
- Clear (R) empties the book; snapshot records follow it as Adds. A snapshot is the whole
  book: the engine empties it at a snapshot's first record even without a clear
  (`compute.book.engine`), as Databento's daily files begin.
- Trade, Fill and None change nothing: the cancels and modifies that follow a fill do.
Input the book cannot honour is counted, never raised: a cancel of an unknown order
(`cancel_unknown_order`), a cancel of more than the order holds (`cancel_over_size`, the
order is removed), an add of an order id already resting (`add_existing_order`, the new one
replaces it), a modify of an unknown order (`modify_unknown_order`, then added), an order
without a side or price where one is needed (`no_side`, `undefined_price`).
"""

from __future__ import annotations

from compute.book.levels import add_to_level, clear, replace_side, take_from_level
from compute.book.state import O_IS_ASK, O_PRICE, O_SIZE, Book, BookState, bump
from schemas.book import (
    ADD,
    ASK,
    BID,
    CANCEL,
    CLEAR,
    F_TOB,
    MODIFY,
    MboRecord,
)


def apply_mbo(state: BookState, book: Book, record: MboRecord) -> None:
    """Apply one record's change to `book` (Trade, Fill and None records change nothing)."""
    action = record.action
    if action == ADD:
        _add(state, book, record)
    elif action == CANCEL:
        _cancel(state, book, record)
    elif action == MODIFY:
        _modify(state, book, record)
    elif action == CLEAR:
        clear(book)
        bump(state, "clears")


def _side(state: BookState, side: str) -> bool | None:
    if side == ASK:
        return True
    if side == BID:
        return False
    bump(state, "no_side")
    return None


def _add(state: BookState, book: Book, record: MboRecord) -> None:
    is_ask = _side(state, record.side)
    if is_ask is None:
        return
    price = record.price
    if record.flags & F_TOB:
        # The side is now this one level: orders resting there before are gone with it.
        side_code = 1 if is_ask else 0
        book.orders = {k: o for k, o in book.orders.items() if o[O_IS_ASK] != side_code}
        levels = {} if price is None else {price: [record.size, 0]}
        replace_side(book, is_ask, levels)
        return
    if price is None:
        bump(state, "undefined_price")
        return
    order_id = record.order_id
    if order_id in book.orders:
        bump(state, "add_existing_order")
        _remove(book, order_id)
    _insert(book, order_id, is_ask, price, record.size)


def _insert(book: Book, order_id: int, is_ask: bool, price: int, size: int) -> None:
    if size <= 0:
        return
    book.orders[order_id] = [1 if is_ask else 0, price, size]
    add_to_level(book, is_ask, price, size, 1)


def _remove(book: Book, order_id: int) -> None:
    is_ask, price, size = book.orders.pop(order_id)
    take_from_level(book, bool(is_ask), price, size, 1)


def _cancel(state: BookState, book: Book, record: MboRecord) -> None:
    order = book.orders.get(record.order_id)
    if order is None:
        bump(state, "cancel_unknown_order")
        return
    size = record.size
    if size < order[O_SIZE]:
        order[O_SIZE] -= size
        take_from_level(book, bool(order[O_IS_ASK]), order[O_PRICE], size, 0)
        return
    if size > order[O_SIZE]:
        bump(state, "cancel_over_size")
    _remove(book, record.order_id)


def _modify(state: BookState, book: Book, record: MboRecord) -> None:
    order_id = record.order_id
    order = book.orders.get(order_id)
    if order is None:
        bump(state, "modify_unknown_order")
        _add(state, book, record)
        return
    price = record.price
    if price is None:
        bump(state, "undefined_price")
        return
    is_ask = bool(order[O_IS_ASK]) if record.side not in (ASK, BID) else record.side == ASK
    if is_ask != bool(order[O_IS_ASK]):
        bump(state, "modify_side_change")
    size = record.size
    if is_ask == bool(order[O_IS_ASK]) and price == order[O_PRICE] and size > 0:
        add_to_level(book, is_ask, price, size - order[O_SIZE], 0)
        order[O_SIZE] = size
        return
    _remove(book, order_id)
    _insert(book, order_id, is_ask, price, size)

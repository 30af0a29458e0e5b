"""Price levels of one side of a book: add and take size, keep the best price in step."""

from __future__ import annotations

from compute.book.state import L_ORDERS, L_SIZE, Book


def add_to_level(book: Book, is_ask: bool, price: int, size: int, orders: int) -> None:
    """Add `size` and `orders` at `price`, opening the level (and moving the touch) if new."""
    levels = book.asks if is_ask else book.bids
    level = levels.get(price)
    if level is not None:
        level[L_SIZE] += size
        level[L_ORDERS] += orders
        return
    levels[price] = [size, orders]
    if is_ask:
        if book.best_ask is None or price < book.best_ask:
            book.best_ask = price
    elif book.best_bid is None or price > book.best_bid:
        book.best_bid = price


def take_from_level(book: Book, is_ask: bool, price: int, size: int, orders: int) -> None:
    """Take `size` and `orders` from the level at `price`; a level left without orders
    closes, and the touch moves to the next price when it was the best."""
    levels = book.asks if is_ask else book.bids
    level = levels[price]
    level[L_SIZE] -= size
    level[L_ORDERS] -= orders
    if level[L_ORDERS] > 0:
        return
    del levels[price]
    if is_ask:
        if price == book.best_ask:
            book.best_ask = min(levels) if levels else None
    elif price == book.best_bid:
        book.best_bid = max(levels) if levels else None


def replace_side(book: Book, is_ask: bool, levels: dict[int, list[int]]) -> None:
    """Make `levels` the whole of one side (a top-of-book record, an MBP-10 or depth
    snapshot)."""
    if is_ask:
        book.asks = levels
        book.best_ask = min(levels) if levels else None
    else:
        book.bids = levels
        book.best_bid = max(levels) if levels else None


def clear(book: Book) -> None:
    """Empty the book: levels, orders and the gap mark (a clear starts it afresh)."""
    book.bids = {}
    book.asks = {}
    book.orders = {}
    book.best_bid = None
    book.best_ask = None
    book.maybe_bad = False


def set_level(book: Book, is_ask: bool, price: int, size: int) -> None:
    """Set the size at `price` as a depth diff does (size 0 removes the level); the order
    count of such a level is unknown (0)."""
    levels = book.asks if is_ask else book.bids
    if size > 0:
        if price in levels:
            levels[price][L_SIZE] = size
        else:
            add_to_level(book, is_ask, price, size, 0)
        return
    if levels.pop(price, None) is None:
        return
    if is_ask:
        if price == book.best_ask:
            book.best_ask = min(levels) if levels else None
    elif price == book.best_bid:
        book.best_bid = max(levels) if levels else None

"""Real Binance depth (recordings of the public spot and USD-M futures streams,
../shared/data/crypto): books rebuilt from each REST snapshot and the `@depth@100ms` diffs
after it (chained by `U` on spot, by `pu` on futures) carry, whenever they have reached the
update id of a `bookTicker` frame, exactly that frame's best bid and ask.

The frames are parsed here, independently of the Binance provider, straight into the
engine's `BookUpdate` events (prices at 1e-9, sizes at 1e-8)."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from compute.book import best_bid_ask, initial_state, step
from schemas.book import BookResync
from schemas.crypto import SIZE_SCALE, BookUpdate
from schemas.events import PRICE_SCALE, Event


@pytest.fixture(scope="module")
def crypto_data(shared_data: Path) -> Path:
    folder = shared_data.parent / "crypto"
    if not folder.is_dir():
        raise FileNotFoundError(f"expected the crypto recordings at {folder}")
    return folder


def scaled(text: str, scale: int) -> int:
    return int(Decimal(text) * scale)


def levels(pairs: list[list[str]]) -> tuple[list[int], list[int]]:
    return [scaled(p, PRICE_SCALE) for p, _ in pairs], [scaled(q, SIZE_SCALE) for _, q in pairs]


def update(venue: str, symbol: str, ts_recv: int, *, snapshot: bool, first: int, last: int,
           bids: list[list[str]], asks: list[list[str]], prev: int | None = None,
           ) -> BookUpdate:  # fmt: skip
    bid_px, bid_sz = levels(bids)
    ask_px, ask_sz = levels(asks)
    return BookUpdate(
        ts_recv=ts_recv, ts_event=ts_recv, publisher_id=0, instrument_id=0, source="binance",
        symbol=symbol, venue=venue, venue_symbol=symbol, sequence=last, snapshot=snapshot,
        first_update_id=first, prev_update_id=prev, bid_px=bid_px, bid_sz=bid_sz,
        ask_px=ask_px, ask_sz=ask_sz,
    )  # fmt: skip


@pytest.mark.parametrize("venue", ["binance-spot", "binance-futures"])
def test_rebuilt_books_agree_with_every_book_ticker_at_the_same_update_id(
    crypto_data: Path, venue: str
) -> None:
    snapshots: dict[str, BookUpdate] = {}
    for line in (crypto_data / f"{venue}.rest-depth.jsonl").read_text().splitlines():
        frame = json.loads(line)
        body = json.loads(frame["raw"])
        symbol = frame["url"].split("symbol=")[1].split("&")[0]
        last = body["lastUpdateId"]
        snapshots[symbol] = update(venue, symbol, frame["recv_ts_ns"], snapshot=True, first=last,
                                   last=last, bids=body["bids"], asks=body["asks"])  # fmt: skip
    frames = [
        json.loads(line) for line in (crypto_data / f"{venue}.jsonl").read_text().splitlines()
    ]
    bodies = [(frame["recv_ts_ns"], json.loads(frame["raw"])) for frame in frames]
    # A ticker may arrive before or after the 100 ms diff that ends at its update id.
    tickers = {
        (body["data"]["s"], body["data"]["u"]): body["data"]
        for _, body in bodies
        if body["stream"].endswith("@bookTicker")
    }
    state, _ = step(initial_state(), list(snapshots.values()))
    tally: Counter[str] = Counter()
    for ts_recv, body in bodies:
        data = body["data"]
        symbol = data["s"]
        if not body["stream"].endswith("@depth@100ms") or symbol not in snapshots:
            continue
        events: list[Event] = [update(venue, symbol, ts_recv, snapshot=False, first=data["U"],
                                      last=data["u"], bids=data["b"], asks=data["a"],
                                      prev=data.get("pu"))]  # fmt: skip
        state, out = step(state, events)
        tally["resyncs"] += sum(isinstance(e, BookResync) for e in out)
        tally["diffs"] += 1
        ticker = tickers.get((symbol, state.books[f"{venue}|{symbol}"].sequence))
        if ticker is None:
            continue
        touch = best_bid_ask(state, venue, symbol)
        assert touch is not None and touch.bid is not None and touch.ask is not None
        assert (touch.bid.price, touch.bid.size, touch.ask.price, touch.ask.size) == (
            scaled(ticker["b"], PRICE_SCALE), scaled(ticker["B"], SIZE_SCALE),
            scaled(ticker["a"], PRICE_SCALE), scaled(ticker["A"], SIZE_SCALE),
        ), (symbol, ticker["u"])  # fmt: skip
        tally["tickers_compared"] += 1
    assert tally["resyncs"] == 0
    assert tally["diffs"] > 2_000 and tally["tickers_compared"] > 200, tally

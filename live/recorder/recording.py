"""What the recorder makes of each event, in log order: raw rows, closed candles, and book
snapshots at the first change of each cadence bucket (event time), so a replay of the same
events derives exactly the same ones."""

from __future__ import annotations

from collections.abc import Iterable

from compute.candles import BufferConfig, ClosedCandle, Market, trade_of
from compute.candles.market import DEPTH_EVENTS
from live.recorder.rows import PendingRows
from schemas.codec import encode_batch
from schemas.crypto import CryptoQuote, ProviderGap
from schemas.events import EquityPrint, EquityQuote, Event, event_tag
from schemas.ipc import Level

QUOTE_EVENTS = (EquityQuote, CryptoQuote)
BOOK_INPUTS = (*DEPTH_EVENTS, ProviderGap)  # what the book engine reads: the `depth` rows


def venue_of(event: Event) -> str:
    """Equities by their source (as the daemon keys them), the rest by their market."""
    if isinstance(event, EquityPrint | EquityQuote):
        return event.source
    return str(getattr(event, "venue", None) or getattr(event, "source", "unknown"))


def _levels(levels: list[Level]) -> list[dict[str, int]]:
    return [{"price": lv.price, "size": lv.size, "orders": lv.orders} for lv in levels]


class Recording:
    """The engines the recorder runs and the rows it has yet to write."""

    def __init__(self, buffers: BufferConfig, *, snapshot_every_ns: int,
                 snapshot_depth: int) -> None:  # fmt: skip
        self.market = Market(buffers)
        self.snapshot_every_ns = snapshot_every_ns
        self.snapshot_depth = snapshot_depth
        self.pending = PendingRows()
        self._snapshot_bucket: dict[tuple[str, str], int] = {}

    def apply(self, log_seq: int, events: Iterable[Event]) -> None:
        for index, event in enumerate(events):
            changes = self.market.apply([event])
            trade = trade_of(event)
            if trade is not None:
                self.pending.add("trades", event.ts_recv, trade.venue, {
                    **self._raw(log_seq, index, event, trade.venue, trade.symbol),
                    "price": trade.price, "size": trade.size, "aggressor": trade.aggressor,
                    "sequence": trade.sequence,
                })  # fmt: skip
            elif isinstance(event, QUOTE_EVENTS):
                venue = venue_of(event)
                self.pending.add("quotes", event.ts_recv, venue, {
                    **self._raw(log_seq, index, event, venue, event.symbol),
                    "bid_px": event.bid_px, "ask_px": event.ask_px, "bid_sz": event.bid_sz,
                    "ask_sz": event.ask_sz,
                })  # fmt: skip
            elif isinstance(event, BOOK_INPUTS):
                venue = venue_of(event)
                self.pending.add("depth", event.ts_recv, venue, {
                    **self._raw(log_seq, index, event, venue, event.symbol),
                    "kind": event_tag(type(event)),
                })  # fmt: skip
            for closed in changes.closed:
                self._candle(log_seq, closed)
            for key in sorted(changes.books):
                self._maybe_snapshot(log_seq, key, event.ts_recv)

    @staticmethod
    def _raw(log_seq: int, index: int, event: Event, venue: str, symbol: str) -> dict[str, object]:
        return {"log_seq": log_seq, "log_index": index, "ts_recv": event.ts_recv,
                "ts_event": getattr(event, "ts_event", event.ts_recv), "venue": venue,
                "symbol": symbol, "payload": encode_batch([event])}  # fmt: skip

    def _candle(self, log_seq: int, closed: ClosedCandle) -> None:
        c = closed.candle
        self.pending.add("candles", c.start_ns, closed.venue, {
            "log_seq": log_seq, "venue": closed.venue, "symbol": closed.symbol,
            "interval": closed.interval, "start": c.start_ns, "open": c.open, "high": c.high,
            "low": c.low, "close": c.close, "volume": c.volume, "trades": c.trades,
        })  # fmt: skip

    def _maybe_snapshot(self, log_seq: int, key: tuple[str, str], ts_recv: int) -> None:
        bucket = ts_recv // self.snapshot_every_ns
        if self._snapshot_bucket.get(key) == bucket:
            return
        self._snapshot_bucket[key] = bucket
        book = self.market.book(*key, self.snapshot_depth)
        if book is None:
            return
        self.pending.add("book_snapshots", ts_recv, book.venue, {
            "log_seq": log_seq, "ts_recv": ts_recv, "venue": book.venue, "symbol": book.symbol,
            "bids": _levels(book.bids), "asks": _levels(book.asks), "crossed": book.crossed,
            "usable": book.usable,
        })  # fmt: skip

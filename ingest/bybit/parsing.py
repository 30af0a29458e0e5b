"""Bybit V5 public frames -> flowtape events.

Frames are `{"topic": "<channel>.<SYMBOL>", "type": "snapshot"|"delta", "ts": ms, "data":
…}` (field notes in shared/data/crypto/SOURCE.md). Decisions:
- `publicTrade` -> one CryptoTrade per trade: `i` is `trade_id`, the cross sequence `seq`
  is `sequence`, `S` the taker's side, `T` `ts_event`;
- `orderbook.1` -> CryptoQuote from its one level a side (`u` as `sequence`, `cts` as
  `ts_event`); a side left empty cannot make a quote and is quarantined;
- `orderbook.<depth>` -> an unsynchronised BookUpdate (snapshot or delta; `u` as both ids),
  which the adapter's BybitBookSync checks;
- `tickers` (linear) -> MarkPrice whenever mark, index or funding changed: deltas carry
  only changed fields, so they merge into the symbol's last state first; spot tickers carry
  no mark price and are only counted;
- replies to `subscribe` and `ping` are counted; a failed reply, garbage, an unknown topic
  or symbol, or a malformed field is a Quarantined event with its reason.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ingest.marketdata.frames import (
    PRICE_DIGITS,
    RATE_DIGITS,
    SIZE_DIGITS,
    BadFrame,
    int_field,
    levels,
)
from ingest.marketdata.normaliser import VenueNormaliser
from ingest.marketdata.numbers import millis_ns, scaled
from ingest.marketdata.symbology import Instrument, SymbolTable
from schemas.crypto import BookUpdate, CryptoQuote, CryptoTrade, MarkPrice
from schemas.events import Event

_decode = msgspec.json.Decoder().decode
_MARK_FIELDS = ("markPrice", "indexPrice", "fundingRate", "nextFundingTime")
_SIDES = {"Buy": "buy", "Sell": "sell"}


class BybitNormaliser(VenueNormaliser):
    """Frames of one Bybit category -> events; never raises on bad input."""

    def __init__(self, venue: str, source: str, table: SymbolTable) -> None:
        super().__init__(venue, source, table)
        self._tickers: dict[str, dict[str, Any]] = {}

    def message(self, message: dict[str, Any], ts_recv: int, text: str) -> list[Event]:
        topic = message.get("topic")
        if not isinstance(topic, str):
            return self._reply(message, ts_recv, text)
        channel, _, venue_symbol = topic.rpartition(".")
        instrument = self.instrument(venue_symbol)
        if instrument is None:
            return [self.quarantine(ts_recv, "unknown_symbol", repr(venue_symbol), text)]
        events = self._events(channel, message, instrument, ts_recv)
        if events is None:
            return [self.quarantine(ts_recv, "unsupported_channel", repr(topic), text)]
        return events

    def _reply(self, message: dict[str, Any], ts_recv: int, text: str) -> list[Event]:
        if message.get("success") is True:
            self.counters[f"control:{message.get('op')}"] += 1
            return []
        if message.get("success") is False:
            return [self.quarantine(ts_recv, "venue_error", str(message.get("ret_msg")), text)]
        return [self.quarantine(ts_recv, "unknown_message", "no topic", text)]

    def _events(
        self, channel: str, message: dict[str, Any], instrument: Instrument, ts_recv: int
    ) -> list[Event] | None:
        common = self.common(instrument, ts_recv)
        if channel == "publicTrade":
            return self._trades(message, common)
        if channel == "orderbook.1":
            return [self._quote(message, common)]
        if channel.startswith("orderbook."):
            return [self._book(message, common)]
        if channel == "tickers":
            return self._ticker(message, common, instrument.venue_symbol)
        return None

    def _trades(self, message: dict[str, Any], common: dict[str, Any]) -> list[Event]:
        data = message.get("data")
        if not isinstance(data, list):
            raise BadFrame(f"data: expected a list of trades, got {data!r}")
        trades: list[Event] = []
        for trade in data:
            if not isinstance(trade, dict):
                raise BadFrame(f"data: expected a trade object, got {trade!r}")
            taker = trade.get("S")
            side = _SIDES.get(taker) if isinstance(taker, str) else None  # a list is unhashable
            if side is None:
                raise BadFrame(f"S: expected Buy or Sell, got {taker!r}")
            trade_id = trade.get("i")
            if not isinstance(trade_id, str) or not trade_id:
                raise BadFrame(f"i: expected a trade id, got {trade_id!r}")
            trades.append(
                CryptoTrade(
                    **common,
                    ts_event=millis_ns(trade.get("T"), "T"),
                    sequence=int_field(trade, "seq"),
                    trade_id=trade_id,
                    price=scaled(trade.get("p"), PRICE_DIGITS, "p"),
                    size=scaled(trade.get("v"), SIZE_DIGITS, "v"),
                    side=side,  # type: ignore[arg-type]
                )
            )
        return trades

    @staticmethod
    def _book_data(message: dict[str, Any]) -> dict[str, Any]:
        data = message.get("data")
        if not isinstance(data, dict):
            raise BadFrame(f"data: expected a book object, got {data!r}")
        return data

    @staticmethod
    def _stamp(message: dict[str, Any]) -> int:
        return millis_ns(message.get("cts", message.get("ts")), "cts")

    def _quote(self, message: dict[str, Any], common: dict[str, Any]) -> Event:
        data = self._book_data(message)
        bid_px, bid_sz = levels(data.get("b"), "b")
        ask_px, ask_sz = levels(data.get("a"), "a")
        if not bid_px or not ask_px:
            raise BadFrame("orderbook.1: a side is empty, no two-sided quote")
        return CryptoQuote(
            **common,
            ts_event=self._stamp(message),
            sequence=int_field(data, "u"),
            bid_px=bid_px[0],
            bid_sz=bid_sz[0],
            ask_px=ask_px[0],
            ask_sz=ask_sz[0],
        )

    def _book(self, message: dict[str, Any], common: dict[str, Any]) -> BookUpdate:
        data = self._book_data(message)
        kind = message.get("type")
        if kind not in ("snapshot", "delta"):
            raise BadFrame(f"type: expected snapshot or delta, got {kind!r}")
        bid_px, bid_sz = levels(data.get("b"), "b")
        ask_px, ask_sz = levels(data.get("a"), "a")
        update_id = int_field(data, "u")
        return BookUpdate(
            **common,
            ts_event=self._stamp(message),
            sequence=update_id,
            snapshot=kind == "snapshot",
            first_update_id=update_id,
            bid_px=bid_px,
            bid_sz=bid_sz,
            ask_px=ask_px,
            ask_sz=ask_sz,
        )

    def _ticker(
        self, message: dict[str, Any], common: dict[str, Any], venue_symbol: str
    ) -> list[Event]:
        data = message.get("data")
        if not isinstance(data, dict):
            raise BadFrame(f"data: expected a ticker object, got {data!r}")
        if message.get("type") == "snapshot":
            state = dict(data)
        elif venue_symbol in self._tickers:
            state = self._tickers[venue_symbol] | data
        else:
            raise BadFrame("tickers: a delta before any snapshot")
        before = self._tickers.get(venue_symbol, {})
        self._tickers[venue_symbol] = state
        if "markPrice" not in state:
            self.counters["tickers:no_mark"] += 1
            return []
        if all(state.get(f) == before.get(f) for f in _MARK_FIELDS):
            self.counters["tickers:mark_unchanged"] += 1
            return []
        index, rate, next_funding = (state.get(f) for f in _MARK_FIELDS[1:])
        return [
            MarkPrice(
                **common,
                ts_event=millis_ns(message.get("ts"), "ts"),
                sequence=int_field(message, "cs") if "cs" in message else int_field(message, "ts"),
                mark_px=scaled(state["markPrice"], PRICE_DIGITS, "markPrice"),
                index_px=None if index in (None, "") else scaled(index, PRICE_DIGITS, "indexPrice"),
                funding_rate=None
                if rate in (None, "")
                else scaled(rate, RATE_DIGITS, "fundingRate"),
                ts_next_funding=None
                if next_funding in (None, "", "0")
                else millis_ns(scaled(next_funding, 0, "nextFundingTime"), "nextFundingTime"),
            )
        ]

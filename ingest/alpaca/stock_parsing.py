"""Alpaca stock stream frames (JSON) -> EquityPrint, EquityQuote and quarantine records.

Each text frame is a JSON array of messages:
- control: `{"T": "success", "msg": "connected" | "authenticated"}`,
  `{"T": "subscription", "trades": [...], "quotes": [...], ...}`;
- errors: `{"T": "error", "code": 402, "msg": "auth failed"}`: quarantined as
  `venue_error` with the code and message (the venue closes the connection after the
  auth errors; the feed reconnects with backoff);
- trades `{"T": "t", "S": "AAPL", "i": 96921, "x": "D", "p": 126.55, "s": 1,
  "t": "2021-02-22T15:51:44.208Z", "c": ["@", "I"], "z": "C"}`;
- quotes `{"T": "q", "S": "AMD", "bx": "U", "bp": 87.66, "bs": 1, "ax": "Q",
  "ap": 87.68, "as": 4, "t": "2021-02-22T15:51:45.335689322Z", "c": ["R"], "z": "C"}`.

Decisions: a trade's `sequence` is Alpaca's trade id `i`, its `venue` the exchange code
`x` (`D`, the FINRA facility, marks off-exchange prints); a quote's `venue` is the feed
(`alpaca-iex`: its bid and ask may come from different exchanges) and its `sequence`
counts the source's quotes in arrival order; sizes are as Alpaca sends them; a price of 0
with size 0 is a missing side. Anything else (bars, statuses, unknown types, a message
for an unlisted ticker, a bad field) is quarantined with its reason.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ingest.alpaca.parsing import BadMessage, price_fixed, timestamp_ns
from ingest.databento.parsing import quote_problem
from ingest.marketdata.normaliser import VenueNormaliser
from ingest.marketdata.symbology import Instrument, SymbolTable
from schemas.events import EquityPrint, EquityQuote, Event

_decode = msgspec.json.Decoder().decode
CONTROL_TYPES = frozenset({"success", "subscription"})
OFF_EXCHANGE = "D"


def _size(message: dict[str, Any], field: str) -> int:
    value = message.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadMessage(f"{field}: expected a size, got {value!r}")
    return value


def _side(price: int, size: int) -> int | None:
    return None if price == 0 and size == 0 else price


class AlpacaStockNormaliser(VenueNormaliser):
    """Frames of one Alpaca stock feed; never raises on bad input."""

    def __init__(self, venue: str, source: str, table: SymbolTable) -> None:
        super().__init__(venue, source, table)
        self.quotes = 0
        self.authenticated = False  # set on the venue's `authenticated`; the source clears it

    def frame(self, text: str, ts_recv: int) -> list[Event]:
        try:
            messages = _decode(text)
        except msgspec.DecodeError as exc:
            return [self.quarantine(ts_recv, "malformed_json", str(exc), text)]
        if not isinstance(messages, list):
            return [self.quarantine(ts_recv, "unknown_message", "not an array", text)]
        events: list[Event] = []
        for message in messages:
            events.extend(self._one(message, ts_recv))
        return events

    def _one(self, message: Any, ts_recv: int) -> list[Event]:
        raw = msgspec.json.encode(message)
        if not isinstance(message, dict):
            return [self.quarantine(ts_recv, "unknown_message", "not an object", raw)]
        kind = message.get("T")
        if kind in CONTROL_TYPES:
            self.counters[f"control:{kind}"] += 1
            if kind == "success" and message.get("msg") == "authenticated":
                self.authenticated = True
            return []
        if kind == "error":
            detail = f"{message.get('code')} {message.get('msg')}"
            return [self.quarantine(ts_recv, "venue_error", detail, raw)]
        if kind not in ("t", "q"):
            return [self.quarantine(ts_recv, "unsupported_message", f"T={kind!r}", raw)]
        instrument = self.instrument(message.get("S"))
        if instrument is None:
            detail = f"{self.venue} {message.get('S')!r} is not in the symbology table"
            return [self.quarantine(ts_recv, "unknown_symbol", detail, raw)]
        read = self._trade if kind == "t" else self._quote
        try:
            event = read(message, instrument, ts_recv, raw)
        except BadMessage as exc:
            return [self.quarantine(ts_recv, "malformed_message", str(exc), raw)]
        if isinstance(event, EquityPrint | EquityQuote):
            self.counters[type(event).__name__] += 1
        return [event]

    def _event_fields(
        self, message: dict[str, Any], instrument: Instrument, ts_recv: int
    ) -> dict[str, Any]:
        return {
            "ts_recv": ts_recv,
            "ts_event": timestamp_ns(message.get("t")),
            "publisher_id": instrument.publisher_id,
            "instrument_id": instrument.instrument_id,
            "source": self.source,
            "symbol": instrument.symbol,
        }

    def _trade(
        self, message: dict[str, Any], instrument: Instrument, ts_recv: int, raw: bytes
    ) -> Event:
        trade_id = message.get("i")
        if isinstance(trade_id, bool) or not isinstance(trade_id, int):
            raise BadMessage(f"i: expected a trade id, got {trade_id!r}")
        exchange = message.get("x")
        if not isinstance(exchange, str) or not exchange:
            raise BadMessage(f"x: expected an exchange code, got {exchange!r}")
        price = price_fixed(message.get("p"), "p")
        size = _size(message, "s")
        if price <= 0 or size == 0:
            return self.quarantine(ts_recv, "nonpositive_trade", f"p={price} s={size}", raw)
        return EquityPrint(
            **self._event_fields(message, instrument, ts_recv),
            sequence=trade_id,
            venue=exchange,
            off_exchange=exchange == OFF_EXCHANGE,
            price=price,
            size=size,
        )

    def _quote(
        self, message: dict[str, Any], instrument: Instrument, ts_recv: int, raw: bytes
    ) -> Event:
        bid_sz, ask_sz = _size(message, "bs"), _size(message, "as")
        bid_px = _side(price_fixed(message.get("bp"), "bp"), bid_sz)
        ask_px = _side(price_fixed(message.get("ap"), "ap"), ask_sz)
        problem = quote_problem(bid_px, ask_px, bid_sz, ask_sz)
        if problem is not None:
            detail = f"bid={message.get('bp')}x{bid_sz} ask={message.get('ap')}x{ask_sz}"
            return self.quarantine(ts_recv, problem, detail, raw)
        self.quotes += 1
        return EquityQuote(
            **self._event_fields(message, instrument, ts_recv),
            sequence=self.quotes,
            venue=self.venue,
            bid_px=bid_px,
            ask_px=ask_px,
            bid_sz=bid_sz,
            ask_sz=ask_sz,
        )

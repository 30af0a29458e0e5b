"""Binance combined-stream frames and REST depth snapshots -> flowtape events.

Frames are `{"stream": "<symbol>@<channel>", "data": {...}}` (see shared/data/crypto/
SOURCE.md for every field). Decisions:
- `aggTrade` -> CryptoTrade: `a` is both `trade_id` and `sequence`, `T` is `ts_event`,
  `m` true means the buyer was the maker, so the aggressor sold; `l - f + 1` fills;
- `bookTicker` -> CryptoQuote with `u` as `sequence`; spot frames carry no exchange time,
  so their `ts_event` is the receive time;
- `depthUpdate` -> an unsynchronised BookUpdate diff (the adapter's DepthSync decides
  whether it continues the book); futures `pu` becomes `prev_update_id`;
- `markPriceUpdate` -> MarkPrice (`p` mark, `i` index, `r` funding, `T` next funding);
- a subscription reply (`{"result": null, "id": n}`) is counted, nothing else;
- anything else (garbage, an unknown channel such as `kline`, a symbol missing from the
  symbology table, a malformed field) becomes a Quarantined event with its reason.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import msgspec

from ingest.marketdata.numbers import BadNumber, millis_ns, scaled
from ingest.marketdata.symbology import Instrument, SymbolTable
from schemas.crypto import BookUpdate, CryptoQuote, CryptoTrade, MarkPrice
from schemas.events import Event, Quarantined

PRICE_DIGITS = 9
SIZE_DIGITS = 8
RATE_DIGITS = 9
MAX_PAYLOAD = 65_536

_decode = msgspec.json.Decoder().decode


class BadFrame(BadNumber):
    """A frame field is missing or has the wrong type."""

    code = "bad_frame"


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadFrame(f"{key}: expected an integer, got {value!r}")
    return value


def _levels(rows: Any, side: str) -> tuple[list[int], list[int]]:
    if not isinstance(rows, list):
        raise BadFrame(f"{side}: expected a list of [price, size], got {rows!r}")
    prices: list[int] = []
    sizes: list[int] = []
    for row in rows:
        if not isinstance(row, list) or len(row) < 2:
            raise BadFrame(f"{side}: expected [price, size], got {row!r}")
        prices.append(scaled(row[0], PRICE_DIGITS, side))
        sizes.append(scaled(row[1], SIZE_DIGITS, side))
    return prices, sizes


class BinanceNormaliser:
    """Frames of one Binance market -> events; never raises on bad input."""

    def __init__(self, venue: str, source: str, table: SymbolTable) -> None:
        self.venue = venue
        self.source = source
        self.table = table
        self.counters: Counter[str] = Counter()

    def quarantine(self, ts_recv: int, reason: str, detail: str, text: str | bytes) -> Quarantined:
        self.counters[f"quarantined:{reason}"] += 1
        payload = text.encode() if isinstance(text, str) else text
        return Quarantined(
            ts_recv=ts_recv,
            source=self.source,
            reason=reason,
            detail=detail,
            payload=payload[:MAX_PAYLOAD],
        )

    def frame(self, text: str, ts_recv: int) -> list[Event]:
        """One WebSocket text frame."""
        try:
            message = _decode(text)
        except msgspec.DecodeError as exc:
            return [self.quarantine(ts_recv, "malformed_json", str(exc), text)]
        if not isinstance(message, dict):
            return [self.quarantine(ts_recv, "unknown_message", "not an object", text)]
        data = message.get("data")
        if not isinstance(data, dict):
            if "result" in message and "id" in message:
                self.counters["control:subscribed"] += 1
                return []
            if "code" in message:
                return [self.quarantine(ts_recv, "venue_error", str(message.get("msg")), text)]
            return [self.quarantine(ts_recv, "unknown_message", "no data object", text)]
        stream = message.get("stream")
        channel = stream.partition("@")[2] if isinstance(stream, str) else ""
        instrument = self._instrument(data.get("s"))
        if instrument is None:
            return [self.quarantine(ts_recv, "unknown_symbol", f"{data.get('s')!r}", text)]
        try:
            event = self._event(channel, data, instrument, ts_recv)
        except BadNumber as exc:
            return [self.quarantine(ts_recv, "malformed_message", str(exc), text)]
        if event is None:
            return [self.quarantine(ts_recv, "unsupported_channel", f"{stream!r}", text)]
        self.counters[type(event).__name__] += 1
        return [event]

    def _instrument(self, venue_symbol: object) -> Instrument | None:
        if not isinstance(venue_symbol, str):
            return None
        return self.table.lookup(self.venue, venue_symbol)

    def _common(self, instrument: Instrument, ts_recv: int) -> dict[str, Any]:
        return {
            "ts_recv": ts_recv,
            "publisher_id": instrument.publisher_id,
            "instrument_id": instrument.instrument_id,
            "source": self.source,
            "symbol": instrument.symbol,
            "venue": self.venue,
            "venue_symbol": instrument.venue_symbol,
        }

    def _event(
        self, channel: str, data: dict[str, Any], instrument: Instrument, ts_recv: int
    ) -> Event | None:
        common = self._common(instrument, ts_recv)
        if channel == "aggTrade":
            return self._trade(data, common)
        if channel == "bookTicker":
            return self._quote(data, common, ts_recv)
        if channel.startswith("depth"):
            return self._diff(data, common)
        if channel.startswith("markPrice"):
            return self._mark(data, common)
        return None

    def _trade(self, data: dict[str, Any], common: dict[str, Any]) -> CryptoTrade:
        buyer_maker = data.get("m")
        if not isinstance(buyer_maker, bool):
            raise BadFrame(f"m: expected true or false, got {buyer_maker!r}")
        agg_id = _int(data, "a")
        return CryptoTrade(
            **common,
            ts_event=millis_ns(data.get("T"), "T"),
            sequence=agg_id,
            trade_id=str(agg_id),
            price=scaled(data.get("p"), PRICE_DIGITS, "p"),
            size=scaled(data.get("q"), SIZE_DIGITS, "q"),
            side="sell" if buyer_maker else "buy",
            trade_count=_int(data, "l") - _int(data, "f") + 1,
        )

    def _quote(self, data: dict[str, Any], common: dict[str, Any], ts_recv: int) -> CryptoQuote:
        stamp = data.get("T", data.get("E"))
        return CryptoQuote(
            **common,
            ts_event=ts_recv if stamp is None else millis_ns(stamp, "T"),
            sequence=_int(data, "u"),
            bid_px=scaled(data.get("b"), PRICE_DIGITS, "b"),
            bid_sz=scaled(data.get("B"), SIZE_DIGITS, "B"),
            ask_px=scaled(data.get("a"), PRICE_DIGITS, "a"),
            ask_sz=scaled(data.get("A"), SIZE_DIGITS, "A"),
        )

    def _diff(self, data: dict[str, Any], common: dict[str, Any]) -> BookUpdate:
        bid_px, bid_sz = _levels(data.get("b"), "b")
        ask_px, ask_sz = _levels(data.get("a"), "a")
        prev = data.get("pu")
        return BookUpdate(
            **common,
            ts_event=millis_ns(data.get("T", data.get("E")), "E"),
            sequence=_int(data, "u"),
            snapshot=False,
            first_update_id=_int(data, "U"),
            prev_update_id=None if prev is None else _int(data, "pu"),
            bid_px=bid_px,
            bid_sz=bid_sz,
            ask_px=ask_px,
            ask_sz=ask_sz,
        )

    def _mark(self, data: dict[str, Any], common: dict[str, Any]) -> MarkPrice:
        index, rate, next_funding = data.get("i"), data.get("r"), data.get("T")
        return MarkPrice(
            **common,
            ts_event=millis_ns(data.get("E"), "E"),
            sequence=_int(data, "E"),
            mark_px=scaled(data.get("p"), PRICE_DIGITS, "p"),
            index_px=None if index is None else scaled(index, PRICE_DIGITS, "i"),
            funding_rate=None if rate in (None, "") else scaled(rate, RATE_DIGITS, "r"),
            ts_next_funding=None if not next_funding else millis_ns(next_funding, "T"),
        )

    def snapshot(self, body: str | bytes, venue_symbol: str, ts_recv: int) -> Event:
        """A REST depth snapshot (`lastUpdateId`, `bids`, `asks`) as a BookUpdate snapshot."""
        instrument = self.table.lookup(self.venue, venue_symbol)
        if instrument is None:
            return self.quarantine(ts_recv, "unknown_symbol", repr(venue_symbol), body)
        try:
            data = _decode(body)
            if not isinstance(data, dict):
                raise BadFrame("expected a JSON object")
            last = _int(data, "lastUpdateId")
            bid_px, bid_sz = _levels(data.get("bids"), "bids")
            ask_px, ask_sz = _levels(data.get("asks"), "asks")
            stamp = data.get("T", data.get("E"))
            ts_event = ts_recv if stamp is None else millis_ns(stamp, "T")
        except (msgspec.DecodeError, BadNumber) as exc:
            return self.quarantine(ts_recv, "malformed_snapshot", str(exc), body)
        self.counters["BookSnapshot"] += 1
        return BookUpdate(
            **self._common(instrument, ts_recv),
            ts_event=ts_event,
            sequence=last,
            snapshot=True,
            first_update_id=last,
            bid_px=bid_px,
            bid_sz=bid_sz,
            ask_px=ask_px,
            ask_sz=ask_sz,
        )

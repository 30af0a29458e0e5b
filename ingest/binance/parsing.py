"""Binance combined-stream frames and REST depth snapshots -> flowtape events.

Frames are `{"stream": "<symbol>@<channel>", "data": {...}}` (see shared/data/crypto/
SOURCE.md for every field). Decisions:
- `aggTrade` -> CryptoTrade: `a` is both `trade_id` and `sequence`, `T` is `ts_event`,
  `m` true means the buyer was the maker, so the aggressor sold; `l - f + 1` fills;
- `trade` (one fill) -> CryptoTrade the same way, with `t` as its id;
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

from typing import Any

import msgspec

from ingest.marketdata.frames import (
    PRICE_DIGITS,
    RATE_DIGITS,
    SIZE_DIGITS,
    BadFrame,
    int_field,
    levels,
    optional_scaled,
)
from ingest.marketdata.normaliser import VenueNormaliser
from ingest.marketdata.numbers import BadNumber, millis_ns, scaled
from ingest.marketdata.symbology import Instrument
from schemas.crypto import BookUpdate, CryptoQuote, CryptoTrade, MarkPrice
from schemas.events import Event

_decode = msgspec.json.Decoder().decode


class BinanceNormaliser(VenueNormaliser):
    """Frames of one Binance market -> events; never raises on bad input."""

    def message(self, message: dict[str, Any], ts_recv: int, text: str) -> list[Event]:
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
        instrument = self.instrument(data.get("s"))
        if instrument is None:
            return [self.quarantine(ts_recv, "unknown_symbol", f"{data.get('s')!r}", text)]
        event = self._event(channel, data, instrument, ts_recv)
        if event is None:
            return [self.quarantine(ts_recv, "unsupported_channel", f"{stream!r}", text)]
        return [event]

    def _event(
        self, channel: str, data: dict[str, Any], instrument: Instrument, ts_recv: int
    ) -> Event | None:
        common = self.common(instrument, ts_recv)
        if channel in ("aggTrade", "trade"):
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
        aggregate = "a" in data
        trade_id = int_field(data, "a" if aggregate else "t")
        return CryptoTrade(
            **common,
            ts_event=millis_ns(data.get("T"), "T"),
            sequence=trade_id,
            trade_id=str(trade_id),
            price=scaled(data.get("p"), PRICE_DIGITS, "p"),
            size=scaled(data.get("q"), SIZE_DIGITS, "q"),
            side="sell" if buyer_maker else "buy",
            trade_count=int_field(data, "l") - int_field(data, "f") + 1 if aggregate else 1,
        )

    def _quote(self, data: dict[str, Any], common: dict[str, Any], ts_recv: int) -> CryptoQuote:
        stamp = data.get("T", data.get("E"))
        return CryptoQuote(
            **common,
            ts_event=ts_recv if stamp is None else millis_ns(stamp, "T"),
            sequence=int_field(data, "u"),
            bid_px=scaled(data.get("b"), PRICE_DIGITS, "b"),
            bid_sz=scaled(data.get("B"), SIZE_DIGITS, "B"),
            ask_px=scaled(data.get("a"), PRICE_DIGITS, "a"),
            ask_sz=scaled(data.get("A"), SIZE_DIGITS, "A"),
        )

    def _diff(self, data: dict[str, Any], common: dict[str, Any]) -> BookUpdate:
        bid_px, bid_sz = levels(data.get("b"), "b")
        ask_px, ask_sz = levels(data.get("a"), "a")
        prev = data.get("pu")
        return BookUpdate(
            **common,
            ts_event=millis_ns(data.get("T", data.get("E")), "E"),
            sequence=int_field(data, "u"),
            snapshot=False,
            first_update_id=int_field(data, "U"),
            prev_update_id=None if prev is None else int_field(data, "pu"),
            bid_px=bid_px,
            bid_sz=bid_sz,
            ask_px=ask_px,
            ask_sz=ask_sz,
        )

    def _mark(self, data: dict[str, Any], common: dict[str, Any]) -> MarkPrice:
        next_funding = data.get("T")
        return MarkPrice(
            **common,
            ts_event=millis_ns(data.get("E"), "E"),
            sequence=int_field(data, "E"),
            mark_px=scaled(data.get("p"), PRICE_DIGITS, "p"),
            index_px=optional_scaled(data.get("i"), PRICE_DIGITS, "i"),
            funding_rate=optional_scaled(data.get("r"), RATE_DIGITS, "r"),
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
            last = int_field(data, "lastUpdateId")
            bid_px, bid_sz = levels(data.get("bids"), "bids")
            ask_px, ask_sz = levels(data.get("asks"), "asks")
            stamp = data.get("T", data.get("E"))
            ts_event = ts_recv if stamp is None else millis_ns(stamp, "T")
        except (msgspec.DecodeError, BadNumber) as exc:
            return self.quarantine(ts_recv, "malformed_snapshot", str(exc), body)
        self.counters["BookSnapshot"] += 1
        return BookUpdate(
            **self.common(instrument, ts_recv),
            ts_event=ts_event,
            sequence=last,
            snapshot=True,
            first_update_id=last,
            bid_px=bid_px,
            bid_sz=bid_sz,
            ask_px=ask_px,
            ask_sz=ask_sz,
        )

"""Settings of the Bybit V5 public providers (frozen; unknown fields rejected). No key."""

from __future__ import annotations

from typing import Literal

import msgspec

Category = Literal["linear", "spot"]

WS_URL = "wss://stream.bybit.com/v5/public/{category}"


class BybitConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One V5 public connection for `symbols` (Bybit's names, e.g. `BTCUSDT`).

    Topics per symbol: `publicTrade`, `orderbook.1` (best bid/offer), `orderbook.<depth>`
    and, on linear, `tickers` (mark, index, funding). `keepalive_s`: Bybit drops a public
    connection that sends no `ping` for about a minute.
    """

    symbols: list[str]
    category: Category = "linear"
    depth: int = 50
    ws_url: str = ""
    silence_s: float = 5.0
    stall_s: float = 30.0
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    keepalive_s: float = 20.0
    source: str = ""

    @property
    def venue(self) -> str:
        return f"bybit-{self.category}"

    @property
    def source_name(self) -> str:
        return self.source or self.venue

    @property
    def stream_url(self) -> str:
        return self.ws_url or WS_URL.format(category=self.category)

    def topics(self) -> list[str]:
        channels = ["publicTrade", "orderbook.1", f"orderbook.{self.depth}"]
        if self.category == "linear":
            channels.append("tickers")
        return [f"{channel}.{symbol}" for symbol in self.symbols for channel in channels]

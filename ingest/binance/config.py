"""Settings of the Binance providers (frozen; unknown fields rejected). Public data: no key."""

from __future__ import annotations

from typing import Literal

import msgspec

Market = Literal["spot", "usdm"]

WS_URLS: dict[str, str] = {
    "spot": "wss://stream.binance.com:9443/stream",
    "usdm": "wss://fstream.binance.com/stream",
}
DEPTH_URLS: dict[str, str] = {
    "spot": "https://api.binance.com/api/v3/depth",
    "usdm": "https://fapi.binance.com/fapi/v1/depth",
}
CHANNELS: dict[str, tuple[str, ...]] = {
    "spot": ("aggTrade", "bookTicker", "depth@100ms"),
    "usdm": ("aggTrade", "bookTicker", "depth@100ms", "markPrice@1s"),
}


class BinanceConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One combined-stream connection for `symbols` (Binance's own names, e.g. `BTCUSDT`).

    `ws_url` / `depth_url` default to Binance's endpoints for `market`; tests point them at
    loopback servers. `silence_s`: a synthetic heartbeat after that long without a frame;
    `stall_s`: reconnect after that long; reconnects back off from `backoff_base_s` doubling
    to `backoff_max_s`.
    """

    symbols: list[str]
    market: Market = "spot"
    channels: list[str] | None = None
    ws_url: str = ""
    depth_url: str = ""
    depth_limit: int = 1000
    silence_s: float = 5.0
    stall_s: float = 30.0
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    snapshot_timeout_s: float = 10.0
    source: str = ""

    @property
    def venue(self) -> str:
        return f"binance-{self.market}"

    @property
    def source_name(self) -> str:
        return self.source or self.venue

    @property
    def stream_url(self) -> str:
        return self.ws_url or WS_URLS[self.market]

    @property
    def snapshot_url(self) -> str:
        return self.depth_url or DEPTH_URLS[self.market]

    def streams(self) -> list[str]:
        """`btcusdt@aggTrade`, … for every symbol and channel."""
        channels = self.channels if self.channels is not None else CHANNELS[self.market]
        return [f"{s.lower()}@{c}" for s in self.symbols for c in channels]

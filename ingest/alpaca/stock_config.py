"""Settings of the Alpaca stock source (frozen; unknown fields rejected).

The key pair comes from `infra.settings.Settings` (`ALPACA_API_KEY`, `ALPACA_SECRET_KEY`);
without it the source is a dry run that emits heartbeats only.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Feed = Literal["iex", "sip"]

WS_URL = "wss://stream.data.alpaca.markets/v2/{feed}"


class AlpacaStocksConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Trades and quotes of `symbols` (Alpaca's tickers, e.g. `AAPL`, `BRK.B`) on `feed`
    (`iex` is free, `sip` the consolidated tape)."""

    symbols: list[str]
    feed: Feed = "iex"
    ws_url: str = ""
    silence_s: float = 5.0
    stall_s: float = 30.0
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    source: str = ""
    api_key: str = ""
    secret_key: str = ""

    def __repr__(self) -> str:  # the keys stay out of logs and tracebacks
        return f"AlpacaStocksConfig(symbols={self.symbols!r}, feed={self.feed!r})"

    @property
    def venue(self) -> str:
        return f"alpaca-{self.feed}"

    @property
    def source_name(self) -> str:
        return self.source or f"alpaca-stocks-{self.feed}"

    @property
    def stream_url(self) -> str:
        return self.ws_url or WS_URL.format(feed=self.feed)

    @property
    def has_keys(self) -> bool:
        return bool(self.api_key.strip() and self.secret_key.strip())

"""The crypto providers `flowtape ingest --source …` names, and the failover pairs of `all`.

- `binance` (spot), `binance-usdm`, `bybit` (linear), `bybit-spot`: one provider each;
- `all`: two failover groups over the same symbols: spot Binance -> Bybit spot
  (`crypto-spot`) and perpetuals Binance USDⓈ-M -> Bybit linear (`crypto-perp`).
Symbols are the venues' own names (`BTCUSDT`); the symbology table must list each on every
venue that will carry it, or the command refuses to start.
"""

from __future__ import annotations

from ingest.binance.adapter import BinanceSource
from ingest.binance.config import BinanceConfig
from ingest.bybit.adapter import BybitSource
from ingest.bybit.config import BybitConfig
from ingest.marketdata.clock import ReceiveClock
from ingest.marketdata.failover import FailoverSettings, FailoverSource
from ingest.source import Source
from schemas.errors import ConfigError

CRYPTO_SOURCES = ("binance", "binance-usdm", "bybit", "bybit-spot", "all")


def build_providers(name: str, symbols: list[str], ws_url: str = "") -> list[Source]:
    """The sources for `name`; `ws_url` replaces the venue's URL (one provider only)."""
    if not symbols:
        raise ConfigError(f"{name} needs --symbols, e.g. BTCUSDT,ETHUSDT")
    if ws_url and name == "all":
        raise ConfigError("--ws-url names one venue's server; `all` connects to four")
    if name == "binance":
        return [BinanceSource(BinanceConfig(symbols=symbols, ws_url=ws_url))]
    if name == "binance-usdm":
        return [BinanceSource(BinanceConfig(symbols=symbols, market="usdm", ws_url=ws_url))]
    if name == "bybit":
        return [BybitSource(BybitConfig(symbols=symbols, ws_url=ws_url))]
    if name == "bybit-spot":
        return [BybitSource(BybitConfig(symbols=symbols, category="spot", ws_url=ws_url))]
    if name == "all":
        spot_clock, perp_clock = ReceiveClock(), ReceiveClock()
        return [
            FailoverSource(
                BinanceSource(BinanceConfig(symbols=symbols), clock=spot_clock),
                BybitSource(BybitConfig(symbols=symbols, category="spot"), clock=spot_clock),
                FailoverSettings(group="crypto-spot"),
                spot_clock,
            ),
            FailoverSource(
                BinanceSource(BinanceConfig(symbols=symbols, market="usdm"), clock=perp_clock),
                BybitSource(BybitConfig(symbols=symbols), clock=perp_clock),
                FailoverSettings(group="crypto-perp"),
                perp_clock,
            ),
        ]
    raise ConfigError(f"expected a crypto source among {', '.join(CRYPTO_SOURCES)}, got {name!r}")

import pytest

from ingest.binance.adapter import BinanceSource
from ingest.bybit.adapter import BybitSource
from ingest.marketdata.failover import FailoverSource
from ingest.marketdata.providers import build_providers
from ingest.marketdata.symbology import UnknownSymbol
from schemas.errors import ConfigError


def test_each_crypto_source_builds_its_provider() -> None:
    (binance,) = build_providers("binance", ["BTCUSDT"])
    (usdm,) = build_providers("binance-usdm", ["BTCUSDT"], ws_url="ws://127.0.0.1:1/stream")
    (bybit,) = build_providers("bybit", ["ETHUSDT"])
    assert isinstance(binance, BinanceSource) and binance.name == "binance-spot"
    assert isinstance(usdm, BinanceSource) and usdm.feed.settings.url == "ws://127.0.0.1:1/stream"
    assert isinstance(bybit, BybitSource) and bybit.name == "bybit-linear"


def test_all_pairs_binance_with_bybit_for_spot_and_perpetuals() -> None:
    spot, perp = build_providers("all", ["BTCUSDT", "ETHUSDT"])
    assert isinstance(spot, FailoverSource) and isinstance(perp, FailoverSource)
    assert (spot.primary.name, spot.backup.name) == ("binance-spot", "bybit-spot")
    assert (perp.primary.name, perp.backup.name) == ("binance-usdm", "bybit-linear")


@pytest.mark.parametrize(
    ("name", "symbols", "ws_url", "error", "match"),
    [
        ("binance", ["BTCUSDT", "WHATUSDT"], "", UnknownSymbol, "WHATUSDT"),
        ("all", ["DENTUSDT"], "", UnknownSymbol, "binance-usdm symbol 'DENTUSDT'"),
        ("bybit", [], "", ConfigError, "needs --symbols"),
        ("all", ["BTCUSDT"], "ws://x", ConfigError, "one venue"),
        ("kraken", ["BTCUSDT"], "", ConfigError, "expected a crypto source"),
    ],
)  # fmt: skip
def test_bad_requests_refuse_to_start(
    name: str, symbols: list[str], ws_url: str, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        build_providers(name, symbols, ws_url)

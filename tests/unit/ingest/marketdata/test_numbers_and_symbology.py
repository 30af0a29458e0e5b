import pytest

from ingest.marketdata.backoff import Backoff
from ingest.marketdata.numbers import BadNumber, scaled
from ingest.marketdata.symbology import (
    SymbolTable,
    UnknownSymbol,
    default_table,
    instrument_id,
)
from schemas.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "digits", "value"),
    [("0.21437000", 9, 214_370_000), ("57893.12", 9, 57_893_120_000_000), ("1", 8, 10**8),
     ("0.00000001", 8, 1), ("-0.5", 9, -500_000_000), ("12.", 2, 1200),
     ("0.10000000000", 8, 10**7)],
)  # fmt: skip
def test_decimal_text_scales_exactly(text: str, digits: int, value: int) -> None:
    assert scaled(text, digits, "p") == value


@pytest.mark.parametrize("text", ["1e5", "", ".5", "1.2.3", "+1", "0x10", "１", "0.000000001", 1.5])
def test_anything_but_plain_decimal_text_within_scale_is_refused(text: object) -> None:
    with pytest.raises(BadNumber, match="p:"):
        scaled(text, 8, "p")


def test_one_instrument_on_two_venues_has_one_symbol_and_id() -> None:
    table = default_table()
    binance = table.lookup("binance-usdm", "BTCUSDT")
    bybit = table.lookup("bybit-linear", "BTCUSDT")
    spot = table.lookup("binance-spot", "BTCUSDT")
    assert binance is not None and bybit is not None and spot is not None
    assert binance.symbol == bybit.symbol == "BTC-USDT-PERP"
    assert binance.instrument_id == bybit.instrument_id == instrument_id("BTC-USDT-PERP")
    assert spot.symbol == "BTC-USDT" and spot.instrument_id != binance.instrument_id
    assert binance.publisher_id != bybit.publisher_id


def test_an_unlisted_symbol_is_refused_and_counted_never_split() -> None:
    table = default_table()
    assert table.lookup("binance-spot", "BTC-USDT") is None
    assert table.lookup("binance-spot", "BTC/USD") is None
    assert table.lookup("binance-spot", "BTC-USDT") is None
    assert table.refused == {("binance-spot", "BTC-USDT"): 2, ("binance-spot", "BTC/USD"): 1}
    with pytest.raises(UnknownSymbol, match="'XYZUSDT' is not in the symbology table"):
        table.require("binance-spot", ["BTCUSDT", "XYZUSDT"])


def test_a_table_refuses_unknown_venues() -> None:
    with pytest.raises(ConfigError, match="venue"):
        SymbolTable([("kraken", "XBTUSD", "BTC", "USD", "spot")])


def test_backoff_doubles_from_its_base_to_its_cap_and_resets() -> None:
    backoff = Backoff(1.0, 60.0)
    assert [backoff.next_delay() for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    backoff.reset()
    assert backoff.next_delay() == 1

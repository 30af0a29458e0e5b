"""Builders of crypto events: one BTC-USDT moment on Binance spot, any field overridden."""

from __future__ import annotations

from typing import Any

from schemas.crypto import (
    BookUpdate,
    CryptoQuote,
    CryptoTrade,
    MarkPrice,
    ProviderGap,
    ProviderHeartbeat,
    ProviderSwitch,
)
from schemas.events import PRICE_SCALE, Event

T0 = 1_700_000_000_000_000_000
_COMMON: dict[str, Any] = dict(
    ts_recv=T0 + 5_000_000, ts_event=T0, publisher_id=1, instrument_id=11, source="binance",
    symbol="BTC-USDT", venue="binance-spot", venue_symbol="BTCUSDT", sequence=100,
)  # fmt: skip


def crypto_trade(**fields: Any) -> CryptoTrade:
    """0.5 BTC bought at 30 000 USDT."""
    defaults = _COMMON | dict(
        trade_id="100", price=30_000 * PRICE_SCALE, size=50_000_000, side="buy"
    )
    return CryptoTrade(**(defaults | fields))


def crypto_quote(**fields: Any) -> CryptoQuote:
    """29 999 x 30 001, 1 BTC each side."""
    defaults = _COMMON | dict(
        bid_px=29_999 * PRICE_SCALE, bid_sz=100_000_000, ask_px=30_001 * PRICE_SCALE,
        ask_sz=100_000_000,
    )  # fmt: skip
    return CryptoQuote(**(defaults | fields))


def book_update(**fields: Any) -> BookUpdate:
    """A diff setting one bid level and removing one ask level."""
    defaults = _COMMON | dict(
        snapshot=False, first_update_id=99, bid_px=[29_999 * PRICE_SCALE], bid_sz=[7],
        ask_px=[30_002 * PRICE_SCALE], ask_sz=[0],
    )  # fmt: skip
    return BookUpdate(**(defaults | fields))


def mark_price(**fields: Any) -> MarkPrice:
    """A perpetual's mark, index and funding."""
    defaults = _COMMON | dict(
        venue="bybit-linear", source="bybit", symbol="BTC-USDT-PERP", mark_px=30_000 * PRICE_SCALE,
        index_px=29_990 * PRICE_SCALE, funding_rate=100_000, ts_next_funding=T0 + 3600 * 10**9,
    )  # fmt: skip
    return MarkPrice(**(defaults | fields))


def provider_events() -> list[Event]:
    """One heartbeat, gap and switch."""
    return [
        ProviderHeartbeat(ts_recv=T0, source="binance", synthetic=True, silence_ns=5 * 10**9),
        ProviderGap(
            ts_recv=T0 + 1,
            source="binance",
            venue="binance-spot",
            symbol="BTC-USDT",
            reason="sequence_gap",
            first_missed=101,
            last_missed=104,
        ),  # fmt: skip
        ProviderGap(
            ts_recv=T0 + 2,
            source="binance",
            venue="",
            symbol="",
            reason="backpressure",
            dropped={"crypto_quote": 3},
            first_ts_recv=T0,
            last_ts_recv=T0 + 1,
        ),  # fmt: skip
        ProviderSwitch(
            ts_recv=T0 + 3,
            source="failover",
            failover_group="btc",
            from_source="binance",
            to_source="bybit",
            reason="3 bad checks",
            epoch=1,
        ),  # fmt: skip
    ]


def one_of_each_crypto_event() -> list[Event]:
    """Every crypto event type at least once."""
    return [crypto_trade(), crypto_quote(), book_update(), mark_price(), *provider_events()]

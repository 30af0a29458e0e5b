"""Crypto market data and provider-health events (Binance, Bybit and their failover).

Conventions beyond schemas/events.py:
- prices keep the 1e-9 scale (`PRICE_SCALE`); crypto sizes are fractional, so they are
  integers at `SIZE_SCALE` (1e-8, the finest step Binance and Bybit quote); funding rates
  at `RATE_SCALE` (1e-9);
- `source` is the provider that produced the event (`binance`, `bybit`), `venue` the market
  it describes (`binance-spot`, `binance-usdm`, `bybit-spot`, `bybit-linear`), `symbol` the
  canonical instrument (`BTC-USDT`, `BTC-USDT-PERP`) and `venue_symbol` the venue's own name;
- `epoch` is the failover epoch the event was published in (0 before any switch);
- `sequence` is the venue's own update or trade id, never a local counter.
"""

from __future__ import annotations

from typing import Literal

from schemas.events import Event, MarketEvent

SIZE_SCALE = 100_000_000
RATE_SCALE = 1_000_000_000

AggressorSide = Literal["buy", "sell"]
GapReason = Literal["reconnect", "sequence_gap", "backpressure"]


class CryptoMarketEvent(MarketEvent, frozen=True, kw_only=True):
    """Base of crypto market data: the venue, its symbol and the failover epoch."""

    venue: str
    venue_symbol: str
    sequence: int
    epoch: int = 0


class CryptoTrade(CryptoMarketEvent, frozen=True, kw_only=True, tag="crypto_trade"):
    """One trade (a Binance aggregate trade covers `trade_count` fills at one price).

    `side` is the aggressor's side; `trade_id` the venue's id as text (Bybit linear ids are
    UUIDs); `sequence` orders trades within the venue (Binance `a`, Bybit `seq`).
    """

    trade_id: str
    price: int
    size: int
    side: AggressorSide
    trade_count: int = 1


class CryptoQuote(CryptoMarketEvent, frozen=True, kw_only=True, tag="crypto_quote"):
    """Best bid and offer (Binance `bookTicker`, Bybit linear `tickers` bid1/ask1)."""

    bid_px: int
    bid_sz: int
    ask_px: int
    ask_sz: int


class BookUpdate(CryptoMarketEvent, frozen=True, kw_only=True, tag="book_update"):
    """A depth snapshot (`snapshot=True`: replaces the book) or a diff (sets each level's
    size; size 0 removes the level).

    Levels are parallel arrays, best first in a snapshot. `sequence` is the last update id
    the event brings the book to (Binance `u` or a snapshot's `lastUpdateId`, Bybit `u`),
    `first_update_id` the first (Binance `U`), `prev_update_id` the id the venue says came
    before (Binance futures `pu`, None elsewhere). A provider publishes diffs only once its
    book is synchronised: the snapshot comes first, then diffs that continue it.
    """

    snapshot: bool
    first_update_id: int
    prev_update_id: int | None = None
    bid_px: list[int]
    bid_sz: list[int]
    ask_px: list[int]
    ask_sz: list[int]


class MarkPrice(CryptoMarketEvent, frozen=True, kw_only=True, tag="mark_price"):
    """Mark price, index price and funding of a perpetual (Binance `markPriceUpdate`, Bybit
    linear `tickers`). `funding_rate` is at `RATE_SCALE`; None where the frame left it out."""

    mark_px: int
    index_px: int | None = None
    funding_rate: int | None = None
    ts_next_funding: int | None = None


class ProviderHeartbeat(Event, frozen=True, kw_only=True, tag="provider_heartbeat"):
    """A provider has been silent for `silence_ns`; `synthetic` when the service made it
    up on that silence rather than the venue sending a keep-alive."""

    source: str
    synthetic: bool
    silence_ns: int
    epoch: int = 0


class ProviderGap(Event, frozen=True, kw_only=True, tag="provider_gap"):
    """Data that did not reach the log, and why.

    - `reconnect`: the connection was lost and re-established;
    - `sequence_gap`: the venue's update ids skipped `first_missed`..`last_missed`;
    - `backpressure`: the publisher's queue dropped `dropped` events (by event tag) that
      were received between `first_ts_recv` and `last_ts_recv`.
    `venue` and `symbol` are empty when the gap concerns the whole provider.
    """

    source: str
    venue: str
    symbol: str
    reason: GapReason
    first_missed: int | None = None
    last_missed: int | None = None
    dropped: dict[str, int] = {}
    first_ts_recv: int | None = None
    last_ts_recv: int | None = None
    detail: str = ""
    epoch: int = 0


class ProviderSwitch(Event, frozen=True, kw_only=True, tag="provider_switch"):
    """The failover manager of `failover_group` made `to_source` active, opening `epoch`."""

    source: str
    failover_group: str
    from_source: str
    to_source: str
    reason: str
    epoch: int


# ---------------------------------------------------------------------- derived events


class CryptoFeatures(Event, frozen=True, tag="crypto_features"):
    """One symbol's features over the trailing event-time window, at `ts_recv`.

    Prices at 1e-9 (`mid_px` is the half-sum of best bid and ask, rounded down; `vwap_px`
    rounded down), volumes at `SIZE_SCALE`; ratios, basis points and milliseconds are
    floats computed from exact integers and rounded to 4 decimals; None when the window
    holds nothing to compute them from. `trade_imbalance` is (buy - sell) / (buy + sell)
    volume by aggressor side, `book_imbalance` the same over the top levels of the depth
    book, `quote_imbalance` over the best bid and ask sizes.
    """

    run_id: str
    symbol: str
    window_ns: int
    mid_px: int | None
    spread_bps: float | None
    vwap_px: int | None
    ret_1s_bps: float | None
    ret_5s_bps: float | None
    ret_30s_bps: float | None
    ret_60s_bps: float | None
    realized_vol_bps: float | None
    trade_count: int
    volume: int
    buy_volume: int
    sell_volume: int
    trade_imbalance: float | None
    latency_ms: float | None
    book_imbalance: float | None
    quote_imbalance: float | None
    funding_rate: int | None


class CryptoSignal(Event, frozen=True, tag="crypto_signal"):
    """A rule that fired on a symbol's features, with the values and thresholds it used."""

    signal_id: str
    run_id: str
    symbol: str
    direction: Literal["long", "short"]
    rule: str
    features: dict[str, float]
    thresholds: dict[str, float]


CRYPTO_RAW_EVENTS: tuple[type[Event], ...] = (
    CryptoTrade,
    CryptoQuote,
    BookUpdate,
    MarkPrice,
    ProviderHeartbeat,
    ProviderGap,
    ProviderSwitch,
)
CRYPTO_MARKET_EVENTS: tuple[type[CryptoMarketEvent], ...] = (
    CryptoTrade,
    CryptoQuote,
    BookUpdate,
    MarkPrice,
)
PROVIDER_EVENTS: tuple[type[Event], ...] = (ProviderHeartbeat, ProviderGap, ProviderSwitch)
CRYPTO_DERIVED_EVENTS: tuple[type[Event], ...] = (CryptoFeatures, CryptoSignal)

CryptoEvent = (
    CryptoTrade
    | CryptoQuote
    | BookUpdate
    | MarkPrice
    | ProviderHeartbeat
    | ProviderGap
    | ProviderSwitch
    | CryptoFeatures
    | CryptoSignal
)

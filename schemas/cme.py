"""CME Globex futures and options on futures (Databento `GLBX.MDP3`), and the alpha frame.

Conventions beyond schemas/events.py:
- prices and strikes keep the 1e-9 scale (`PRICE_SCALE`); Databento's undefined price is None;
- `instrument_id` is unique within a day only, like every Databento id;
- the futures' depth comes as `schemas.book.Mbp10Event` (its ten levels as given);
- `side` on a trade is Databento's aggressor character: `B` a buyer lifted the offer, `A` a
  seller hit the bid, `N` none (DOMAIN.md, CME).
"""

from __future__ import annotations

from typing import Literal

from schemas.events import Event, MarketEvent, Record

InstrumentClass = Literal["F", "C", "P"]
Health = Literal["ok", "stale_chain"]

# Databento statistics types (dbn `StatType`) the alpha stream reads.
STAT_SETTLEMENT_PRICE = 3
STAT_OPEN_INTEREST = 9


class CmeInstrument(MarketEvent, frozen=True, kw_only=True, tag="cme_instrument"):
    """A future (`F`) or an option on a future (`C`/`P`) from a Databento definition.

    `asset` is the product as the exchange names it (`CL`, `LO`); an option names its
    underlying future by id and symbol. `multiplier` is the contract's unit of measure
    quantity (1,000 barrels for CL) and `tick` its minimum price increment, both at 1e-9;
    `tick` is None where the exchange publishes a variable tick. `cfi` is the ISO 10962 code
    (`OPAFPS`: an American put on a future).
    """

    instrument_class: InstrumentClass
    asset: str
    expiration: int
    multiplier: int
    tick: int | None
    cfi: str = ""
    strike_price: int | None = None
    underlying_id: int | None = None
    underlying_symbol: str = ""


class CmeTrade(MarketEvent, frozen=True, kw_only=True, tag="cme_trade"):
    """One trade of a future or an option on a future, with its aggressor side."""

    sequence: int
    price: int
    size: int
    side: str
    flags: int = 0


class CmeQuote(MarketEvent, frozen=True, kw_only=True, tag="cme_quote"):
    """Top of book of one instrument: `mbp-1` (a change stream) or `bbo-1s`/`bbo-1m`
    (sampled: `sampled=True`, fresh only as its sample; its `ts_event` is the last trade's
    time, not the quote's)."""

    sequence: int
    bid_px: int | None
    ask_px: int | None
    bid_sz: int
    ask_sz: int
    sampled: bool = False


class CmeStatistic(MarketEvent, frozen=True, kw_only=True, tag="cme_statistic"):
    """One exchange statistic (settlement price, open interest, …) as Databento gives it:
    `stat_type` is dbn's `StatType`; `price` (1e-9) or `quantity` carries the value."""

    sequence: int
    stat_type: int
    price: int | None
    quantity: int | None
    update_action: int = 1
    stat_flags: int = 0


# ---------------------------------------------------------------------- derived events


class ExpiryFrame(Record, frozen=True, kw_only=True):
    """What one expiry of the options chain says at a frame, with the counts behind it.

    `forward` is the parity forward (1e-9, median over `forward_strikes` strikes nearest the
    future); vols are decimal (0.35 = 35 %), `rr25` in vol points; `iv_strikes` counts the
    out-of-the-money options whose vol was solved, `max_quote_age_ms` the oldest quote used.
    `iv_rejected` counts the out-of-the-money options whose mid lay outside Black-76's
    no-arbitrage bounds (no vol); `underlying_mid` is the underlying future's mid the vols
    were solved on (1e-9), None where it had no two-sided quote (the parity forward then).
    """

    expiration: int
    underlying_symbol: str
    time_to_expiry: float
    forward: int | None
    forward_strikes: int
    atm_iv: float | None
    call25_iv: float | None
    put25_iv: float | None
    rr25: float | None
    iv_strikes: int
    fresh_strikes: int
    max_quote_age_ms: int | None
    iv_rejected: int = 0
    underlying_mid: int | None = None


class AlphaFrame(Event, frozen=True, kw_only=True, tag="alpha_frame"):
    """The derived signal frame of one root at one whole emit instant of event time.

    `cme_fwd_mid` is the front future's mid (1e-9); `atm_iv`, `rr25` and `iv_term_slope` come
    from the front expiries (`expiries`, front first); `skew_signal` is an EWMA of
    tanh(rr25 / k) in [-1, 1]; `signed_flow_10` the futures volume bought minus sold by
    aggressors over the last 10 s; `imb_5` the front future's top-5-level book imbalance in
    [-1, 1]; `funding` a configured perpetual's funding rate (`schemas.crypto.RATE_SCALE`) or
    None; `health` is `stale_chain` with `health_reason` when the chain cannot be trusted.
    """

    run_id: str
    frame_id: str
    root: str
    front_symbol: str
    cme_fwd_mid: int | None
    atm_iv: float | None
    rr25: float | None
    iv_term_slope: float | None
    skew_signal: float | None
    signed_flow_10: int
    trades_10: int
    imb_5: float | None
    book_levels: int
    funding: int | None
    health: Health
    health_reason: str
    expiries: list[ExpiryFrame]


CME_RAW_EVENTS: tuple[type[Event], ...] = (CmeInstrument, CmeTrade, CmeQuote, CmeStatistic)
CME_DERIVED_EVENTS: tuple[type[Event], ...] = (AlphaFrame,)

CmeEvent = CmeInstrument | CmeTrade | CmeQuote | CmeStatistic | AlphaFrame

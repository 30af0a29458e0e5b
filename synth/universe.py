"""The synthetic universe: underlyings, option chains, price paths and a volatility surface."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import databento as db
import numpy as np

from schemas.events import PRICE_SCALE
from schemas.occ import format_occ

NEW_YORK = ZoneInfo("America/New_York")
NS = 1_000_000_000
YEAR_NS = 365 * 86_400 * NS
RATE = 0.04
CENT = PRICE_SCALE // 100

# (ticker, price around early 2025, annual volatility, liquidity weight)
LIQUID_NAMES: tuple[tuple[str, float, float, float], ...] = (
    ("SPY", 600.0, 0.14, 12.0),
    ("QQQ", 520.0, 0.18, 8.0),
    ("NVDA", 140.0, 0.48, 9.0),
    ("TSLA", 350.0, 0.60, 9.0),
    ("AAPL", 245.0, 0.25, 6.0),
    ("MSFT", 410.0, 0.23, 4.0),
    ("AMZN", 225.0, 0.32, 5.0),
    ("META", 700.0, 0.36, 4.0),
    ("GOOGL", 185.0, 0.30, 4.0),
    ("AMD", 115.0, 0.50, 4.0),
    ("IWM", 225.0, 0.20, 3.0),
    ("PLTR", 110.0, 0.70, 4.0),
    ("AVGO", 225.0, 0.45, 3.0),
    ("NFLX", 1000.0, 0.38, 2.0),
    ("COIN", 280.0, 0.75, 2.0),
    ("MSTR", 330.0, 0.90, 2.0),
    ("BAC", 46.0, 0.25, 2.0),
    ("JPM", 265.0, 0.22, 1.5),
    ("SMCI", 45.0, 0.90, 2.0),
    ("INTC", 20.0, 0.45, 2.0),
    ("BABA", 140.0, 0.45, 2.0),
    ("UBER", 75.0, 0.38, 1.5),
    ("HOOD", 60.0, 0.80, 2.0),
    ("MU", 100.0, 0.50, 2.0),
    ("SOFI", 15.0, 0.65, 2.0),
    ("F", 10.0, 0.35, 1.5),
    ("BA", 180.0, 0.35, 1.5),
    ("DIS", 110.0, 0.25, 1.0),
    ("ORCL", 170.0, 0.32, 1.5),
    ("CRM", 330.0, 0.30, 1.0),
    ("XOM", 110.0, 0.22, 1.0),
    ("C", 75.0, 0.28, 1.0),
    ("WMT", 95.0, 0.20, 1.0),
    ("ARM", 150.0, 0.60, 1.0),
    ("RIVN", 13.0, 0.70, 1.0),
    ("GME", 27.0, 0.90, 1.0),
    ("LLY", 860.0, 0.30, 1.0),
    ("UNH", 510.0, 0.25, 1.0),
    ("XLF", 50.0, 0.18, 1.0),
    ("GLD", 270.0, 0.15, 1.0),
    ("TLT", 88.0, 0.14, 1.0),
    ("SLV", 30.0, 0.30, 1.0),
    ("EEM", 44.0, 0.18, 1.0),
    ("KRE", 62.0, 0.28, 0.8),
    ("NIO", 4.5, 0.75, 1.0),
)

# Approximate shares of US options volume by venue; only relative sizes matter.
OPRA_VENUES: tuple[tuple[str, float], ...] = (
    ("OPRA.PILLAR.XPHL", 0.10),
    ("OPRA.PILLAR.XCBO", 0.10),
    ("OPRA.PILLAR.BATO", 0.09),
    ("OPRA.PILLAR.XISX", 0.07),
    ("OPRA.PILLAR.AMXO", 0.07),
    ("OPRA.PILLAR.ARCO", 0.07),
    ("OPRA.PILLAR.MPRL", 0.06),
    ("OPRA.PILLAR.XMIO", 0.06),
    ("OPRA.PILLAR.XNDQ", 0.06),
    ("OPRA.PILLAR.EMLD", 0.05),
    ("OPRA.PILLAR.SPHR", 0.05),
    ("OPRA.PILLAR.EDGO", 0.04),
    ("OPRA.PILLAR.XBOX", 0.04),
    ("OPRA.PILLAR.C2OX", 0.04),
    ("OPRA.PILLAR.GMNI", 0.03),
    ("OPRA.PILLAR.MCRY", 0.02),
)
OPRA_CONSOLIDATED = "OPRA.PILLAR.OPRA"
LIT_PUBLISHER = "XNAS.ITCH.XNAS"
DARK_PUBLISHERS = ("EQUS.PLUS.FINN", "EQUS.PLUS.FINC", "EQUS.PLUS.FINY")


def publisher_id(name: str) -> int:
    """Databento's numeric publisher id for a name like `OPRA.PILLAR.XCBO`."""
    return int(db.Publisher(name).to_int())


@dataclass
class Universe:
    """Underlyings and their option contracts, as parallel arrays indexed by contract."""

    tickers: list[str]
    equity_ids: np.ndarray  # int64 per underlying
    spot0: np.ndarray  # float dollars per underlying
    vol: np.ndarray  # annual ATM volatility per underlying
    weight: np.ndarray  # liquidity weight per underlying
    expiries: list[dt.date]
    c_under: np.ndarray  # underlying index per contract
    c_expiry: np.ndarray  # expiry index per contract
    c_strike: np.ndarray  # float dollars
    c_put: np.ndarray  # bool
    c_id: np.ndarray  # instrument_id
    c_symbol: list[str]
    c_expiry_ns: np.ndarray  # 16:00 New York on the expiry date, ns
    c_strike_pos: np.ndarray  # strike rank from the lowest, per (underlying, expiry)

    @property
    def n_contracts(self) -> int:
        return len(self.c_id)


def _strike_step(price: float) -> float:
    if price < 25:
        return 0.5
    if price < 100:
        return 1.0
    if price < 250:
        return 2.5
    if price < 500:
        return 5.0
    return 10.0


def _expiries(date: dt.date, n: int) -> list[dt.date]:
    """Weekly Fridays from the session date (0DTE on a Friday), then one monthly further out."""
    friday = date + dt.timedelta(days=(4 - date.weekday()) % 7)
    weeklies = [friday + dt.timedelta(weeks=k) for k in range(max(1, n - 1))]
    if n == 1:
        return weeklies
    month = date.month + 2
    year = date.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    first = dt.date(year, month, 1)
    third_friday = first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)
    return [*weeklies, third_friday]


def build_universe(
    rng: random.Random,
    date: dt.date,
    n_underlyings: int,
    n_expiries: int,
    strikes_per_side: int,
) -> Universe:
    """The underlyings (liquid names first) and a strike ladder around spot per expiry."""
    names = list(LIQUID_NAMES[:n_underlyings])
    for k in range(len(names), n_underlyings):
        price = round(math.exp(rng.uniform(math.log(8), math.log(400))), 2)
        names.append((f"SYN{k:03d}", price, rng.uniform(0.2, 0.8), 0.5))
    tickers = [name for name, *_ in names]
    spot0 = np.array([price * math.exp(rng.gauss(0, 0.01)) for _, price, _, _ in names])
    vol = np.array([v for _, _, v, _ in names])
    weight = np.array([w for *_, w in names])
    equity_ids = np.array([1000 + 7 * k for k in range(n_underlyings)], dtype=np.int64)
    expiries = _expiries(date, n_expiries)
    expiry_ns = [
        int(dt.datetime(e.year, e.month, e.day, 16, tzinfo=NEW_YORK).timestamp()) * NS
        for e in expiries
    ]
    c_under, c_expiry, c_strike, c_put, c_symbol, c_pos = [], [], [], [], [], []
    for u, ticker in enumerate(tickers):
        step = _strike_step(spot0[u])
        atm = round(spot0[u] / step) * step
        for e, expiry in enumerate(expiries):
            # Further expiries list wider strikes, as real chains do.
            width = step * (1 + (e == len(expiries) - 1 and len(expiries) > 1))
            for pos, k in enumerate(range(-strikes_per_side, strikes_per_side + 1)):
                strike = round(atm + k * width, 3)
                if strike <= 0:
                    continue
                for put in (False, True):
                    c_under.append(u)
                    c_expiry.append(e)
                    c_strike.append(strike)
                    c_put.append(put)
                    c_pos.append(pos)
                    strike_px = round(strike * 1000) * (PRICE_SCALE // 1000)
                    expiry_date = expiry.year * 10_000 + expiry.month * 100 + expiry.day
                    c_symbol.append(format_occ(ticker, expiry_date, "P" if put else "C", strike_px))
    n = len(c_symbol)
    return Universe(
        tickers=tickers,
        equity_ids=equity_ids,
        spot0=spot0,
        vol=vol,
        weight=weight,
        expiries=expiries,
        c_under=np.array(c_under, dtype=np.int64),
        c_expiry=np.array(c_expiry, dtype=np.int64),
        c_strike=np.array(c_strike, dtype=np.float64),
        c_put=np.array(c_put, dtype=bool),
        c_id=16_777_216 + 97 * np.arange(n, dtype=np.int64),
        c_symbol=c_symbol,
        c_expiry_ns=np.array([expiry_ns[e] for e in c_expiry], dtype=np.int64),
        c_strike_pos=np.array(c_pos, dtype=np.int64),
    )


def spot_paths(
    rng: np.random.Generator, universe: Universe, seconds: int, minutes_per_year: float
) -> np.ndarray:
    """Geometric Brownian mid-price paths on a one-second grid, shape (underlyings, seconds+1)."""
    n = len(universe.tickers)
    dt_years = 1.0 / (minutes_per_year * 60.0)
    shocks = rng.standard_normal((n, seconds)) * (universe.vol[:, None] * math.sqrt(dt_years))
    log_path = np.concatenate([np.zeros((n, 1)), np.cumsum(shocks, axis=1)], axis=1)
    return np.asarray(universe.spot0[:, None] * np.exp(log_path))


def spot_at(paths: np.ndarray, under: np.ndarray, rel_ns: np.ndarray) -> np.ndarray:
    """Linear interpolation of the one-second paths at nanosecond offsets from the open."""
    seconds = rel_ns / NS
    last = paths.shape[1] - 1
    i0 = np.clip(np.floor(seconds).astype(np.int64), 0, last - 1)
    frac = np.clip(seconds - i0, 0.0, 1.0)
    return np.asarray(paths[under, i0] * (1 - frac) + paths[under, i0 + 1] * frac)


def _norm_cdf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 26.2.17 (|error| < 7.5e-8): numpy has no erf, scipy is no dependency.
    t = 1.0 / (1.0 + 0.2316419 * np.abs(x))
    a1, a2, a3, a4, a5 = 0.319381530, -0.356563782, 1.781477937, -1.821255978, 1.330274429
    poly = t * (a1 + t * (a2 + t * (a3 + t * (a4 + t * a5))))
    tail = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi) * poly
    return np.where(x >= 0, 1.0 - tail, tail)


def implied_vol(universe: Universe, contracts: np.ndarray, years: np.ndarray) -> np.ndarray:
    """A static surface: put skew and smile in log-moneyness, short expiries a little richer."""
    under = universe.c_under[contracts]
    x = np.log(universe.c_strike[contracts] / universe.spot0[under])
    shape = np.maximum(0.5, 1.0 - 1.1 * x + 2.5 * x * x)
    term = 1.0 + 0.12 * np.exp(-years * 20.0)
    return np.asarray(universe.vol[under] * shape * term)


def theo_price(
    universe: Universe, paths: np.ndarray, contracts: np.ndarray, abs_ns: np.ndarray, open_ns: int
) -> np.ndarray:
    """Black-Scholes value in dollars of each contract at each absolute time."""
    under = universe.c_under[contracts]
    spot = spot_at(paths, under, abs_ns - open_ns)
    years = np.maximum((universe.c_expiry_ns[contracts] - abs_ns) / YEAR_NS, 2e-5)
    sigma = implied_vol(universe, contracts, years)
    strike = universe.c_strike[contracts]
    root = sigma * np.sqrt(years)
    d1 = (np.log(spot / strike) + (RATE + 0.5 * sigma * sigma) * years) / root
    d2 = d1 - root
    discount = np.exp(-RATE * years)
    call = spot * _norm_cdf(d1) - strike * discount * _norm_cdf(d2)
    put = strike * discount * _norm_cdf(-d2) - spot * _norm_cdf(-d1)
    value = np.where(universe.c_put[contracts], put, call)
    intrinsic = np.where(universe.c_put[contracts], strike - spot, spot - strike)
    return np.asarray(np.maximum(value, np.maximum(intrinsic, 0.0)))


def option_tick(theo: np.ndarray) -> np.ndarray:
    """Quote increment in 1e-9 dollars: a penny under $3, a nickel above (penny pilot rule)."""
    return np.where(theo < 3.0, CENT, 5 * CENT).astype(np.int64)


def nbbo_from_theo(
    theo: np.ndarray, jitter: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Bid and ask (1e-9 dollars) around a theoretical value; `jitter` in ticks shifts both."""
    tick = option_tick(theo)
    half = np.maximum(0.012 * theo + 0.01, 0.01) * PRICE_SCALE
    centre = theo * PRICE_SCALE
    if jitter is not None:
        centre = centre + jitter * tick
    bid = np.floor((centre - half) / tick).astype(np.int64) * tick
    ask = np.ceil((centre + half) / tick).astype(np.int64) * tick
    bid = np.maximum(bid, CENT)
    ask = np.maximum(ask, bid + tick)
    return bid, ask

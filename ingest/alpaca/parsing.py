"""Alpaca option stream messages -> flowtape events, and the bounded contract selection.

Alpaca's option stream sends msgpack frames, each a list of messages:
trades `{"T": "t", "S": "AAPL250221C00250000", "t": Timestamp, "p": 0.24, "s": 1,
"x": "C", "c": "I"}` and quotes `{"T": "q", "S": ..., "t": Timestamp, "bx": "C", "bp":
0.23, "bs": 10, "ax": "X", "ap": 0.25, "as": 12, "c": "A"}`. With `raw_data=True`
alpaca-py hands exactly these dicts to the subscribed handlers; `AlpacaNormaliser` takes
them from there.

Decisions:
- Alpaca relays OPRA: there is no Databento publisher behind its messages, so every event
  has `publisher_id=0` (`ALPACA_PUBLISHER_ID`) and `source="alpaca"`. The exchange codes
  (`x`, `bx`, `ax`) are not mapped to OPRA venues (no verified table); sweep detection
  across venues therefore has nothing to work with on this source.
- Quotes are Alpaca's consolidated quote (the NBBO), emitted as OptionQuote.
- The `indicative` feed is a derived, delayed picture, not the tape: its prints are
  marked `coarse=True`; `opra` prints are not.
- `ts_event` is Alpaca's timestamp; `ts_recv` is this machine's receive time (never
  moving backwards); `sequence` counts messages in arrival order.
- Prices arrive as floats in dollars and are converted through their decimal text, so
  0.24 becomes exactly 240_000_000.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import msgpack

from ingest.alpaca.config import AlpacaOptionsConfig
from ingest.databento.parsing import quote_problem
from schemas.errors import FlowtapeError
from schemas.events import PRICE_SCALE, Event, OptionPrint, OptionQuote, Quarantined, Right
from schemas.occ import format_occ, parse_occ

ALPACA_PUBLISHER_ID = 0
_ALPACA_OPTION = re.compile(r"^(?P<root>[A-Z0-9.]{1,6})(?P<rest>\d{6}[CP]\d{8})$")


class BadMessage(FlowtapeError, ValueError):
    """A message field is missing or malformed."""

    code = "bad_message"


def occ_from_alpaca(symbol: str) -> str:
    """`AAPL250221C00250000` -> the padded OCC symbol `AAPL  250221C00250000`."""
    match = _ALPACA_OPTION.match(symbol)
    if match is None:
        raise BadMessage(f"expected an option symbol like 'AAPL250221C00250000', got {symbol!r}")
    return f"{match['root']:<6}{match['rest']}"


def alpaca_from_occ(symbol: str) -> str:
    """The padded OCC symbol as Alpaca writes it (no padding)."""
    return symbol.replace(" ", "")


def price_fixed(value: Any, field: str) -> int:
    """Dollars (float, int or text) as int64 at 1e-9, exactly as written."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadMessage(f"{field}: expected a number, got {value!r}")
    try:
        scaled = Decimal(str(value)) * PRICE_SCALE
    except InvalidOperation as exc:
        raise BadMessage(f"{field}: expected a number, got {value!r}") from exc
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise BadMessage(f"{field}: {value!r} is finer than 1e-9 or not finite")
    return int(scaled)


def timestamp_ns(value: Any) -> int:
    """A msgpack Timestamp, a datetime or RFC-3339 text as integer nanoseconds."""
    if isinstance(value, msgpack.Timestamp):
        return int(value.to_unix_nano())
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise BadMessage(f"t: naive datetime {value!r}")
        delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000
    if isinstance(value, str):
        match = re.match(
            r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$", value
        )
        if match is None:
            raise BadMessage(f"t: expected RFC-3339 time, got {value!r}")
        zone = "+00:00" if match[3] == "Z" else match[3]
        base = dt.datetime.fromisoformat(match[1] + zone)
        frac = int((match[2] or "0").ljust(9, "0"))
        return timestamp_ns(base) + frac
    raise BadMessage(f"t: expected a timestamp, got {value!r}")


def _size(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadMessage(f"{field}: expected an integer size, got {value!r}")
    return value


class AlpacaNormaliser:
    """Alpaca option stream messages (raw dicts) -> events; never raises on bad input."""

    def __init__(
        self,
        source: str = "alpaca",
        *,
        coarse: bool = False,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.source = source
        self.coarse = coarse
        self.counters: Counter[str] = Counter()
        self._clock = clock
        self._last_ts_recv = 0
        self._sequence = 0

    def _receive_time(self) -> int:
        # Receive times must not run backwards even if the wall clock does.
        now = max(self._clock(), self._last_ts_recv)
        self._last_ts_recv = now
        return now

    def __call__(self, message: Any) -> list[Event]:
        """Normalise one message as alpaca-py's stream hands it to a handler."""
        ts_recv = self._receive_time()
        self._sequence += 1
        if not isinstance(message, dict):
            return [self._quarantine(ts_recv, "malformed_message", repr(message), message)]
        kind = message.get("T")
        try:
            if kind == "t":
                event: Event = self._trade(message, ts_recv)
            elif kind == "q":
                event = self._quote(message, ts_recv)
            elif kind == "error":
                return [
                    self._quarantine(
                        ts_recv,
                        "gateway_error",
                        f"{message.get('code')}: {message.get('msg')}",
                        message,
                    )
                ]
            elif kind in ("success", "subscription"):
                self.counters[f"control:{kind}"] += 1
                return []
            else:
                return [self._quarantine(ts_recv, "unknown_message", f"T={kind!r}", message)]
        except BadMessage as exc:
            return [self._quarantine(ts_recv, "malformed_message", str(exc), message)]
        if isinstance(event, Quarantined):
            return [event]
        self.counters[type(event).__name__] += 1
        return [event]

    def _common(self, message: dict) -> tuple[str, str, int]:
        symbol = occ_from_alpaca(str(message.get("S", "")))
        underlying = parse_occ(symbol).root
        if "t" not in message:
            raise BadMessage("t: missing")
        return symbol, underlying, timestamp_ns(message["t"])

    def _trade(self, message: dict, ts_recv: int) -> Event:
        symbol, underlying, ts_event = self._common(message)
        price = price_fixed(message.get("p"), "p")
        size = _size(message.get("s"), "s")
        if price < 0:
            return self._quarantine(ts_recv, "negative_price", f"p={message.get('p')}", message)
        if size <= 0:
            return self._quarantine(ts_recv, "nonpositive_size", f"s={size}", message)
        return OptionPrint(
            ts_recv=ts_recv,
            ts_event=ts_event,
            publisher_id=ALPACA_PUBLISHER_ID,
            instrument_id=0,
            sequence=self._sequence,
            source=self.source,
            symbol=symbol,
            underlying=underlying,
            price=price,
            size=size,
            coarse=self.coarse,
        )

    def _quote(self, message: dict, ts_recv: int) -> Event:
        symbol, underlying, ts_event = self._common(message)
        bid_px = price_fixed(message.get("bp"), "bp")
        ask_px = price_fixed(message.get("ap"), "ap")
        bid_sz = _size(message.get("bs"), "bs")
        ask_sz = _size(message.get("as"), "as")
        problem = quote_problem(bid_px, ask_px, bid_sz, ask_sz)
        if problem is not None:
            detail = f"bid={message.get('bp')}x{bid_sz} ask={message.get('ap')}x{ask_sz}"
            return self._quarantine(ts_recv, problem, detail, message)
        return OptionQuote(
            ts_recv=ts_recv,
            ts_event=ts_event,
            publisher_id=ALPACA_PUBLISHER_ID,
            instrument_id=0,
            sequence=self._sequence,
            source=self.source,
            symbol=symbol,
            underlying=underlying,
            bid_px=bid_px,
            ask_px=ask_px,
            bid_sz=bid_sz,
            ask_sz=ask_sz,
            sampled=True,  # Alpaca's option quotes are snapshots of the NBBO, not every change
        )

    def _quarantine(self, ts_recv: int, reason: str, detail: str, message: Any) -> Quarantined:
        self.counters[f"quarantined:{reason}"] += 1
        try:
            payload = msgpack.packb(message, default=repr)
        except (TypeError, ValueError):
            payload = repr(message).encode()
        return Quarantined(
            ts_recv=ts_recv, source=self.source, reason=reason, detail=detail, payload=payload
        )


# ---------------------------------------------------------------- contract selection


@dataclass(frozen=True, slots=True)
class ContractRef:
    """An option contract as the selection needs it."""

    symbol: str  # padded OCC
    underlying: str
    expiration: dt.date
    right: Right
    strike_price: int  # 1e-9 dollars

    @classmethod
    def from_occ(cls, symbol: str, underlying: str | None = None) -> ContractRef:
        occ = parse_occ(symbol)
        ymd = occ.expiration_date
        return cls(
            symbol=format_occ(occ.root, ymd, occ.right, occ.strike_price),
            underlying=underlying or occ.root,
            expiration=dt.date(ymd // 10_000, ymd // 100 % 100, ymd % 100),
            right=occ.right,
            strike_price=occ.strike_price,
        )


def is_monthly(expiration: dt.date) -> bool:
    """The standard monthly expiry: the third Friday (Thursday when Friday is a holiday)."""
    if expiration.weekday() == 4:
        return 15 <= expiration.day <= 21
    return expiration.weekday() == 3 and 14 <= expiration.day <= 20


def _near_strikes(strikes: list[int], spot: int, band: float, per_side: int) -> list[int]:
    low = spot - int(spot * band)
    high = spot + int(spot * band)
    below = [s for s in strikes if low <= s < spot][-per_side:]
    above = [s for s in strikes if spot <= s <= high][:per_side]
    return below + above


def select_underlying(
    contracts: Iterable[ContractRef], spot_px: int, today: dt.date, config: AlpacaOptionsConfig
) -> list[ContractRef]:
    """The bounded contract set of one underlying, nearest to spot first."""
    eligible = [c for c in contracts if 0 <= (c.expiration - today).days <= config.max_dte]
    expiries = sorted({c.expiration for c in eligible})
    weekly = next((e for e in expiries if not is_monthly(e)), None)
    monthly = next((e for e in expiries if is_monthly(e)), None)
    chosen: list[ContractRef] = []
    for expiry in sorted({e for e in (weekly, monthly) if e is not None}):
        of_expiry = [c for c in eligible if c.expiration == expiry]
        strikes = sorted({c.strike_price for c in of_expiry})
        picked = _near_strikes(strikes, spot_px, config.band_pct, config.strikes_per_side)
        below = sum(1 for s in picked if s < spot_px)
        if below < config.strikes_per_side or len(picked) - below < config.strikes_per_side:
            picked = _near_strikes(
                strikes, spot_px, config.fallback_band_pct, config.strikes_per_side
            )
        wanted = set(picked)
        chosen.extend(c for c in of_expiry if c.strike_price in wanted)
    chosen.sort(key=lambda c: (abs(c.strike_price - spot_px), c.expiration, c.right, c.symbol))
    return chosen


def select_contracts(
    universe: dict[str, tuple[int, list[ContractRef]]],
    today: dt.date,
    config: AlpacaOptionsConfig,
) -> list[ContractRef]:
    """Contracts to stream for {underlying: (spot, contracts)}, capped at `max_quotes`.

    The cap takes contracts round-robin across underlyings, nearest to spot first, so one
    underlying cannot crowd out the others.
    """
    ranked = [
        select_underlying(contracts, spot, today, config)
        for _, (spot, contracts) in sorted(universe.items())
    ]
    out: list[ContractRef] = []
    depth = 0
    while len(out) < config.max_quotes and any(depth < len(r) for r in ranked):
        for per_underlying in ranked:
            if depth < len(per_underlying) and len(out) < config.max_quotes:
                out.append(per_underlying[depth])
        depth += 1
    return out

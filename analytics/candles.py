"""OHLCV candles of one key from ClickHouse: an option contract, an underlying's option
activity, an equity, a crypto symbol, a CME Globex instrument.

Buckets are epoch-aligned by receive time (`ts_recv`), as the candle views bucket them. Open
and close are the first and last print in canonical order (ts_recv, publisher, instrument,
sequence; equities' views leave the instrument out, one per symbol and publisher). Frames of
a minute and longer roll up the views' 1-minute rows; 1 s candles, crypto and CME candles
(no view) and candles bounded by `max_log_seq` (the live channel's seed) aggregate the
prints. Only
buckets holding prints are returned. Every value reaches ClickHouse as a bound parameter.

What a candle holds by kind: `contract` OHLC, volume (contracts), trades, premium_cents;
`underlying` no OHLC (a price across strikes means nothing; the underlying's own price is its
`equity` candle) but volume, trades and premium split by calls and puts; `equity` OHLC,
volume (shares), off_exchange_volume, trades; `crypto` OHLC, volume (at 1e-8 units, every
venue of the symbol together), trades; `future` OHLC, volume (contracts), trades of a CME
instrument by its symbol (`ESZ4`; an option on a future by its own symbol too).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from analytics.timeframes import Timeframe
from infra.warehouse import Warehouse
from schemas.occ import format_occ, parse_occ

MINUTE = 60
WINDOW_BUCKETS = 4  # how far back, in `limit`s of buckets, prints are first looked for
PRICE_FIELDS = ("open", "high", "low", "close")
_PREMIUM = "toInt64(intDiv(toInt128(price) * size, 100000))"
_IS_CALL = "substring(symbol, -9, 1) = 'C'"
_ROLLED_OHLC = (
    "min(open).price AS open, max(high) AS high, min(low) AS low, max(close).price AS close"
)


@dataclass(frozen=True, slots=True)
class CandleSource:
    """Where one kind of key's candles come from: its prints (the column naming the key, the
    columns of their canonical order, or None where no price is kept, and the sums over
    them), and optionally the view of 1-minute rows with the same sums rolled up."""

    kind: str
    prints_table: str
    prints_key: str
    order: tuple[str, ...] | None
    prints_sums: str
    minute_table: str | None = None
    minute_key: str = ""
    minute_sums: str = ""

    @property
    def priced(self) -> bool:
        return self.order is not None

    def prints_select(self, *, with_keys: bool) -> str:
        """OHLC and sums over prints; `with_keys` gives open and close as whole (canonical
        key, price) tuples named `first` and `last` (ts_recv in ns), for merging."""
        if self.order is None:
            return self.prints_sums
        if with_keys:
            order = ", ".join(
                "toUnixTimestamp64Nano(ts_recv)" if c == "ts_recv" else c for c in self.order
            )
            return (
                f"min(({order}, price)) AS first, max(price) AS high, min(price) AS low, "
                f"max(({order}, price)) AS last, {self.prints_sums}"
            )
        order, price_at = ", ".join(self.order), len(self.order) + 1
        return (
            f"min(({order}, price)).{price_at} AS open, max(price) AS high, "
            f"min(price) AS low, max(({order}, price)).{price_at} AS close, {self.prints_sums}"
        )

    def minute_select(self) -> str:
        if self.order is None:
            return self.minute_sums
        return f"{_ROLLED_OHLC}, {self.minute_sums}"


CANONICAL_ORDER = ("ts_recv", "publisher_id", "instrument_id", "sequence")
# The equity view orders by these (one instrument per symbol and publisher).
EQUITY_ORDER = ("ts_recv", "publisher_id", "sequence")

CONTRACT = CandleSource(
    kind="contract",
    prints_table="option_prints",
    prints_key="symbol",
    order=CANONICAL_ORDER,
    prints_sums=f"sum(toUInt64(size)) AS volume, toUInt64(count()) AS trades, "
    f"sum({_PREMIUM}) AS premium_cents",
    minute_table="candles_contract",
    minute_key="symbol",
    minute_sums="sum(volume) AS volume, sum(trades) AS trades, sum(premium_cents) AS premium_cents",
)
UNDERLYING = CandleSource(
    kind="underlying",
    prints_table="option_prints",
    prints_key="underlying",
    order=None,
    prints_sums=(
        f"sum(toUInt64(size)) AS volume, toUInt64(count()) AS trades, "
        f"sum({_PREMIUM}) AS premium_cents, "
        f"sumIf(toUInt64(size), {_IS_CALL}) AS call_volume, "
        f"sumIf(toUInt64(size), NOT {_IS_CALL}) AS put_volume, "
        f"sumIf({_PREMIUM}, {_IS_CALL}) AS call_premium_cents, "
        f"sumIf({_PREMIUM}, NOT {_IS_CALL}) AS put_premium_cents"
    ),
    minute_table="candles_underlying",
    minute_key="underlying",
    minute_sums=(
        "sum(volume) AS volume, sum(trades) AS trades, sum(premium_cents) AS premium_cents, "
        "sum(call_volume) AS call_volume, sum(put_volume) AS put_volume, "
        "sum(call_premium_cents) AS call_premium_cents, "
        "sum(put_premium_cents) AS put_premium_cents"
    ),
)
EQUITY = CandleSource(
    kind="equity",
    prints_table="equity_prints",
    prints_key="symbol",
    order=EQUITY_ORDER,
    prints_sums="sum(toUInt64(size)) AS volume, "
    "sumIf(toUInt64(size), off_exchange) AS off_exchange_volume, toUInt64(count()) AS trades",
    minute_table="candles_equity",
    minute_key="symbol",
    minute_sums="sum(volume) AS volume, sum(off_exchange_volume) AS off_exchange_volume, "
    "sum(trades) AS trades",
)
CRYPTO = CandleSource(
    kind="crypto",
    prints_table="crypto_trades",
    prints_key="symbol",
    order=CANONICAL_ORDER,
    prints_sums="sum(size) AS volume, toUInt64(count()) AS trades",
)

FUTURE = CandleSource(
    kind="future",
    prints_table="cme_trades",
    prints_key="symbol",
    order=CANONICAL_ORDER,
    prints_sums="sum(toUInt64(size)) AS volume, toUInt64(count()) AS trades",
)

SOURCES: dict[str, CandleSource] = {
    s.kind: s for s in (CONTRACT, UNDERLYING, EQUITY, CRYPTO, FUTURE)
}
KINDS: tuple[str, ...] = tuple(SOURCES)
# A key that is not an OCC symbol is looked up in this order: a ticker with equity prints is
# read as its price; one with option prints only as its options' activity.
LOOKUP_ORDER: tuple[str, ...] = ("equity", "underlying", "crypto", "future")


def normalise_key(key: str) -> str:
    """Upper case without surrounding blanks; an OCC symbol in its padded form (a compact
    `AAPL240119C00190000` becomes `AAPL  240119C00190000`)."""
    text = key.strip().upper()
    try:
        occ = parse_occ(text)
    except ValueError:
        return text
    return format_occ(occ.root, occ.expiration_date, occ.right, occ.strike_price)


def is_occ(key: str) -> bool:
    try:
        parse_occ(key)
    except ValueError:
        return False
    return True


def has_prints(warehouse: Warehouse, source: CandleSource, key: str, run_id: str) -> bool:
    """Whether the run holds any print of `key` for this kind."""
    sql = (
        f"SELECT 1 FROM {source.prints_table} WHERE run_id = {{run_id:String}} "  # noqa: S608  (our table and column names; values are bound)
        f"AND {source.prints_key} = {{key:String}} LIMIT 1"
    )
    return bool(warehouse.rows(sql, {"run_id": run_id, "key": key}))


def resolve_kind(warehouse: Warehouse, key: str, run_id: str, kind: str | None) -> str | None:
    """The kind of `key` (normalised) in the run: `kind` if given and the run has its
    prints; else contract for an OCC symbol, or the first of LOOKUP_ORDER with prints. None
    when the run holds no print of it."""
    if kind is not None:
        candidates: tuple[str, ...] = (kind,)
    elif is_occ(key):
        candidates = ("contract",)
    else:
        candidates = LOOKUP_ORDER
    for candidate in candidates:
        if has_prints(warehouse, SOURCES[candidate], key, run_id):
            return candidate
    return None


@dataclass(frozen=True, slots=True)
class CandleRequest:
    """Which candles: the last `limit` buckets holding prints, of bucket start in
    [since_ns, until_ns); `max_log_seq` counts only prints of stream messages up to it;
    `with_keys` reads the prints and keeps open and close with their canonical keys."""

    kind: str
    key: str
    timeframe: Timeframe
    run_id: str = "live"
    limit: int = 500
    since_ns: int | None = None
    until_ns: int | None = None
    max_log_seq: int | None = None
    with_keys: bool = False


def _ceil_seconds(ns: int) -> int:
    return -(-ns // 1_000_000_000)


def _rolled(source: CandleSource, request: CandleRequest) -> bool:
    """Whether the request is read from the 1-minute view rather than the prints."""
    return (
        source.minute_table is not None
        and request.timeframe.seconds >= MINUTE
        and request.max_log_seq is None
        and not request.with_keys
    )


def _selection(
    source: CandleSource, request: CandleRequest
) -> tuple[str, str, list[str], dict[str, Any]]:
    """(table, bucket start expression, conditions, parameters) of a request."""
    if _rolled(source, request):
        table, key, time = source.minute_table or "", source.minute_key, "bucket"
    else:
        table, key, time = source.prints_table, source.prints_key, "ts_recv"
    start = f"intDiv(toUnixTimestamp({time}), {{seconds:UInt32}}) * {{seconds:UInt32}}"
    clauses = ["run_id = {run_id:String}", f"{key} = {{key:String}}"]
    params: dict[str, Any] = {
        "run_id": request.run_id,
        "key": request.key,
        "seconds": request.timeframe.seconds,
        "limit": request.limit,
    }
    if _rolled(source, request):
        clauses.append(f"interval_s = {MINUTE}")
    if request.since_ns is not None:
        clauses.append(f"{start} >= {{since_s:Int64}}")
        params["since_s"] = _ceil_seconds(request.since_ns)
    if request.until_ns is not None:
        clauses.append(f"{start} < {{until_s:Int64}}")
        params["until_s"] = _ceil_seconds(request.until_ns)
    if request.max_log_seq is not None:
        clauses.append("log_seq <= {max_log_seq:UInt64}")
        params["max_log_seq"] = request.max_log_seq
    return table, start, clauses, params


def candle_sql(source: CandleSource, request: CandleRequest) -> tuple[str, dict[str, Any]]:
    """The query for a request, with its parameters."""
    table, start, clauses, params = _selection(source, request)
    select = (
        source.minute_select()
        if _rolled(source, request)
        else source.prints_select(with_keys=request.with_keys)
    )
    sql = (
        f"SELECT toInt64({start}) AS start_s, {select} FROM {table} "  # noqa: S608  (our table and column names; values are bound)
        f"WHERE {' AND '.join(clauses)} GROUP BY start_s ORDER BY start_s DESC "
        "LIMIT {limit:UInt32}"
    )
    return sql, params


def _newest_start_s(
    warehouse: Warehouse, source: CandleSource, request: CandleRequest
) -> tuple[int, int]:
    """(the newest bucket start, how many) of the prints a request selects."""
    table, start, clauses, params = _selection(source, request)
    sql = f"SELECT max(toInt64({start})), count() FROM {table} WHERE {' AND '.join(clauses)}"  # noqa: S608  (our table and column names; values are bound)
    newest, found = warehouse.rows(sql, params)[0]
    return int(newest), int(found)


def _integers(value: Any) -> Any:
    """An aggregate as plain ints (a (canonical key, price) tuple as a tuple of them)."""
    return tuple(int(v) for v in value) if isinstance(value, tuple) else int(value)


def fetch_candles(warehouse: Warehouse, request: CandleRequest) -> list[dict[str, Any]]:
    """The candles a request names, oldest first: `start_ns`, OHLC (None for an
    underlying), volume, trades and the kind's own sums."""
    source = SOURCES[request.kind]
    if request.since_ns is None and not _rolled(source, request):
        # Prints are read at query time: of a key with many, look back only as far as the
        # last `limit` buckets need when a window of WINDOW_BUCKETS x limit buckets holds
        # them all (exact: every bucket outside it is older), else read everything.
        newest, count = _newest_start_s(warehouse, source, request)
        if count == 0:
            return []
        if count <= WINDOW_BUCKETS * request.limit:
            return _run(warehouse, source, request)
        span = WINDOW_BUCKETS * request.limit * request.timeframe.seconds
        window = replace(request, since_ns=(newest - span) * 1_000_000_000)
        found = _run(warehouse, source, window)
        if len(found) == request.limit:
            return found
    return _run(warehouse, source, request)


def _run(
    warehouse: Warehouse, source: CandleSource, request: CandleRequest
) -> list[dict[str, Any]]:
    sql, params = candle_sql(source, request)
    result = warehouse.client.query(sql, parameters=params)
    names = list(result.column_names)
    candles = []
    for row in reversed(result.result_rows):
        found = dict(zip(names, row, strict=True))
        candle: dict[str, Any] = {"start_ns": int(found.pop("start_s")) * 1_000_000_000}
        if not source.priced:
            candle.update(dict.fromkeys(PRICE_FIELDS))
        candle.update({name: _integers(value) for name, value in found.items()})
        candles.append(candle)
    return candles

"""`/v1/candles/{key}`: OHLCV candles of a contract, an underlying, an equity, a crypto
symbol or a CME future, from ClickHouse (analytics/candles.py says what each kind's candle
holds)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response

from analytics.candles import KINDS, CandleRequest, fetch_candles, resolve_kind
from analytics.candles import normalise_key as normalise_candle_key
from analytics.timeframes import SPELLINGS, BadTimeframe, Timeframe, parse_timeframe
from api.candle_view import candle_view
from api.dependencies import READ, BearerKey, HeaderKey, StoreDep, get_auth
from api.error_responses import AUTH, error_responses
from api.query_params import RunId, time_ns, time_query
from api.responses import JSON

DEFAULT_LIMIT = 500
AUTO = "auto"
MAX_LIMIT = 5000

router = APIRouter(tags=["candles"], dependencies=[READ], responses=error_responses(*AUTH, 503))

# tf, limit and kind are read as text and checked here, so that every bad value is one 422
# line; the schema still documents their values.
Tf = Annotated[
    str,
    Query(
        description="Candle length: 1s, 1m, 5m, 1H, 4H or 1D; also read: 1S, 1h, 4h, 1d, D "
        "and minutes as charting tools write them (1, 5, 60, 240, 1440). 1M is refused (a "
        "month, to charting tools). Buckets are epoch-aligned: 1D is the UTC day.",
        json_schema_extra={"enum": list(SPELLINGS)},
    ),
]
Limit = Annotated[
    str,
    Query(
        description=f"The last this many candles (buckets holding prints), 1 to {MAX_LIMIT}.",
        json_schema_extra={
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_LIMIT,
            "default": DEFAULT_LIMIT,
        },  # fmt: skip
    ),
]
Kind = Annotated[
    str,
    Query(
        description="What the key names. `auto`: an OCC symbol (`AAPL  240119C00190000`, "
        "or compact `AAPL240119C00190000`) is a contract; another key is the first of equity "
        "(the ticker's own price from equity prints), underlying (its options' activity: "
        "volume, trades, premium by calls and puts, no OHLC), crypto (every venue's trades "
        "of the symbol, e.g. BTC-USDT) and future (a CME Globex instrument's trades, e.g. "
        "ESZ4) that the run holds prints of.",
        json_schema_extra={"enum": [AUTO, *KINDS]},
    ),
]
Key = Annotated[
    str,
    Path(
        description="An OCC contract symbol, a ticker (equity or underlying), a crypto "
        "symbol or a CME symbol; case is ignored.",
        examples=["AAPL  240119C00190000", "AAPL", "BTC-USDT", "ESZ4"],
    ),
]
From = Annotated[str | None, time_query("Candles starting at or after this time", "from")]
To = Annotated[str | None, time_query("Candles starting before this time")]


def _timeframe(text: str) -> Timeframe:
    try:
        return parse_timeframe(text)
    except BadTimeframe as exc:
        raise HTTPException(422, exc.args[0]) from exc


def _limit(text: str) -> int:
    value = text.strip()
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise HTTPException(
            422, f"limit: expected a whole number from 1 to {MAX_LIMIT}, got {text!r}"
        )
    return int(value)


def _kind(text: str) -> str | None:
    """The kind asked for; None for `auto`."""
    if text.strip() == AUTO:
        return None
    if text.strip() not in KINDS:
        raise HTTPException(
            422, f"kind: expected {AUTO} or one of {', '.join(KINDS)}, got {text!r}"
        )
    return text.strip()


@router.get("/v1/candles/{key}", responses=error_responses(400, 404, 422))
def candles(
    request: Request,
    key: Key,
    store: StoreDep,
    bearer: BearerKey,
    header: HeaderKey,
    tf: Tf = "1m",
    limit: Limit = str(DEFAULT_LIMIT),
    kind: Kind = AUTO,
    run_id: RunId = "live",
    from_: From = None,
    to: To = None,
) -> Response:
    """Candles of `key`, oldest first: bucket start (`start_ns`), open, high, low, close
    (1e-9 dollars, with `_dollars` beside), volume, trades and the kind's own sums (premium in
    cents). Only buckets holding prints. Unknown key in the run: 404. CME futures are
    licensed exchange data: their candles need an admin key (403 otherwise)."""
    timeframe, count, wanted = _timeframe(tf), _limit(limit), _kind(kind)
    since_ns, until_ns = time_ns("from", from_), time_ns("to", to)
    symbol = normalise_candle_key(key)
    found = resolve_kind(store.warehouse, symbol, run_id, wanted)
    if found is None:
        what = f"{wanted} " if wanted else ""
        raise HTTPException(404, f"no prints of {what}{symbol!r} in run {run_id!r}")
    if found == "future":
        get_auth(request).authorize(request, "admin", bearer.credentials if bearer else header)
    asked = CandleRequest(found, symbol, timeframe, run_id, count, since_ns, until_ns)
    rows = fetch_candles(store.warehouse, asked)
    return JSON(
        {
            "key": symbol,
            "kind": found,
            "tf": timeframe.name,
            "seconds": timeframe.seconds,
            "run_id": run_id,
            "count": len(rows),
            "candles": [candle_view(row) for row in rows],
        }
    )

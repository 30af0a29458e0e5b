"""The local daemon's wire protocol (`live.daemon` ⇄ `flowtape.client`).

A frame is a 4-byte big-endian body length followed by a MessagePack body. A client sends
requests (tagged by `op`) carrying an `id` of its choosing; the daemon answers each with one
reply (tagged by `kind`) carrying the same `id`, or an `ErrorReply` with a code. A subscription
is answered with `SubscribedReply`; its updates then arrive with `id` set to the subscription
number until `Unsubscribe`. Prices are integers of 1e-9 dollars (`schemas.events.PRICE_SCALE`),
times integer nanoseconds since the epoch.
"""

from __future__ import annotations

import struct

import msgspec

from schemas.errors import FlowtapeError
from schemas.events import Side

FRAME_HEADER = struct.Struct(">I")
DEFAULT_MAX_FRAME_BYTES = 1 << 20

# Error codes of `ErrorReply` (the first four also close the connection where noted).
MALFORMED_FRAME = "malformed_frame"  # the body is not MessagePack: the connection is closed
FRAME_TOO_LARGE = "frame_too_large"  # the length exceeds the limit: the connection is closed
UNKNOWN_REQUEST = "unknown_request"  # a MessagePack map whose `op` is not a request
BAD_REQUEST = "bad_request"  # a known `op` with missing or ill-typed fields
NOT_FOUND = "not_found"  # no such venue and symbol, interval or subscription
SLOW_CONSUMER = "slow_consumer"  # the client stopped reading: the connection is dropped


class IpcError(FlowtapeError):
    """The daemon answered with an error, or a frame broke the protocol."""

    code = "ipc"


class Candle(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One OHLCV candle; `start_ns` is its epoch-aligned bucket start (by receive time)."""

    start_ns: int
    open: int
    high: int
    low: int
    close: int
    volume: int
    trades: int


class Trade(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One trade; `aggressor` is the side that took liquidity, as the source reported it."""

    venue: str
    symbol: str
    ts_recv: int
    ts_event: int
    price: int
    size: int
    aggressor: Side
    sequence: int


class Level(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One price level of a book; `orders` is 0 when the feed does not count them."""

    price: int
    size: int
    orders: int = 0


class BookSnapshot(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The top of one book: bids best (highest) first, asks best (lowest) first.

    `crossed` marks a book whose best bid is at or above its best ask (pre-open auctions);
    the levels are shown as the feed left them, never corrected. `usable` is false while the
    book loads a snapshot, after a venue gap, or while it waits to resynchronise.
    """

    venue: str
    symbol: str
    ts_recv: int
    bids: list[Level]
    asks: list[Level]
    crossed: bool = False
    usable: bool = True


# ----------------------------------------------------------------------------- requests


class Request(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True,
              tag_field="op"):  # fmt: skip
    """Base of the requests; `id` comes back on the reply."""

    id: int = 0


class GetCandles(Request, frozen=True, kw_only=True, tag="get_candles"):
    venue: str
    symbol: str
    interval: str
    count: int


class GetCandlesBatch(Request, frozen=True, kw_only=True, tag="get_candles_batch"):
    venue: str
    symbols: list[str]
    interval: str
    count: int


class GetOrderbook(Request, frozen=True, kw_only=True, tag="get_orderbook"):
    venue: str
    symbol: str
    depth: int = 10


class GetTrades(Request, frozen=True, kw_only=True, tag="get_trades"):
    venue: str
    symbol: str
    count: int


class SubscribeCandles(Request, frozen=True, kw_only=True, tag="subscribe_candles"):
    venue: str
    symbol: str
    interval: str


class SubscribeOrderbook(Request, frozen=True, kw_only=True, tag="subscribe_orderbook"):
    venue: str
    symbol: str
    depth: int = 10


class SubscribeTrades(Request, frozen=True, kw_only=True, tag="subscribe_trades"):
    venue: str
    symbol: str


class Unsubscribe(Request, frozen=True, kw_only=True, tag="unsubscribe"):
    subscription: int


AnyRequest = (
    GetCandles
    | GetCandlesBatch
    | GetOrderbook
    | GetTrades
    | SubscribeCandles
    | SubscribeOrderbook
    | SubscribeTrades
    | Unsubscribe
)
REQUEST_OPS = frozenset(
    str(t.__struct_config__.tag)
    for t in (GetCandles, GetCandlesBatch, GetOrderbook, GetTrades, SubscribeCandles,
              SubscribeOrderbook, SubscribeTrades, Unsubscribe)
)  # fmt: skip


# ------------------------------------------------------------------------------ replies


class Reply(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", gc=False):
    """Base of what the daemon sends: `id` is the request's, or the subscription's."""

    id: int


class CandlesReply(Reply, frozen=True, kw_only=True, tag="candles"):
    """Oldest first; the last candle may still be open."""

    candles: list[Candle]


class CandlesBatchReply(Reply, frozen=True, kw_only=True, tag="candles_batch"):
    """Candles by symbol; a symbol the daemon does not know maps to an empty list."""

    candles: dict[str, list[Candle]]


class OrderbookReply(Reply, frozen=True, kw_only=True, tag="orderbook"):
    book: BookSnapshot


class TradesReply(Reply, frozen=True, kw_only=True, tag="trades"):
    """Oldest first."""

    trades: list[Trade]


class SubscribedReply(Reply, frozen=True, kw_only=True, tag="subscribed"):
    subscription: int


class UnsubscribedReply(Reply, frozen=True, kw_only=True, tag="unsubscribed"):
    subscription: int


class ErrorReply(Reply, frozen=True, kw_only=True, tag="error"):
    code: str
    message: str


class CandleUpdate(Reply, frozen=True, kw_only=True, tag="candle_update"):
    """The subscribed series' latest candle; `closed` once a later bucket has begun."""

    candle: Candle
    closed: bool


class OrderbookUpdate(Reply, frozen=True, kw_only=True, tag="orderbook_update"):
    book: BookSnapshot


class TradeUpdate(Reply, frozen=True, kw_only=True, tag="trade_update"):
    trades: list[Trade]


AnyReply = (
    CandlesReply
    | CandlesBatchReply
    | OrderbookReply
    | TradesReply
    | SubscribedReply
    | UnsubscribedReply
    | ErrorReply
    | CandleUpdate
    | OrderbookUpdate
    | TradeUpdate
)

_encoder = msgspec.msgpack.Encoder()


def frame(message: Request | Reply) -> bytes:
    """One message as a frame: length header and MessagePack body."""
    body = _encoder.encode(message)
    return FRAME_HEADER.pack(len(body)) + body


def frame_length(header: bytes, max_frame_bytes: int) -> int:
    """The body length a header announces; `IpcError(frame_too_large)` beyond the limit."""
    (length,) = FRAME_HEADER.unpack(header)
    if length > max_frame_bytes:
        raise IpcError(
            f"a frame of at most {max_frame_bytes} bytes was expected, got {length}",
            code=FRAME_TOO_LARGE,
        )
    return int(length)

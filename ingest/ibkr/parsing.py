"""IBKR top-of-book and last-sale ticks -> flowtape events.

Interactive Brokers does not provide tick-by-tick data for options: TWS sends top-of-book
and last-sale *updates*, sampled and aggregated (several fills can arrive as one update,
and a fill at an unchanged price and size can vanish). That is too coarse for sweep or
split detection, so every OptionPrint from this source has `coarse=True` and the source
logs a warning when it starts.

`IbkrTickWrapper` is the wrapper `ib_insync.decoder.Decoder` calls (`priceSizeTick`,
`tickSize`, `tickString`, `error`); it keeps each subscription's top of book and turns
updates into events:

- bid/ask price or size changes -> OptionQuote (the SMART top of book, i.e. IB's NBBO);
  IB's "no price" (-1 or 0 with size 0) becomes None; crossed or empty books are
  quarantined;
- RT Volume (`tickString` type 48, "price;size;time_ms;volume;vwap;single") -> one print
  per report, `ts_event` from its time; when RT Volume is flowing, last-price/last-size
  ticks only update state (otherwise the same sale would be counted twice);
- without RT Volume: a LAST price tick with a size -> a print; a LAST_SIZE tick with a
  size different from the last one -> a print at the last price (an equal size is TWS
  echoing the price tick, which ib_insync treats the same way).
- `ts_event` is the receive time where IB gives no time; `publisher_id` is 0 and
  `instrument_id` is IB's conId; `sequence` counts updates in arrival order.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ingest.databento.parsing import quote_problem
from schemas.events import PRICE_SCALE, Event, OptionPrint, OptionQuote, Quarantined
from schemas.occ import parse_occ

IBKR_PUBLISHER_ID = 0
COARSE_WARNING = (
    "IBKR gives no tick-by-tick options data: prints are aggregated last-sale updates "
    "(coarse=True), too coarse for sweep detection"
)

BID_SIZE, BID, ASK, ASK_SIZE, LAST, LAST_SIZE = 0, 1, 2, 3, 4, 5
DELAYED = {66: BID, 67: ASK, 68: LAST, 69: BID_SIZE, 70: ASK_SIZE, 71: LAST_SIZE}
RT_VOLUME, RT_TRADE_VOLUME = 48, 77


@dataclass(frozen=True, slots=True)
class IbkrContract:
    """A subscribed option: its OCC symbol and IB contract id."""

    symbol: str
    con_id: int = 0

    @property
    def underlying(self) -> str:
        return parse_occ(self.symbol).root


@dataclass(slots=True)
class _Book:
    bid_px: int | None = None
    ask_px: int | None = None
    bid_sz: int = 0
    ask_sz: int = 0
    last_px: int | None = None
    last_sz: int = 0
    rt_volume: bool = False


def _price(value: float) -> int | None:
    # IB marks "no price" with -1 (and sometimes 0 alongside a zero size).
    if value is None or value < 0:
        return None
    return int(Decimal(repr(value)) * PRICE_SCALE)


class IbkrTickWrapper:
    """The ib_insync decoder's wrapper for market-data ticks; events go to `sink`."""

    def __init__(
        self,
        resolve: Callable[[int], IbkrContract | None],
        sink: Callable[[Event], None],
        *,
        source: str = "ibkr",
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.resolve = resolve
        self.sink = sink
        self.source = source
        self.counters: Counter[str] = Counter()
        self._clock = clock
        self._books: dict[int, _Book] = {}
        self._last_ts_recv = 0
        self._sequence = 0

    # ------------------------------------------------------------- decoder callbacks

    def priceSizeTick(self, reqId: int, tickType: int, price: float, size: float) -> None:  # noqa: N802,N803  (ib_insync's names)
        self._on_tick(reqId, DELAYED.get(tickType, tickType), price=price, size=size)

    def tickSize(self, reqId: int, tickType: int, size: float) -> None:  # noqa: N802,N803
        self._on_tick(reqId, DELAYED.get(tickType, tickType), price=None, size=size)

    def tickString(self, reqId: int, tickType: int, value: str) -> None:  # noqa: N802,N803
        if tickType not in (RT_VOLUME, RT_TRADE_VOLUME):
            self.counters[f"ignored:tick_string:{tickType}"] += 1
            return
        ts_recv = self._receive_time()
        contract = self._contract(reqId, ts_recv, value)
        if contract is None:
            return
        book = self._books.setdefault(reqId, _Book())
        book.rt_volume = True
        parts = value.split(";")
        try:
            price_text, size_text, time_text = parts[0], parts[1], parts[2]
            if not price_text:  # volume-only report, no sale
                self.counters["rt_volume_without_sale"] += 1
                return
            price = int(Decimal(price_text) * PRICE_SCALE)
            size = int(Decimal(size_text))
            ts_event = int(time_text) * 1_000_000
        except (IndexError, ValueError, InvalidOperation):
            self._quarantine(ts_recv, "malformed_tick", f"RT volume {value!r}", value)
            return
        book.last_px, book.last_sz = price, size
        self._print(contract, ts_recv, ts_event, price, size, value)

    def tickGeneric(self, reqId: int, tickType: int, value: float) -> None:  # noqa: N802,N803
        self.counters[f"ignored:tick_generic:{tickType}"] += 1

    def error(
        self,
        reqId: int,
        errorCode: int,
        errorString: str,
        advancedOrderRejectJson: str = "",  # noqa: N803
    ) -> None:
        # 2104/2106/2158: farm-connection notices, not errors.
        if errorCode in (2104, 2106, 2107, 2108, 2158):
            self.counters["notices"] += 1
            return
        ts_recv = self._receive_time()
        self._quarantine(
            ts_recv, "gateway_error", f"reqId={reqId} code={errorCode}: {errorString}", errorString
        )

    # ------------------------------------------------------------------- internals

    def _receive_time(self) -> int:
        now = max(self._clock(), self._last_ts_recv)
        self._last_ts_recv = now
        self._sequence += 1
        return now

    def _contract(self, req_id: int, ts_recv: int, raw: object) -> IbkrContract | None:
        contract = self.resolve(req_id)
        if contract is None:
            self._quarantine(ts_recv, "unknown_request", f"reqId={req_id} is not subscribed", raw)
        return contract

    def _on_tick(self, req_id: int, tick_type: int, *, price: float | None, size: float) -> None:
        if tick_type not in (BID, ASK, LAST, BID_SIZE, ASK_SIZE, LAST_SIZE):
            self.counters[f"ignored:tick:{tick_type}"] += 1
            return
        ts_recv = self._receive_time()
        raw = (req_id, tick_type, price, size)
        contract = self._contract(req_id, ts_recv, raw)
        if contract is None:
            return
        if size is not None and size < 0:
            self._quarantine(ts_recv, "negative_size", f"tick {tick_type} size={size}", raw)
            return
        book = self._books.setdefault(req_id, _Book())
        qty = int(size or 0)
        if tick_type in (LAST, LAST_SIZE):
            self._on_last(contract, book, ts_recv, tick_type, price, qty, raw)
            return
        if tick_type == BID:
            book.bid_px, book.bid_sz = _price(price), qty  # type: ignore[arg-type]
        elif tick_type == ASK:
            book.ask_px, book.ask_sz = _price(price), qty  # type: ignore[arg-type]
        elif tick_type == BID_SIZE:
            book.bid_sz = qty
        else:
            book.ask_sz = qty
        problem = quote_problem(book.bid_px, book.ask_px, book.bid_sz, book.ask_sz)
        if problem is not None:
            detail = f"bid={book.bid_px}x{book.bid_sz} ask={book.ask_px}x{book.ask_sz}"
            self._quarantine(ts_recv, problem, detail, raw)
            return
        self._emit(
            OptionQuote(
                ts_recv=ts_recv,
                ts_event=ts_recv,
                publisher_id=IBKR_PUBLISHER_ID,
                instrument_id=contract.con_id,
                sequence=self._sequence,
                source=self.source,
                symbol=contract.symbol,
                underlying=contract.underlying,
                bid_px=book.bid_px,
                ask_px=book.ask_px,
                bid_sz=book.bid_sz,
                ask_sz=book.ask_sz,
                sampled=True,  # IBKR samples top of book; it does not send every change
            )
        )

    def _on_last(
        self,
        contract: IbkrContract,
        book: _Book,
        ts_recv: int,
        tick_type: int,
        price: float | None,
        size: int,
        raw: object,
    ) -> None:
        if tick_type == LAST:
            px = _price(price)  # type: ignore[arg-type]
            if px is None:
                self._quarantine(ts_recv, "undefined_price", f"last={price}", raw)
                return
            book.last_px, book.last_sz = px, size
            if book.rt_volume:
                self.counters["last_covered_by_rt_volume"] += 1
                return
            if size > 0:
                self._print(contract, ts_recv, ts_recv, px, size, raw)
            return
        if size == book.last_sz:
            self.counters["last_size_echo"] += 1
            return
        book.last_sz = size
        if book.rt_volume:
            self.counters["last_covered_by_rt_volume"] += 1
            return
        if book.last_px is None:
            self._quarantine(ts_recv, "undefined_price", "last size before any last price", raw)
            return
        if size > 0:
            self._print(contract, ts_recv, ts_recv, book.last_px, size, raw)

    def _print(
        self,
        contract: IbkrContract,
        ts_recv: int,
        ts_event: int,
        price: int,
        size: int,
        raw: object,
    ) -> None:
        if size <= 0:
            self._quarantine(ts_recv, "nonpositive_size", f"size={size}", raw)
            return
        self._emit(
            OptionPrint(
                ts_recv=ts_recv,
                ts_event=ts_event,
                publisher_id=IBKR_PUBLISHER_ID,
                instrument_id=contract.con_id,
                sequence=self._sequence,
                source=self.source,
                symbol=contract.symbol,
                underlying=contract.underlying,
                price=price,
                size=size,
                coarse=True,
            )
        )

    def _emit(self, event: Event) -> None:
        self.counters[type(event).__name__] += 1
        self.sink(event)

    def _quarantine(self, ts_recv: int, reason: str, detail: str, raw: object) -> None:
        self.counters[f"quarantined:{reason}"] += 1
        self.sink(
            Quarantined(
                ts_recv=ts_recv,
                source=self.source,
                reason=reason,
                detail=detail,
                payload=repr(raw).encode(),
            )
        )

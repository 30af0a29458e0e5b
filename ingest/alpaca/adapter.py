"""The Alpaca options source: alpaca-py's `OptionDataStream` in raw mode.

alpaca-py unpacks each msgpack frame and calls the subscribed handler with every message
dict (`raw_data=True`); the handler here is `AlpacaOptionSource.on_message`, which runs
the message through `AlpacaNormaliser` and queues the events for `events()`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from ingest.alpaca.config import AlpacaOptionsConfig, alpaca_keys
from ingest.alpaca.parsing import (
    AlpacaNormaliser,
    ContractRef,
    alpaca_from_occ,
    price_fixed,
    select_contracts,
)
from schemas.events import Event

log = logging.getLogger(__name__)

# {underlying: (spot price at 1e-9, contracts)}
Universe = dict[str, tuple[int, list[ContractRef]]]
_END = object()


class AlpacaOptionSource:
    """Live option trades and quotes from Alpaca for a bounded set of contracts.

    `universe_loader` returns spot and listed contracts per underlying (by default from
    Alpaca's trading and stock-data REST clients); `stream_factory` builds the
    `OptionDataStream`. Both are replaceable so recorded sessions can be replayed offline.
    """

    def __init__(
        self,
        config: AlpacaOptionsConfig,
        *,
        stream_factory: Callable[[], Any] | None = None,
        universe_loader: Callable[[AlpacaOptionsConfig, dt.date], Universe] | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.config = config
        self.name = config.source
        self.normaliser = AlpacaNormaliser(
            config.source, coarse=config.feed == "indicative", clock=clock
        )
        self.contracts: list[ContractRef] = []
        self._stream_factory = stream_factory or self._default_stream
        self._universe_loader = universe_loader or _load_universe
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._stream: Any = None
        self._task: asyncio.Task[None] | None = None

    def _default_stream(self) -> Any:
        from alpaca.data.enums import OptionsFeed
        from alpaca.data.live.option import OptionDataStream

        key, secret = alpaca_keys(self.config.api_key, self.config.secret_key)
        return OptionDataStream(key, secret, raw_data=True, feed=OptionsFeed(self.config.feed))

    def subscribe(self, stream: Any, today: dt.date) -> list[str]:
        """Select the contracts and subscribe `stream`'s trade and quote handlers."""
        universe = self._universe_loader(self.config, today)
        self.contracts = select_contracts(universe, today, self.config)
        symbols = [alpaca_from_occ(c.symbol) for c in self.contracts]
        if symbols:
            stream.subscribe_trades(self.on_message, *symbols)
            stream.subscribe_quotes(self.on_message, *symbols)
        log.info("alpaca: streaming %d option contracts", len(symbols))
        return symbols

    async def connect(self) -> None:
        self._stream = self._stream_factory()
        today = dt.datetime.now(dt.UTC).date()
        await asyncio.to_thread(self.subscribe, self._stream, today)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            await self._stream._run_forever()
        finally:
            self._queue.put_nowait(_END)

    async def on_message(self, message: Any) -> None:
        """The handler alpaca-py calls with each raw trade/quote message."""
        for event in self.normaliser(message):
            self._queue.put_nowait(event)

    def end_of_stream(self) -> None:
        """Make `events()` finish after what is queued (recorded sessions, tests)."""
        self._queue.put_nowait(_END)

    async def close(self) -> None:
        if self._stream is not None:
            await self._stream.stop_ws()
        if self._task is not None:
            self._task.cancel()
        self.end_of_stream()

    async def events(self) -> AsyncIterator[Event]:
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            yield item


def _load_universe(config: AlpacaOptionsConfig, today: dt.date) -> Universe:
    from alpaca.data.historical.stock import StockHistoricalDataClient
    from alpaca.data.requests import StockLatestTradeRequest
    from alpaca.trading.client import TradingClient
    from alpaca.trading.requests import GetOptionContractsRequest

    key, secret = alpaca_keys(config.api_key, config.secret_key)
    stocks = StockHistoricalDataClient(key, secret)
    trading = TradingClient(key, secret)
    latest = stocks.get_stock_latest_trade(
        StockLatestTradeRequest(symbol_or_symbols=config.underlyings)
    )
    universe: Universe = {}
    for underlying in config.underlyings:
        contracts: list[ContractRef] = []
        page: str | None = None
        while True:
            response = trading.get_option_contracts(
                GetOptionContractsRequest(
                    underlying_symbols=[underlying],
                    expiration_date_gte=today,
                    expiration_date_lte=today + dt.timedelta(days=config.max_dte),
                    limit=10_000,
                    page_token=page,
                )
            )
            for contract in response.option_contracts or []:
                contracts.append(ContractRef.from_occ(contract.symbol, underlying))
            page = response.next_page_token
            if not page:
                break
        universe[underlying] = (price_fixed(latest[underlying].price, "spot"), contracts)
    return universe

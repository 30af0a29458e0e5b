"""The IBKR options source: ib_insync's connection, our tick wrapper on its decoder.

ib_insync decodes TWS messages with `Decoder(wrapper)`; the source puts a tee in front of
ib_insync's own wrapper so every tick reaches `IbkrTickWrapper` as well, while ib_insync
keeps managing the connection and request ids.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from ingest.ibkr.config import IbkrOptionsConfig
from ingest.ibkr.parsing import COARSE_WARNING, IbkrContract, IbkrTickWrapper
from schemas.events import Event
from schemas.occ import parse_occ

log = logging.getLogger(__name__)
_END = object()
_TAPPED = ("priceSizeTick", "tickSize", "tickString", "tickGeneric", "error")


class _TeeWrapper:
    """Calls our wrapper, then ib_insync's, for the tick callbacks; delegates the rest."""

    def __init__(self, primary: Any, tap: IbkrTickWrapper) -> None:
        self._primary = primary
        self._tap = tap

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._primary, name)
        if name not in _TAPPED:
            return target
        tap = getattr(self._tap, name)

        def both(*args: Any) -> Any:
            tap(*args)
            return target(*args)

        return both


class IbkrOptionSource:
    """Top-of-book and last-sale updates for configured option contracts (coarse prints).

    IBKR has no tick-by-tick options data; see `ingest.ibkr.parsing` for what that means
    for the events.
    """

    def __init__(self, config: IbkrOptionsConfig, ib: Any = None) -> None:
        self.config = config
        self.name = config.source
        self._ib = ib
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._by_req: dict[int, IbkrContract] = {}
        self._known: dict[int, IbkrContract] = {}
        self.wrapper = IbkrTickWrapper(self._resolve, self._queue.put_nowait, source=config.source)

    def _resolve(self, req_id: int) -> IbkrContract | None:
        contract = self._by_req.get(req_id)
        if contract is None and self._ib is not None:
            ticker = self._ib.wrapper.reqId2Ticker.get(req_id)
            if ticker is not None:
                contract = self._known.get(ticker.contract.conId)
                if contract is not None:
                    self._by_req[req_id] = contract
        return contract

    async def connect(self) -> None:
        from ib_insync import IB, Option

        log.warning(COARSE_WARNING)
        if self._ib is None:
            self._ib = IB()
        ib = self._ib
        await ib.connectAsync(self.config.host, self.config.port, clientId=self.config.client_id)
        ib.client.decoder.wrapper = _TeeWrapper(ib.client.decoder.wrapper, self.wrapper)
        ib.reqMarketDataType(self.config.market_data_type)
        options = []
        for symbol in self.config.contracts:
            occ = parse_occ(symbol)
            options.append(
                Option(
                    occ.root,
                    str(occ.expiration_date),
                    occ.strike_price / 1e9,
                    occ.right,
                    self.config.exchange,
                    currency=self.config.currency,
                )
            )
        qualified = await ib.qualifyContractsAsync(*options)
        for symbol, option in zip(self.config.contracts, options, strict=True):
            if option.conId:
                self._known[option.conId] = IbkrContract(symbol, option.conId)
            else:
                log.error("ibkr: could not qualify %s", symbol)
        for option in qualified:
            ib.reqMktData(option, self.config.generic_ticks, False, False)
        ib.disconnectedEvent += lambda: self._queue.put_nowait(_END)

    async def close(self) -> None:
        if self._ib is not None and self._ib.isConnected():
            self._ib.disconnect()
        self._queue.put_nowait(_END)

    def subscribe_recorded(self, req_id: int, contract: IbkrContract) -> None:
        """Bind a request id to a contract without TWS (recorded sessions, tests)."""
        self._by_req[req_id] = contract

    def end_of_stream(self) -> None:
        self._queue.put_nowait(_END)

    async def events(self) -> AsyncIterator[Event]:
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            yield item

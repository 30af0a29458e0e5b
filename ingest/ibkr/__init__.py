"""IBKR options source (ib_insync): top-of-book quotes and coarse last-sale prints.

IBKR does not provide tick-by-tick options data; every print is `coarse=True` and the
source says so in its log when it starts.

    source = IbkrOptionSource(IbkrOptionsConfig(contracts=["AAPL  250221C00250000"]))
    await source.connect()   # TWS / IB Gateway on host:port
    async for event in source.events():
        ...
"""

from ingest.ibkr.adapter import IbkrOptionSource
from ingest.ibkr.config import IbkrOptionsConfig
from ingest.ibkr.parsing import COARSE_WARNING, IbkrContract, IbkrTickWrapper

__all__ = [
    "COARSE_WARNING",
    "IbkrContract",
    "IbkrOptionSource",
    "IbkrOptionsConfig",
    "IbkrTickWrapper",
]

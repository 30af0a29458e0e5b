"""Settings of the IBKR options source (frozen; unknown fields rejected)."""

from __future__ import annotations

import msgspec


class IbkrOptionsConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """TWS / IB Gateway connection and the option contracts (OCC symbols) to watch.

    `generic_ticks="233"` asks for RT Volume, which reports each last sale with its own
    time; without it prints come from last-price/last-size updates.
    """

    contracts: list[str]
    host: str = "127.0.0.1"
    port: int = 7497
    client_id: int = 17
    exchange: str = "SMART"
    currency: str = "USD"
    generic_ticks: str = "233"
    market_data_type: int = 1  # 1 live, 3 delayed
    source: str = "ibkr"

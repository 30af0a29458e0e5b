"""The one canonical order of raw events.

`canonical_key = (ts_recv, schema_rank, publisher_id, instrument_id, sequence, bytes)`; the
last element (the event's canonical bytes) breaks any remaining tie, so the order never
depends on arrival order. `log_seq` is never part of it.
"""

from __future__ import annotations

from schemas.book import MboEvent, Mbp10Event
from schemas.cme import CmeInstrument, CmeQuote, CmeStatistic, CmeTrade
from schemas.codec import encode_event
from schemas.crypto import (
    BookUpdate,
    CryptoQuote,
    CryptoTrade,
    MarkPrice,
    ProviderGap,
    ProviderHeartbeat,
    ProviderSwitch,
)
from schemas.events import (
    EquityPrint,
    EquityQuote,
    Event,
    Gap,
    Heartbeat,
    OpenInterest,
    OptionContract,
    OptionPrint,
    OptionQuote,
    Quarantined,
)

# Definitions and open interest before quotes, quotes before prints at the same instant:
# a print's "quote just before" may share its receive timestamp.
_RANKS: dict[type[Event], int] = {
    OptionContract: 0,
    OpenInterest: 1,
    OptionQuote: 2,
    EquityQuote: 2,
    OptionPrint: 3,
    EquityPrint: 3,
    MarkPrice: 1,
    BookUpdate: 2,
    CryptoQuote: 2,
    CryptoTrade: 3,
    MboEvent: 2,
    CmeInstrument: 0,
    CmeStatistic: 1,
    CmeQuote: 2,
    CmeTrade: 3,
    Mbp10Event: 2,
    Heartbeat: 8,
    Gap: 8,
    ProviderHeartbeat: 8,
    ProviderGap: 8,
    ProviderSwitch: 8,
    Quarantined: 9,
}

CanonicalKey = tuple[int, int, int, int, int, bytes]


def schema_rank(event: Event) -> int:
    """The rank of an event's type in the canonical order."""
    try:
        return _RANKS[type(event)]
    except KeyError:
        raise TypeError(f"{type(event).__name__} is not a raw event") from None


def canonical_key(event: Event) -> CanonicalKey:
    """The sort key that defines the one order of raw events."""
    return (
        event.ts_recv,
        schema_rank(event),
        getattr(event, "publisher_id", 0),
        getattr(event, "instrument_id", 0),
        getattr(event, "sequence", 0),
        encode_event(event),
    )


def canonical_sort(events: list[Event]) -> list[Event]:
    """A new list of `events` in canonical order."""
    return sorted(events, key=canonical_key)


HighWater = dict[str, list[int | str]]

# Liveness and error records are not market data: they are never treated as repeats.
_UNORDERED: frozenset[type[Event]] = frozenset(
    {Heartbeat, Gap, Quarantined, ProviderHeartbeat, ProviderGap, ProviderSwitch}
)


def admit(high_water: HighWater, event: Event, key: CanonicalKey | None = None) -> bool:
    """False for an event at or below its source's high-water mark (a republished repeat).

    Marks are kept per (source, event type) because one source's events of one type arrive
    in canonical order, while different types travel in different messages. The mark is
    the whole canonical key (the event bytes as hex), so two distinct records that share
    receive time, venue, instrument and sequence are both admitted. Admitting an event
    raises its mark; `high_water` is plain data so it can be checkpointed as JSON. `key`:
    the event's canonical key, when the caller has it already.
    """
    if type(event) in _UNORDERED:
        return True
    mark_name = f"{getattr(event, 'source')}/{type(event).__name__}"  # noqa: B009
    ts_recv, rank, publisher_id, instrument_id, sequence, body = key or canonical_key(event)
    new: list[int | str] = [ts_recv, rank, publisher_id, instrument_id, sequence, body.hex()]
    mark = high_water.get(mark_name)
    if mark is not None and new <= mark:  # both are five ints then a hex string
        return False
    high_water[mark_name] = new
    return True

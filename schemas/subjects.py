"""JetStream stream and subject names."""

from __future__ import annotations

import re

from schemas.book import BOOK_RAW_EVENTS
from schemas.cme import CME_DERIVED_EVENTS, CME_RAW_EVENTS
from schemas.crypto import (
    CRYPTO_DERIVED_EVENTS,
    CRYPTO_RAW_EVENTS,
    BookUpdate,
    CryptoQuote,
    CryptoTrade,
    ProviderHeartbeat,
)
from schemas.events import DERIVED_EVENTS, RAW_EVENTS, Event, Gap, Heartbeat, event_tag

RAW_STREAM = "RAW"
DERIVED_STREAM = "DERIVED"
RAW_SUBJECTS = "flow.raw.>"
DERIVED_SUBJECTS = "flow.drv.>"

RUN_ID_HEADER = "Flowtape-Run-Id"
SCHEMA_HEADER = "Flowtape-Schema"

_TOKEN = re.compile(r"^[a-z0-9_-]{1,64}$")


def _check_token(value: str, what: str) -> str:
    if not _TOKEN.match(value):
        raise ValueError(f"{what} must match {_TOKEN.pattern}, got {value!r}")
    return value


def raw_subject(event_type: type[Event], source: str) -> str:
    """`flow.raw.<type>.<source>`, e.g. `flow.raw.option_print.databento`."""
    if event_type not in RAW_EVENTS + CRYPTO_RAW_EVENTS + BOOK_RAW_EVENTS + CME_RAW_EVENTS:
        raise ValueError(f"{event_type.__name__} is not a raw event")
    return f"flow.raw.{event_tag(event_type)}.{_check_token(source, 'source')}"


# Partitioned live compute (FLOWTAPE_PARTITIONS > 1): the options-flow raw events travel on
# `flow.raw.<type>.<source>.p<k>`, one subject per logical partition of the underlyings, and
# the events every partition's engine needs (heartbeats, gaps) on `...<source>.all`.
PARTITIONED_EVENTS: frozenset[type[Event]] = frozenset(RAW_EVENTS)
BROADCAST_EVENTS: frozenset[type[Event]] = frozenset({Heartbeat, Gap})  # they only move time
BROADCAST_PARTITION = "all"


def partition_token(partition: int) -> str:
    """`p<k>`, the last token of partition `partition`'s raw subjects."""
    if partition < 0:
        raise ValueError(f"a partition is a number >= 0, got {partition}")
    return f"p{partition}"


def partitioned_raw_subject(event_type: type[Event], source: str, token: str) -> str:
    """`flow.raw.<type>.<source>.<token>`, e.g. `flow.raw.option_print.databento.p1`; the
    token is a `partition_token` or `BROADCAST_PARTITION`."""
    if event_type not in PARTITIONED_EVENTS:
        raise ValueError(f"{event_type.__name__} is not partitioned")
    return f"{raw_subject(event_type, source)}.{_check_token(token, 'partition token')}"


def partition_filters(partition: int) -> tuple[str, str]:
    """The raw subjects partition `partition` reads: its own and the broadcast ones."""
    own = partition_token(partition)
    return f"flow.raw.*.*.{own}", f"flow.raw.*.*.{BROADCAST_PARTITION}"


def derived_subject(event_type: type[Event]) -> str:
    """`flow.drv.<type>`, e.g. `flow.drv.flow_packet`."""
    if event_type not in DERIVED_EVENTS + CRYPTO_DERIVED_EVENTS + CME_DERIVED_EVENTS:
        raise ValueError(f"{event_type.__name__} is not a derived event")
    return f"flow.drv.{event_tag(event_type)}"


MD_SUBJECTS = "md.events.>"
_MD_TYPES: dict[type[Event], str] = {
    CryptoTrade: "trade",
    CryptoQuote: "quote",
    BookUpdate: "book",
    ProviderHeartbeat: "heartbeat",
}
_MD_SYMBOL = re.compile(r"[^A-Za-z0-9_-]")


def md_subject(event: Event) -> str | None:
    """`md.events.{trade|quote|book|heartbeat}.{symbol}` (`__system__` for heartbeats), the
    subjects of the market-data schema's existing consumers; None for other events."""
    kind = _MD_TYPES.get(type(event))
    if kind is None:
        return None
    symbol = "__system__" if kind == "heartbeat" else str(getattr(event, "symbol", ""))
    return f"md.events.{kind}.{_MD_SYMBOL.sub('_', symbol)}"

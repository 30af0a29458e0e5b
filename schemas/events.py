"""Raw and derived events: frozen msgspec structs.

Every event leads with `ts_recv` (the base `Event` carries it). Raw events take their other
fields by keyword only; derived events also take theirs by position (see below).

Conventions (see ARCHITECTURE.md):
- timestamps are integer nanoseconds since the epoch (`ts_event`, `ts_recv`);
- prices keep Databento's int64 scale of 1e-9 dollars (`PRICE_SCALE`); money is integer cents;
- `None` stands for a value the source did not define (Databento's i64::MAX / u64::MAX);
- ratios, confidences and z-scores are floats computed from exact integers and rounded to
  `FIXED_DIGITS` decimals, so every run produces the same bits.
"""

from __future__ import annotations

from typing import Literal

import msgspec

SCHEMA_VERSION = 1
PRICE_SCALE = 1_000_000_000
FIXED_DIGITS = 4
UNDEF_PRICE = 2**63 - 1
UNDEF_TIMESTAMP = 2**64 - 1

Right = Literal["C", "P"]
Side = Literal["buy", "sell", "unknown"]
Bucket = Literal["AA", "A", "M", "B", "BB", "NA"]
NbboStatus = Literal["print", "joined", "held", "stale", "missing", "crossed"]
PacketKind = Literal["sweep", "split", "block", "single", "multi_leg"]


class _Versioned(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    tag_field="type",
    gc=False,
):
    """The wire envelope: the `type` tag names the concrete struct, `schema_version` its layout.

    Keyword-only, so it sorts after every positional field: `ts_recv` stays the first argument.
    Events and their records are value trees that never refer back to themselves, so the
    cycle collector does not track them (`gc=False`): the engine allocates several per print.
    """

    schema_version: int = SCHEMA_VERSION


class Event(_Versioned, frozen=True):
    """Base of every event: the receive time (integer ns) that orders and clocks it."""

    ts_recv: int


class MarketEvent(Event, frozen=True, kw_only=True):
    """Base of raw market data: what every source says about every record."""

    ts_event: int
    publisher_id: int
    instrument_id: int
    source: str
    symbol: str


class Record(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """Base of nested values carried inside events (no type tag)."""


# --------------------------------------------------------------------------- raw events


class OptionContract(MarketEvent, frozen=True, kw_only=True, tag="option_contract"):
    """An option contract definition (Databento `definition`)."""

    underlying: str
    right: Right
    strike_price: int
    expiration: int | None
    multiplier: int = 100


class OptionPrint(MarketEvent, frozen=True, kw_only=True, tag="option_print"):
    """One option trade; carries the consolidated BBO just before it when the source has it."""

    sequence: int
    underlying: str
    price: int
    size: int
    side: str = "N"
    flags: int = 0
    coarse: bool = False
    bid_px: int | None = None
    ask_px: int | None = None
    bid_sz: int | None = None
    ask_sz: int | None = None


class OptionQuote(MarketEvent, frozen=True, kw_only=True, tag="option_quote"):
    """A consolidated NBBO update for one contract (`cmbp-1`, `cbbo-*`, Alpaca/IBKR quotes).

    `sampled` tells the two kinds of quote feed apart (DOMAIN.md, NBBO freshness): a complete
    change stream (`cmbp-1`, `mbp-1`) sends a record whenever the quote changes, so its last
    quote stays in force until it changes or the feed reports a gap; a sampled or polled feed
    (`cbbo-1s`, `cbbo-1m`, Alpaca and IBKR snapshots) is only as fresh as its sample.
    """

    sequence: int
    underlying: str
    bid_px: int | None
    ask_px: int | None
    bid_sz: int
    ask_sz: int
    bid_pb: int | None = None
    ask_pb: int | None = None
    sampled: bool = False


class EquityPrint(MarketEvent, frozen=True, kw_only=True, tag="equity_print"):
    """One equity trade, lit or off-exchange (TRF/ATS/internalised)."""

    sequence: int
    venue: str
    off_exchange: bool
    price: int
    size: int
    side: str = "N"
    flags: int = 0
    bid_px: int | None = None
    ask_px: int | None = None
    bid_sz: int | None = None
    ask_sz: int | None = None


class EquityQuote(MarketEvent, frozen=True, kw_only=True, tag="equity_quote"):
    """A top-of-book update for one equity on one venue (or consolidated)."""

    sequence: int
    venue: str
    bid_px: int | None
    ask_px: int | None
    bid_sz: int
    ask_sz: int


class OpenInterest(MarketEvent, frozen=True, kw_only=True, tag="open_interest"):
    """Open interest for one contract, deduplicated across venues by the source."""

    sequence: int
    underlying: str
    open_interest: int


class Heartbeat(Event, frozen=True, kw_only=True, tag="heartbeat"):
    """A source is alive but silent; `ts_recv` is the source's clock."""

    source: str


class Gap(Event, frozen=True, kw_only=True, tag="gap"):
    """The ingest service dropped trades or order-book events (last resort of its buffer
    policy); `first_ts_recv`..`last_ts_recv` spans both."""

    source: str
    dropped_trades: int
    first_ts_recv: int
    last_ts_recv: int
    reason: str
    dropped_book_events: int = 0


class Quarantined(Event, frozen=True, kw_only=True, tag="quarantined"):
    """Input that could not be turned into an event, kept with the reason."""

    source: str
    reason: str
    detail: str = ""
    payload: bytes = b""


# ----------------------------------------------------------------------- nested records


class MemberPrint(Record, frozen=True, array_like=True, kw_only=False):
    """A print inside a packet, hit or alert, with the NBBO the engine used for it.

    `nbbo_*` are None when no quote was usable (stale, missing, crossed): never guessed.
    """

    instrument_id: int
    publisher_id: int
    ts_event: int
    sequence: int
    price: int
    size: int
    side: Side
    bucket: Bucket
    nbbo_bid_px: int | None
    nbbo_ask_px: int | None


class PacketLeg(Record, frozen=True, kw_only=False):
    """One contract of a FlowPacket with its own detail.

    `moneyness` is signed, in the money positive: (spot - strike) / spot for calls,
    (strike - spot) / spot for puts, spot being the underlying's last equity print; `dte`
    counts NYSE sessions after the trade date up to the expiration (0 on expiry day);
    `ratio` is the leg size over the greatest common divisor of all leg sizes;
    `day_volume` is the contract's volume that day including this packet.
    """

    instrument_id: int
    symbol: str
    right: Right
    strike_price: int
    expiration_date: int
    side: Side
    size: int
    premium_cents: int
    n_prints: int
    venues: list[int]
    vwap_px: int
    ratio: int
    moneyness: float | None
    dte: int | None
    day_volume: int
    open_interest: int | None


class BaselineValue(Record, frozen=True, kw_only=False):
    """The rolling baseline behind one z-score."""

    key: str
    metric: str
    value: int
    n: int
    mean: float
    std: float
    z: float | None


class QuoteRef(Record, frozen=True, array_like=True, kw_only=False):
    """An equity quote a dark-pool inference rests on."""

    publisher_id: int
    ts_recv: int
    bid_px: int | None
    ask_px: int | None


# ---------------------------------------------------------------------- derived events

# Derived events and their nested records also take positional arguments (`ts_recv` first,
# then their own fields in order): the engine builds one or more per print, and positional
# construction is about seven times faster than keywords. Keywords keep working everywhere.


class PrintInference(Event, frozen=True, tag="print_inference"):
    """Aggressor side, NBBO placement and confidence for one option print.

    `nbbo_*` describe the quote the engine looked at (the print's own for tcbbo, else the
    last quote with `ts_recv` strictly before the print); `nbbo_status` says whether it was
    used or not:
    - `print`: the print carries the NBBO in force (tcbbo);
    - `joined`: the last quote is at most `NBBO_MAX_AGE_MS` old;
    - `held`: older, but from a complete change stream with no gap reported since, so still
      the quote in force;
    - `stale`: older, and sampled (or from before a gap): not used;
    - `missing`: no two-sided quote before the print; `crossed`: bid above ask: not used.
    Unused quotes leave the print in bucket `NA`.
    """

    run_id: str
    ts_event: int
    publisher_id: int
    instrument_id: int
    sequence: int
    symbol: str
    underlying: str
    price: int
    size: int
    side: Side
    bucket: Bucket
    rule: str
    confidence: float
    nbbo_status: NbboStatus
    nbbo_bid_px: int | None
    nbbo_ask_px: int | None
    nbbo_bid_sz: int | None
    nbbo_ask_sz: int | None
    nbbo_ts_recv: int | None
    late: bool = False


class FlowPacket(Event, frozen=True, tag="flow_packet"):
    """A cluster of prints that together make one flow event.

    `ts_recv` is the receive time of the last member; `side` is buy/sell/unknown, or
    `mixed` for a multi-leg packet whose legs differ; `aggressor_ratio` is the size share of
    the dominant side; `nbbo_coverage` the share of members placed against a usable NBBO.
    """

    packet_id: str
    run_id: str
    kind: PacketKind
    structure: str
    underlying: str
    ts_start: int
    ts_end: int
    side: str
    premium_cents: int
    size: int
    n_prints: int
    venues: list[int]
    price_levels: int
    legs: list[PacketLeg]
    bucket_counts: dict[str, int]
    aggressor_ratio: float
    nbbo_coverage: float
    spot_px: int | None
    members: list[MemberPrint]
    late: bool = False


class ClassifierHit(Event, frozen=True, tag="classifier_hit"):
    """One rule that fired on one packet, with everything it looked at."""

    hit_id: str
    run_id: str
    packet_id: str
    rule: str
    ts_event: int
    underlying: str
    packet_kind: str
    premium_cents: int
    size: int
    score: float
    thresholds: dict[str, float]
    baselines: list[BaselineValue]
    members: list[MemberPrint]


class Alert(Event, frozen=True, tag="alert"):
    """A scored alert raised from the hits on one packet."""

    alert_id: str
    run_id: str
    packet_id: str
    ts_event: int
    underlying: str
    severity: int
    score: float
    rules: list[str]
    hit_ids: list[str]
    title: str
    thresholds: dict[str, float]
    baselines: list[BaselineValue]
    members: list[MemberPrint]


class DarkPoolEvent(Event, frozen=True, tag="darkpool_event"):
    """An inference drawn from off-exchange equity prints, with its basis and its limits.

    `price_impact_bps`: for `absorbed_block` the net lit move over the impact window
    (absolute); for `stealth_accumulation`/`distribution` the signed lit move over the
    episode. `caveats` says what the inference cannot know.
    """

    event_id: str
    run_id: str
    kind: str
    symbol: str
    ts_start: int
    ts_end: int
    size: int
    notional_cents: int
    n_prints: int
    price_impact_bps: float | None
    confidence: float
    prints: list[MemberPrint]
    quotes: list[QuoteRef]
    caveats: str


RAW_EVENTS: tuple[type[Event], ...] = (
    OptionContract,
    OptionPrint,
    OptionQuote,
    EquityPrint,
    EquityQuote,
    OpenInterest,
    Heartbeat,
    Gap,
    Quarantined,
)
DERIVED_EVENTS: tuple[type[Event], ...] = (
    PrintInference,
    FlowPacket,
    ClassifierHit,
    Alert,
    DarkPoolEvent,
)
ALL_EVENTS: tuple[type[Event], ...] = RAW_EVENTS + DERIVED_EVENTS

AnyEvent = (
    OptionContract
    | OptionPrint
    | OptionQuote
    | EquityPrint
    | EquityQuote
    | OpenInterest
    | Heartbeat
    | Gap
    | Quarantined
    | PrintInference
    | FlowPacket
    | ClassifierHit
    | Alert
    | DarkPoolEvent
)


def event_tag(event_type: type[Event]) -> str:
    """The wire tag of an event type, e.g. `option_print`."""
    tag = event_type.__struct_config__.tag
    if not isinstance(tag, str):
        raise TypeError(f"{event_type.__name__} has no string tag")
    return tag


__all__ = [
    "ALL_EVENTS",
    "DERIVED_EVENTS",
    "FIXED_DIGITS",
    "PRICE_SCALE",
    "RAW_EVENTS",
    "SCHEMA_VERSION",
    "UNDEF_PRICE",
    "UNDEF_TIMESTAMP",
    "Alert",
    "AnyEvent",
    "BaselineValue",
    "Bucket",
    "ClassifierHit",
    "DarkPoolEvent",
    "EquityPrint",
    "EquityQuote",
    "Event",
    "FlowPacket",
    "Gap",
    "Heartbeat",
    "MarketEvent",
    "MemberPrint",
    "NbboStatus",
    "OpenInterest",
    "OptionContract",
    "OptionPrint",
    "OptionQuote",
    "PacketKind",
    "PacketLeg",
    "PrintInference",
    "Quarantined",
    "QuoteRef",
    "Record",
    "Right",
    "Side",
    "event_tag",
]

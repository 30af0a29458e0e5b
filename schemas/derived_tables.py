"""The derived tables as Arrow schemas: what an engine outputs, the DERIVED log carries and
the sink stores (ARCHITECTURE.md, "Storage (ClickHouse) rules").

A print is named everywhere by its key `PRINT_KEY`; the tables hold nothing else of the
print (its symbol, price, size and receive time stay in `option_prints`, joined on the key).
`flow_packets` and `packet_prints` hold only the packets worth a row (`packet_gets_row`): a
lone print is a `single` told by its `print_inference` row, and its packet id is
`packet_id_of_print` of its key. The writer adds `run_id` and `log_seq` in front of every
table (`STORED_PREFIX`).
"""

from __future__ import annotations

import pyarrow as pa

from schemas.ids import make_id

TIMESTAMP = pa.timestamp("ns", tz="UTC")
PREMIUM_DIVISOR = 10_000_000  # price (1e-9 $) * size * multiplier -> cents
STANDARD_MULTIPLIER = 100

PRINT_KEY = ("instrument_id", "publisher_id", "ts_event", "sequence")
BUCKET_COLUMNS = {
    "AA": "bucket_aa",
    "A": "bucket_a",
    "M": "bucket_m",
    "B": "bucket_b",
    "BB": "bucket_bb",
    "NA": "bucket_na",
}

STORED_PREFIX = pa.schema(
    [pa.field("run_id", pa.string(), False), pa.field("log_seq", pa.uint64(), False)]
)


def _fields(*fields: tuple[str, pa.DataType] | tuple[str, pa.DataType, bool]) -> list[pa.Field]:
    """Fields not nullable unless marked True."""
    return [pa.field(f[0], f[1], len(f) == 3 and f[2]) for f in fields]


_KEY = _fields(
    ("instrument_id", pa.uint32()),
    ("publisher_id", pa.uint16()),
    ("ts_event", TIMESTAMP),
    ("sequence", pa.uint64()),
)

PRINT_INFERENCE = pa.schema(
    [
        *_KEY,
        *_fields(
            ("underlying", pa.string()),
            ("right", pa.string()),
            ("side", pa.string()),
            ("bucket", pa.string()),
            ("rule", pa.string()),
            ("confidence", pa.float64()),
            ("nbbo_status", pa.string()),
            ("nbbo_bid_px", pa.int64(), True),
            ("nbbo_ask_px", pa.int64(), True),
            ("nbbo_bid_sz", pa.uint32(), True),
            ("nbbo_ask_sz", pa.uint32(), True),
            ("nbbo_ts_recv", TIMESTAMP, True),
            ("premium_cents", pa.int64()),
            ("late", pa.bool_()),
        ),
    ]
)
"""One row per option print: the engine's reading of it and the quote it looked at."""

LEG = pa.struct(
    _fields(
        ("instrument_id", pa.uint32()),
        ("symbol", pa.string()),
        ("right", pa.string()),
        ("strike_price", pa.int64()),
        ("expiration_date", pa.uint32()),
        ("side", pa.string()),
        ("size", pa.uint64()),
        ("premium_cents", pa.int64()),
        ("n_prints", pa.uint32()),
        ("venues", pa.list_(pa.uint16())),
        ("vwap_px", pa.int64()),
        ("ratio", pa.uint32()),
        ("moneyness", pa.float64(), True),
        ("dte", pa.int32(), True),
        ("day_volume", pa.uint64()),
        ("open_interest", pa.uint64(), True),
    )
)
"""One contract of a packet (`schemas.events.PacketLeg`)."""

FLOW_PACKETS = pa.schema(
    _fields(
        ("packet_id", pa.string()),
        ("kind", pa.string()),
        ("structure", pa.string()),
        ("underlying", pa.string()),
        ("ts_start", TIMESTAMP),
        ("ts_end", TIMESTAMP),
        ("ts_recv", TIMESTAMP),
        ("side", pa.string()),
        ("premium_cents", pa.int64()),
        ("size", pa.uint64()),
        ("n_prints", pa.uint32()),
        ("venues", pa.list_(pa.uint16())),
        ("price_levels", pa.uint32()),
        ("legs", pa.list_(LEG)),
        *((column, pa.uint32()) for column in BUCKET_COLUMNS.values()),
        ("aggressor_ratio", pa.float64()),
        ("nbbo_coverage", pa.float64()),
        ("spot_px", pa.int64(), True),
        ("late", pa.bool_()),
    )
)
"""One row per packet worth a row; members in `packet_prints`, bucket counts as columns."""

PACKET_PRINTS = pa.schema([*_fields(("packet_id", pa.string()), ("ts_start", TIMESTAMP)), *_KEY])
"""One row per member print of a stored packet (`ts_start` is the packet's: its partition)."""

TABLES: dict[str, pa.Schema] = {
    "print_inference": PRINT_INFERENCE,
    "flow_packets": FLOW_PACKETS,
    "packet_prints": PACKET_PRINTS,
}


def packet_gets_row(kind: str, n_prints: int, flagged: bool) -> bool:
    """Whether a packet is stored in `flow_packets` and `packet_prints`: more than one print,
    a block, a multi-leg order, or any packet a classifier hit or an alert names."""
    return flagged or n_prints > 1 or kind != "single"


def packet_id_of_print(
    run_id: str, instrument_id: int, publisher_id: int, ts_event: int, sequence: int
) -> str:
    """The id of the packet a print opened (a single's id, computed from its key)."""
    return make_id("flow_packet", run_id, instrument_id, publisher_id, ts_event, sequence)


def premium_cents(price: int, size: int, multiplier: int = STANDARD_MULTIPLIER) -> int:
    """A print's premium in cents, rounded down as the engine's packet premiums are."""
    return price * size * multiplier // PREMIUM_DIVISOR

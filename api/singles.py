"""Lone prints read back as `single` packets.

A packet of one print that is neither a block nor flagged has no `flow_packets` row: its
`print_inference` row tells it, no `packet_prints` row names its print, and its id is
`packet_id_of_print` of the print's key (schemas/derived_tables.py). Here such prints are
found, joined with `option_prints` for their symbol, price, size and receive time, and shaped
as the packet the engine emitted, less what only the engine knew then (the leg's moneyness,
days to expiry, day volume, open interest, and the spot price: null).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from api.views import plain
from infra.warehouse import Warehouse
from schemas.derived_tables import packet_id_of_print
from schemas.events import FlowPacket, PacketLeg
from schemas.occ import parse_occ

PrintKey = tuple[int, int, int, int]
# The keys of the run's lone prints of ts_event in [lo, hi) (ns).
_LONE_KEYS = """
SELECT instrument_id, publisher_id, toUnixTimestamp64Nano(ts_event), sequence
FROM print_inference
WHERE run_id = {run_id:String} AND {span}
  AND (instrument_id, publisher_id, ts_event, sequence) NOT IN (
    SELECT instrument_id, publisher_id, ts_event, sequence FROM packet_prints
    WHERE run_id = {run_id:String} AND {span})
""".replace(
    "{span}",
    "ts_event >= fromUnixTimestamp64Nano({lo:Int64}) "
    "AND ts_event < fromUnixTimestamp64Nano({hi:Int64})",
)
_TIME_SPAN = """
SELECT toUnixTimestamp64Nano(min(ts_event)), toUnixTimestamp64Nano(max(ts_event)), count()
FROM print_inference WHERE run_id = {run_id:String}
"""
# An id alone is looked for newest first: in the run's last minute of prints, then in spans
# four times longer each, back to its first print (a live tape's single is found at once).
FIRST_SPAN_NS = 60 * 1_000_000_000
SPAN_GROWTH = 4
MS = 1_000_000
_UNKNOWN_LEG_TERMS = ("moneyness", "dte", "day_volume", "open_interest")

# The lone prints among print_inference rows `{where}`, with their print's columns: the
# option_prints rows are looked up by the chosen keys (a join on the run's whole table would
# build a hash table of every print).
_SELECT = """
WITH lone AS (
    SELECT * FROM print_inference
    WHERE run_id = {run_id:String} AND {where}
      AND (instrument_id, publisher_id, ts_event, sequence) NOT IN (
          SELECT instrument_id, publisher_id, ts_event, sequence FROM packet_prints
          WHERE run_id = {run_id:String} AND {members})
    ORDER BY ts_event {order}, instrument_id {order}, publisher_id {order},
             sequence {order}
    LIMIT {limit:UInt32}
)
SELECT i.instrument_id AS instrument_id, i.publisher_id AS publisher_id,
       toUnixTimestamp64Nano(i.ts_event) AS ts_event, i.sequence AS sequence,
       i.underlying AS underlying, toString(i.right) AS right, toString(i.side) AS side,
       toString(i.bucket) AS bucket, toString(i.nbbo_status) AS nbbo_status,
       i.nbbo_bid_px AS nbbo_bid_px, i.nbbo_ask_px AS nbbo_ask_px,
       i.premium_cents AS premium_cents, i.late AS late,
       o.symbol AS symbol, o.price AS price, o.size AS size,
       toUnixTimestamp64Nano(o.ts_recv) AS ts_recv
FROM lone AS i
INNER JOIN (
    SELECT instrument_id, publisher_id, ts_event, sequence, symbol, price, size, ts_recv
    FROM option_prints
    WHERE run_id = {run_id:String} AND {prints}
      AND (instrument_id, publisher_id, ts_event, sequence) IN (
          SELECT instrument_id, publisher_id, ts_event, sequence FROM lone)
) AS o USING (instrument_id, publisher_id, ts_event, sequence)
"""


def single_rows(
    warehouse: Warehouse,
    params: dict[str, Any],
    *,
    where: str = "1",
    members: str = "1",
    prints: str = "1",
    newest_first: bool = True,
) -> list[dict[str, Any]]:
    """Lone prints of the run `params["run_id"]` matching `where` (print_inference columns),
    at most `params["limit"]`, newest or oldest first by ts_event; `members` and `prints`
    narrow the packet_prints and option_prints rows read (by ts_event) without changing what
    is found."""
    sql = (
        _SELECT.replace("{where}", where)
        .replace("{members}", members)
        .replace("{prints}", prints)
        .replace("{order}", "DESC" if newest_first else "ASC")
    )
    result = warehouse.client.query(sql, parameters=params)
    names = list(result.column_names)
    return [dict(zip(names, row, strict=True)) for row in result.result_rows]


def _leg(row: dict[str, Any]) -> PacketLeg:
    try:
        occ = parse_occ(row["symbol"])
        strike, expiration = occ.strike_price, occ.expiration_date
    except ValueError:
        strike, expiration = 0, 0
    return PacketLeg(
        row["instrument_id"], row["symbol"], "P" if row["right"] == "P" else "C", strike,
        expiration, row["side"], row["size"], row["premium_cents"], 1, [row["publisher_id"]],
        row["price"], 1, None, None, 0, None,
    )  # fmt: skip


def single_packet(run_id: str, row: dict[str, Any]) -> dict[str, Any]:
    """The lone print `row` (from `single_rows`) as its single packet's JSON view."""
    packet = FlowPacket(
        row["ts_recv"], packet_id_of_print(run_id, *key_of(row)), run_id, "single", "",
        row["underlying"], row["ts_event"], row["ts_event"], row["side"], row["premium_cents"],
        row["size"], 1, [row["publisher_id"]], 1, [_leg(row)], {row["bucket"]: 1},
        0.0 if row["side"] == "unknown" else 1.0, 0.0 if row["bucket"] == "NA" else 1.0, None,
        [], bool(row["late"]),
    )  # fmt: skip
    view: dict[str, Any] = plain(packet)
    view.pop("members")
    for name in _UNKNOWN_LEG_TERMS:
        view["legs"][0][name] = None
    return view


def key_of(row: dict[str, Any]) -> PrintKey:
    return (
        int(row["instrument_id"]),
        int(row["publisher_id"]),
        int(row["ts_event"]),
        int(row["sequence"]),
    )


class SingleIds:
    """Which print a single packet id names: remembered from the singles listed (bounded),
    else found by computing the ids of the run's lone prints, in the millisecond named by
    the caller or newest first."""

    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self._known: OrderedDict[tuple[str, str], PrintKey] = OrderedDict()

    def remember(self, run_id: str, packet_id: str, key: PrintKey) -> None:
        self._known[(run_id, packet_id)] = key
        self._known.move_to_end((run_id, packet_id))
        while len(self._known) > self.capacity:
            self._known.popitem(last=False)

    def find(
        self, warehouse: Warehouse, run_id: str, packet_id: str, ts_ms: int | None = None
    ) -> PrintKey | None:
        """The key of the lone print whose single is `packet_id`; `ts_ms`, the single's
        ts_start in ms (to one either side: a JSON double holds ns to 256), limits the search
        to that moment."""
        known = self._known.get((run_id, packet_id))
        if known is not None:
            return known
        spans = (
            [((ts_ms - 1) * MS, (ts_ms + 2) * MS)]
            if ts_ms is not None
            else _newest_first(warehouse, run_id)
        )
        for lo, hi in spans:
            key = _search(warehouse, run_id, packet_id, lo, hi)
            if key is not None:
                self.remember(run_id, packet_id, key)
                return key
        return None


def _newest_first(warehouse: Warehouse, run_id: str) -> Iterator[tuple[int, int]]:
    """[lo, hi) spans of ts_event covering the run's prints, newest first, each longer."""
    first, last, count = warehouse.rows(_TIME_SPAN, {"run_id": run_id})[0]
    if not count:
        return
    hi, span = int(last) + 1, FIRST_SPAN_NS
    while hi > first:
        lo = max(hi - span, int(first))
        yield lo, hi
        hi, span = lo, span * SPAN_GROWTH


def _search(warehouse: Warehouse, run_id: str, packet_id: str, lo: int, hi: int) -> PrintKey | None:
    with warehouse.client.query_row_block_stream(
        _LONE_KEYS, parameters={"run_id": run_id, "lo": lo, "hi": hi}
    ) as blocks:
        for block in blocks:
            for row in block:
                key = (int(row[0]), int(row[1]), int(row[2]), int(row[3]))
                if packet_id_of_print(run_id, *key) == packet_id:
                    return key
    return None

"""Reading derived events back from ClickHouse for the REST endpoints and playback.

Rows come back as the events they were stored from (`msgspec.convert`), so REST, the live
tape and playback share one JSON shape (api/views.py). Timestamps are selected as integer
nanoseconds (`toUnixTimestamp64Nano`): clickhouse-connect's datetimes stop at microseconds.
Every value reaches ClickHouse as a bound parameter, never pasted into the SQL text.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import msgspec

from api.singles import PrintKey, SingleIds, key_of, single_packet, single_rows
from api.views import plain, with_dollars
from infra.warehouse import Warehouse
from schemas.derived_tables import BUCKET_COLUMNS
from schemas.errors import FlowtapeError
from schemas.events import Alert, ClassifierHit, DarkPoolEvent, Event, FlowPacket

MAX_LIMIT = 5000

# A packet's member prints ({membership}: their keys) with the inference and the quote the
# engine used (none unless its NBBO status says it was used), and the print's own columns.
_MEMBERS = """
SELECT p.instrument_id AS instrument_id, p.publisher_id AS publisher_id,
       toUnixTimestamp64Nano(p.ts_event) AS ts_event, p.sequence AS sequence,
       o.price AS price, o.size AS size, toString(i.side) AS side, toString(i.bucket) AS bucket,
       if(i.nbbo_status IN ('print', 'joined', 'held'), i.nbbo_bid_px, NULL) AS nbbo_bid_px,
       if(i.nbbo_status IN ('print', 'joined', 'held'), i.nbbo_ask_px, NULL) AS nbbo_ask_px,
       o.symbol AS symbol, toString(i.rule) AS rule, i.confidence AS confidence,
       toString(i.nbbo_status) AS nbbo_status, i.nbbo_bid_sz AS nbbo_bid_sz,
       i.nbbo_ask_sz AS nbbo_ask_sz, toUnixTimestamp64Nano(i.nbbo_ts_recv) AS nbbo_ts_recv,
       toUnixTimestamp64Nano(o.ts_recv) AS ts_recv, i.late AS late
FROM ({membership}) AS p
LEFT JOIN (
    SELECT * FROM print_inference
    WHERE run_id = {run_id:String} AND underlying = {underlying:String}
      AND ts_event >= fromUnixTimestamp64Nano({start:Int64})
      AND ts_event <= fromUnixTimestamp64Nano({end:Int64})
) AS i USING (instrument_id, publisher_id, ts_event, sequence)
LEFT JOIN (
    SELECT instrument_id, publisher_id, ts_event, sequence, symbol, price, size, ts_recv
    FROM option_prints
    WHERE run_id = {run_id:String} AND underlying = {underlying:String}
      AND ts_event >= fromUnixTimestamp64Nano({start:Int64})
      AND ts_event <= fromUnixTimestamp64Nano({end:Int64})
) AS o USING (instrument_id, publisher_id, ts_event, sequence)
ORDER BY ts_event, publisher_id, instrument_id, sequence
SETTINGS join_use_nulls = 1
"""


@dataclass(frozen=True)
class Table:
    """How one derived table is listed: its event type, time, symbol, kind and money columns."""

    name: str
    event_type: type[Event]
    id_column: str
    time_column: str
    symbol_column: str
    kind_column: str | None = None
    money_column: str | None = None


PACKETS = Table(
    "flow_packets", FlowPacket, "packet_id", "ts_start", "underlying", "kind", "premium_cents"
)
HITS = Table(
    "classifier_hits", ClassifierHit, "hit_id", "ts_event", "underlying", "rule", "premium_cents"
)
ALERTS = Table("alerts", Alert, "alert_id", "ts_event", "underlying")
DARKPOOL = Table(
    "darkpool_events", DarkPoolEvent, "event_id", "ts_start", "symbol", "kind", "notional_cents"
)


@dataclass
class Filters:
    """The filters a list endpoint accepts; None means "not filtered"."""

    run_id: str = "live"
    symbols: list[str] = field(default_factory=list)
    kind: str | None = None
    since_ns: int | None = None
    until_ns: int | None = None
    min_money_cents: int | None = None
    min_severity: int | None = None
    rule: str | None = None
    packet_id: str | None = None
    dte_min: int | None = None
    dte_max: int | None = None
    vol_over_oi: bool = False
    limit: int = 100

    @property
    def on_legs(self) -> bool:
        """Whether a packet's legs are filtered (lone singles' legs do not know these terms)."""
        return self.dte_min is not None or self.dte_max is not None or self.vol_over_oi


@cache
def _json_fields(event_type: type[Event]) -> dict[str, Any]:
    """Fields that may be stored as JSON text (lists of nested records), with their types."""
    found: dict[str, Any] = {}
    for info in msgspec.structs.fields(event_type):
        described = msgspec.inspect.type_info(info.type)
        if isinstance(described, msgspec.inspect.ListType) and isinstance(
            described.item_type, msgspec.inspect.StructType
        ):
            found[info.name] = info.type
    return found


class MissingTable(FlowtapeError):
    """A table the API reads is not in the database; the message is the table's name."""

    code = "missing_table"


class Store:
    """Typed reads of the derived tables through one Warehouse."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self._columns: dict[str, list[tuple[str, str]]] = {}
        self._lock = threading.Lock()
        self.single_ids = SingleIds()

    def columns(self, table: str) -> list[tuple[str, str]]:
        """(name, ClickHouse type) of the table's stored (non-materialised) columns."""
        with self._lock:
            if table not in self._columns:
                found = [
                    (str(name), str(type_name))
                    for name, type_name in self.warehouse.rows(
                        "SELECT name, type FROM system.columns WHERE database = currentDatabase()"
                        " AND table = {t:String} AND default_kind != 'MATERIALIZED'"
                        " ORDER BY position",
                        {"t": table},
                    )
                ]
                if not found:  # not cached: the table may be recreated while the API runs
                    raise MissingTable(table)
                self._columns[table] = found
            return self._columns[table]

    def select_list(self, table: str, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        parts = []
        for name, type_name in self.columns(table):
            if "DateTime64" in type_name:
                parts.append(f"toUnixTimestamp64Nano({prefix}`{name}`) AS `{name}`")
            else:
                parts.append(f"{prefix}`{name}`")
        return ", ".join(parts)

    def _select(
        self, table: str, where: str, params: dict[str, Any], tail: str
    ) -> list[dict[str, Any]]:
        # The select list aliases timestamps to their own names; conditions mean the columns.
        sql = (
            f"SELECT {self.select_list(table)} FROM `{table}` WHERE {where} {tail} "  # noqa: S608  (our table and column names; values are bound)
            "SETTINGS prefer_column_name_to_alias = 1"
        )
        result = self.warehouse.client.query(sql, parameters=params)
        names = list(result.column_names)
        return [dict(zip(names, row, strict=True)) for row in result.result_rows]

    # ------------------------------------------------------------------ rows -> events

    @staticmethod
    def to_event(event_type: type[Event], row: dict[str, Any]) -> tuple[Event, int]:
        """A stored row as its event again, with the row's log_seq."""
        data = dict(row)
        log_seq = int(data.pop("log_seq", 0) or 0)
        for name, field_type in _json_fields(event_type).items():
            text = data.get(name)
            if isinstance(text, str):
                data[name] = msgspec.json.decode(text, type=field_type) if text else []
            elif text is None:
                data[name] = []
        if event_type is FlowPacket:  # bucket counts are columns
            counts = {bucket: data.pop(column, 0) for bucket, column in BUCKET_COLUMNS.items()}
            data["bucket_counts"] = {bucket: n for bucket, n in counts.items() if n}
        known = set(event_type.__struct_fields__)
        event = msgspec.convert(
            {k: v for k, v in data.items() if k in known}, event_type, strict=False
        )
        return event, log_seq

    def view(self, table: Table, row: dict[str, Any]) -> dict[str, Any]:
        event, log_seq = self.to_event(table.event_type, row)
        out: dict[str, Any] = plain(event)
        if table is PACKETS:
            out.pop("members", None)  # stored in packet_prints: see packet_evidence
        out["log_seq"] = log_seq
        return out

    # ------------------------------------------------------------------ list endpoints

    def where(self, table: Table, filters: Filters) -> tuple[str, dict[str, Any]]:
        clauses = ["run_id = {run_id:String}"]
        params: dict[str, Any] = {"run_id": filters.run_id}
        if filters.symbols:
            clauses.append(f"`{table.symbol_column}` IN {{symbols:Array(String)}}")
            params["symbols"] = filters.symbols
        if filters.since_ns is not None:
            clauses.append(f"`{table.time_column}` >= fromUnixTimestamp64Nano({{since:Int64}})")
            params["since"] = filters.since_ns
        if filters.until_ns is not None:
            clauses.append(f"`{table.time_column}` < fromUnixTimestamp64Nano({{until:Int64}})")
            params["until"] = filters.until_ns
        if filters.kind is not None and table.kind_column:
            clauses.append(f"`{table.kind_column}` = {{kind:String}}")
            params["kind"] = filters.kind
        if filters.min_money_cents is not None and table.money_column:
            clauses.append(f"`{table.money_column}` >= {{min_money:Int64}}")
            params["min_money"] = filters.min_money_cents
        if filters.min_severity is not None and table is ALERTS:
            clauses.append("severity >= {min_severity:UInt8}")
            params["min_severity"] = filters.min_severity
        if filters.rule is not None and table is ALERTS:
            clauses.append("has(rules, {rule:String})")
            params["rule"] = filters.rule
        if filters.rule is not None and table is HITS:
            clauses.append("rule = {rule:String}")
            params["rule"] = filters.rule
        if filters.packet_id is not None and table in (HITS, ALERTS):
            clauses.append("packet_id = {packet_id:String}")
            params["packet_id"] = filters.packet_id
        if filters.on_legs and table is PACKETS:
            clauses.append(f"arrayExists(leg -> {_leg_terms(filters, params)}, legs)")
        return " AND ".join(clauses), params

    def latest(self, table: Table, filters: Filters) -> list[dict[str, Any]]:
        """Newest first by the table's event time (ties by id, descending)."""
        where, params = self.where(table, filters)
        params["limit"] = max(0, min(filters.limit, MAX_LIMIT))
        tail = (
            f"ORDER BY `{table.time_column}` DESC, `{table.id_column}` DESC LIMIT {{limit:UInt32}}"
        )
        rows = [self.view(table, row) for row in self._select(table.name, where, params, tail)]
        if not self._lists_singles(table, filters):
            return rows
        rows += self._singles(filters, params["limit"], newest_first=True)
        rows.sort(key=lambda r: (r[table.time_column], r[table.id_column]), reverse=True)
        return rows[: params["limit"]]

    def page(
        self, table: Table, filters: Filters, after: tuple[int, str] | None, size: int
    ) -> list[tuple[int, str, dict[str, Any]]]:
        """Oldest first from just after (time ns, id): playback reads a run in pages."""
        where, params = self.where(table, filters)
        if after is not None:
            where += (
                f" AND (`{table.time_column}`, `{table.id_column}`) > "
                "(fromUnixTimestamp64Nano({after_ts:Int64}), {after_id:String})"
            )
            params["after_ts"], params["after_id"] = after
        params["limit"] = size
        tail = f"ORDER BY `{table.time_column}`, `{table.id_column}` LIMIT {{limit:UInt32}}"
        rows = [self.view(table, row) for row in self._select(table.name, where, params, tail)]
        if self._lists_singles(table, filters):
            # singles at the time of `after` come back with it: their ids are not in SQL
            since = filters.since_ns if after is None else max(after[0], filters.since_ns or 0)
            singles = self._singles(
                Filters(**{**filters.__dict__, "since_ns": since}), size, newest_first=False
            )
            rows += [
                r
                for r in singles
                if after is None or (r[table.time_column], r[table.id_column]) > after
            ]
            rows.sort(key=lambda r: (r[table.time_column], r[table.id_column]))
            rows = rows[:size]
        return [(int(r[table.time_column]), str(r[table.id_column]), r) for r in rows]

    # ------------------------------------------------------------------ singles

    @staticmethod
    def _lists_singles(table: Table, filters: Filters) -> bool:
        return table is PACKETS and filters.kind in (None, "single") and not filters.on_legs

    def _singles(self, filters: Filters, limit: int, *, newest_first: bool) -> list[dict[str, Any]]:
        """The lone prints' single packets the filters select (ts_start is the print's
        ts_event), at most `limit` of them."""
        clauses: list[str] = []
        spans: list[str] = []
        params: dict[str, Any] = {"run_id": filters.run_id, "limit": limit}
        if filters.symbols:
            clauses.append("underlying IN {symbols:Array(String)}")
            params["symbols"] = filters.symbols
        if filters.since_ns is not None:
            spans.append("ts_event >= fromUnixTimestamp64Nano({since:Int64})")
            params["since"] = filters.since_ns
        if filters.until_ns is not None:
            spans.append("ts_event < fromUnixTimestamp64Nano({until:Int64})")
            params["until"] = filters.until_ns
        if filters.min_money_cents is not None:
            clauses.append("premium_cents >= {min_money:Int64}")
            params["min_money"] = filters.min_money_cents
        span = " AND ".join(spans) or "1"
        rows = single_rows(
            self.warehouse,
            params,
            where=" AND ".join([*clauses, *spans]) or "1",
            members=span,
            prints=span,
            newest_first=newest_first,
        )
        views = []
        for row in rows:
            view = single_packet(filters.run_id, row)
            self.single_ids.remember(filters.run_id, view["packet_id"], key_of(row))
            view["log_seq"] = 0
            views.append(view)
        return views

    # ------------------------------------------------------------------ one packet

    def packet_evidence(
        self, run_id: str, packet_id: str, ts_ms: int | None = None
    ) -> dict[str, Any] | None:
        """The packet, its member prints (with the NBBO and inference used), hits and alerts;
        `ts_ms` (its ts_start in ms, when known) finds a lone print's single without a scan."""
        found = self._select(
            PACKETS.name,
            "run_id = {run_id:String} AND packet_id = {packet_id:String}",
            {"run_id": run_id, "packet_id": packet_id},
            "LIMIT 1",
        )
        lone: PrintKey | None = None
        if found:
            packet = self.view(PACKETS, found[0])
        else:
            lone = self.single_ids.find(self.warehouse, run_id, packet_id, ts_ms)
            single = None if lone is None else self._single(run_id, lone)
            if single is None:
                return None
            packet = single
        packet["members"] = self._members(packet, lone)
        filters = Filters(
            run_id=run_id, symbols=[packet["underlying"]], packet_id=packet_id, limit=MAX_LIMIT
        )
        return {
            "packet": packet,
            "hits": self.latest(HITS, filters),
            "alerts": self.latest(ALERTS, filters),
        }

    def _single(self, run_id: str, key: PrintKey) -> dict[str, Any] | None:
        """The single packet of the lone print `key`."""
        params = dict(
            zip(("run_id", "limit", "iid", "pid", "ts", "seq"), (run_id, 1, *key), strict=True)
        )
        where = (
            "instrument_id = {iid:UInt32} AND publisher_id = {pid:UInt16} "
            "AND ts_event = fromUnixTimestamp64Nano({ts:Int64}) AND sequence = {seq:UInt64}"
        )
        span = "ts_event = fromUnixTimestamp64Nano({ts:Int64})"
        rows = single_rows(self.warehouse, params, where=where, members=span, prints=span)
        if not rows:
            return None
        packet = single_packet(run_id, rows[0])
        packet["log_seq"] = 0
        return packet

    def _members(self, packet: dict[str, Any], lone: PrintKey | None) -> list[dict[str, Any]]:
        """The packet's member prints: membership from packet_prints (or the `lone` print of
        a single), the inference from print_inference, the print from option_prints."""
        membership = (
            "SELECT instrument_id, publisher_id, ts_event, sequence FROM packet_prints "
            "WHERE run_id = {run_id:String} AND packet_id = {packet_id:String}"
            if lone is None
            else "SELECT toUInt32({iid:UInt32}) AS instrument_id, "
            "toUInt16({pid:UInt16}) AS publisher_id, "
            "fromUnixTimestamp64Nano({ts:Int64}) AS ts_event, toUInt64({seq:UInt64}) AS sequence"
        )
        iid, pid, ts, seq = lone or (0, 0, 0, 0)
        result = self.warehouse.client.query(
            _MEMBERS.replace("{membership}", membership),
            parameters={
                "run_id": packet["run_id"],
                "packet_id": packet["packet_id"],
                "underlying": packet["underlying"],
                "start": packet["ts_start"],
                "end": packet["ts_end"],
                "iid": iid,
                "pid": pid,
                "ts": ts,
                "seq": seq,
            },
        )
        names = list(result.column_names)
        symbols = {leg["instrument_id"]: leg["symbol"] for leg in packet.get("legs", [])}
        members = []
        for row in result.result_rows:
            found = dict(zip(names, row, strict=True))
            found["symbol"] = found["symbol"] or symbols.get(found["instrument_id"])
            members.append(with_dollars(found))
        return members

    # ------------------------------------------------------------------ runs

    def run_known(self, run_id: str) -> bool:
        """Registered in `runs`, or holding any derived row."""
        return bool(
            self.warehouse.scalar(
                "SELECT (SELECT count() FROM runs WHERE run_id = {r:String}) "
                "+ (SELECT count() FROM print_inference WHERE run_id = {r:String}) "
                "+ (SELECT count() FROM flow_packets WHERE run_id = {r:String}) "
                "+ (SELECT count() FROM alerts WHERE run_id = {r:String}) "
                "+ (SELECT count() FROM classifier_hits WHERE run_id = {r:String})",
                {"r": run_id},
            )
        )

    def unregistered_runs(self, registered: set[str]) -> list[str]:
        """Run ids with derived rows but no row in `runs` (the live run, typically)."""
        rows = self.warehouse.rows(
            "SELECT DISTINCT run_id FROM print_inference UNION DISTINCT "
            "SELECT DISTINCT run_id FROM flow_packets UNION DISTINCT "
            "SELECT DISTINCT run_id FROM alerts"
        )
        return sorted({str(r[0]) for r in rows} - registered)


def _leg_terms(filters: Filters, params: dict[str, Any]) -> str:
    """What one leg must meet: its DTE within the range, its day volume above its OI."""
    terms = []
    for name, compare in (("dte_min", ">="), ("dte_max", "<=")):
        bound = getattr(filters, name)
        if bound is not None:
            terms.append(f"leg.dte {compare} {{{name}:Int32}}")
            params[name] = bound
    if filters.vol_over_oi:
        terms.append("ifNull(leg.open_interest, 0) > 0 AND leg.day_volume > leg.open_interest")
    return "(" + " AND ".join(terms) + ")"

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

from api.views import plain, with_dollars
from infra.warehouse import Warehouse
from schemas.errors import FlowtapeError
from schemas.events import Alert, ClassifierHit, DarkPoolEvent, Event, FlowPacket

MAX_LIMIT = 5000


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
    limit: int = 100


@cache
def _json_fields(event_type: type[Event]) -> dict[str, Any]:
    """Fields stored as JSON text (lists of nested records), with their types."""
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
            data[name] = msgspec.json.decode(text, type=field_type) if text else []
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
        return " AND ".join(clauses), params

    def latest(self, table: Table, filters: Filters) -> list[dict[str, Any]]:
        """Newest first by the table's event time (ties by id, descending)."""
        where, params = self.where(table, filters)
        params["limit"] = max(0, min(filters.limit, MAX_LIMIT))
        tail = (
            f"ORDER BY `{table.time_column}` DESC, `{table.id_column}` DESC LIMIT {{limit:UInt32}}"
        )
        return [self.view(table, row) for row in self._select(table.name, where, params, tail)]

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
        rows = self._select(table.name, where, params, tail)
        return [
            (int(row[table.time_column]), str(row[table.id_column]), self.view(table, row))
            for row in rows
        ]

    # ------------------------------------------------------------------ one packet

    def packet_evidence(self, run_id: str, packet_id: str) -> dict[str, Any] | None:
        """The packet, its member prints (with the NBBO and inference used), hits and alerts."""
        found = self._select(
            PACKETS.name,
            "run_id = {run_id:String} AND packet_id = {packet_id:String}",
            {"run_id": run_id, "packet_id": packet_id},
            "LIMIT 1",
        )
        if not found:
            return None
        packet = self.view(PACKETS, found[0])
        packet["members"] = self._members(packet)
        filters = Filters(
            run_id=run_id, symbols=[packet["underlying"]], packet_id=packet_id, limit=MAX_LIMIT
        )
        return {
            "packet": packet,
            "hits": self.latest(HITS, filters),
            "alerts": self.latest(ALERTS, filters),
        }

    def _members(self, packet: dict[str, Any]) -> list[dict[str, Any]]:
        symbols = {leg["instrument_id"]: leg["symbol"] for leg in packet.get("legs", [])}
        result = self.warehouse.client.query(
            """
            SELECT p.instrument_id AS instrument_id, p.publisher_id AS publisher_id,
                   toUnixTimestamp64Nano(p.ts_event) AS ts_event, p.sequence AS sequence,
                   p.price AS price, p.size AS size, toString(p.side) AS side,
                   toString(p.bucket) AS bucket, p.nbbo_bid_px AS nbbo_bid_px,
                   p.nbbo_ask_px AS nbbo_ask_px, i.symbol AS symbol, i.rule AS rule,
                   i.confidence AS confidence, i.nbbo_status AS nbbo_status,
                   i.nbbo_bid_sz AS nbbo_bid_sz, i.nbbo_ask_sz AS nbbo_ask_sz,
                   i.nbbo_ts_recv AS nbbo_ts_recv, i.ts_recv AS ts_recv, i.late AS late
            FROM packet_prints AS p
            LEFT JOIN (
                SELECT publisher_id, instrument_id, sequence, ts_event, symbol,
                       toString(rule) AS rule, confidence, toString(nbbo_status) AS nbbo_status,
                       nbbo_bid_sz, nbbo_ask_sz,
                       toUnixTimestamp64Nano(nbbo_ts_recv) AS nbbo_ts_recv,
                       toUnixTimestamp64Nano(ts_recv) AS ts_recv, late
                FROM print_inference
                WHERE run_id = {run_id:String} AND underlying = {underlying:String}
                  AND ts_event >= fromUnixTimestamp64Nano({start:Int64})
                  AND ts_event <= fromUnixTimestamp64Nano({end:Int64})
            ) AS i
              ON i.publisher_id = p.publisher_id AND i.instrument_id = p.instrument_id
             AND i.sequence = p.sequence AND i.ts_event = p.ts_event
            WHERE p.run_id = {run_id:String} AND p.packet_id = {packet_id:String}
            ORDER BY p.ts_event, p.publisher_id, p.instrument_id, p.sequence
            SETTINGS join_use_nulls = 1
            """,
            parameters={
                "run_id": packet["run_id"],
                "packet_id": packet["packet_id"],
                "underlying": packet["underlying"],
                "start": packet["ts_start"],
                "end": packet["ts_end"],
            },
        )
        names = list(result.column_names)
        members = []
        for row in result.result_rows:
            member = dict(zip(names, row, strict=True))
            member["symbol"] = member["symbol"] or symbols.get(member["instrument_id"])
            members.append(with_dollars(member))
        return members

    # ------------------------------------------------------------------ runs

    def run_known(self, run_id: str) -> bool:
        """Registered in `runs`, or holding any derived row."""
        return bool(
            self.warehouse.scalar(
                "SELECT (SELECT count() FROM runs WHERE run_id = {r:String}) "
                "+ (SELECT count() FROM flow_packets WHERE run_id = {r:String}) "
                "+ (SELECT count() FROM alerts WHERE run_id = {r:String}) "
                "+ (SELECT count() FROM classifier_hits WHERE run_id = {r:String})",
                {"r": run_id},
            )
        )

    def unregistered_runs(self, registered: set[str]) -> list[str]:
        """Run ids with derived rows but no row in `runs` (the live run, typically)."""
        rows = self.warehouse.rows(
            "SELECT DISTINCT run_id FROM flow_packets UNION DISTINCT "
            "SELECT DISTINCT run_id FROM alerts"
        )
        return sorted({str(r[0]) for r in rows} - registered)

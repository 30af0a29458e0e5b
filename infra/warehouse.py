"""ClickHouse: events to Arrow tables, atomic batch inserts, queries.

Column names are event field names, plus `run_id` and `log_seq` (the JetStream stream
sequence the row came in; 0 for rows a replay wrote directly). Conversion rules:
`ts_*` / `expiration` integers -> DateTime64(9) (None -> NULL), lists and maps of scalars ->
Array / Map, lists of nested records -> JSON text. PrintInference and FlowPacket events go to
the tables of `schemas.derived_tables` instead (`infra.derived_arrow`): print_inference,
flow_packets and packet_prints; MBO and MBP-10 venue events keep their records typed
(`infra.book_arrow`), alpha frames their expiries (`infra.alpha_arrow`). Heartbeats are
liveness, not data: they stay on the log only.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import clickhouse_connect
import msgspec
import numpy as np
import pyarrow as pa
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import OperationalError

from infra.alpha_arrow import alpha_frames_table
from infra.book_arrow import book_events_table
from infra.derived_arrow import (
    columns_of,
    flagged_packets,
    flow_packets_table,
    packet_prints_table,
    packets_with_rows,
    print_inference_table,
)
from schemas.book import BOOK_RAW_EVENTS, MboEvent, Mbp10Event
from schemas.cme import (
    CME_RAW_EVENTS,
    AlphaFrame,
    CmeInstrument,
    CmeQuote,
    CmeStatistic,
    CmeTrade,
)
from schemas.crypto import (
    BookUpdate,
    CryptoFeatures,
    CryptoQuote,
    CryptoSignal,
    CryptoTrade,
    MarkPrice,
    ProviderGap,
    ProviderHeartbeat,
    ProviderSwitch,
)
from schemas.derived_tables import STORED_PREFIX
from schemas.errors import ConfigError, ServerError
from schemas.events import (
    Alert,
    ClassifierHit,
    DarkPoolEvent,
    EquityPrint,
    EquityQuote,
    Event,
    FlowPacket,
    Gap,
    Heartbeat,
    OpenInterest,
    OptionContract,
    OptionPrint,
    OptionQuote,
    PrintInference,
    Quarantined,
)

# clickhouse-connect logs a failed request itself before raising; the error reaches users
# once, as ours. Services that configure logging still see its records (they propagate).
logging.getLogger("clickhouse_connect").addHandler(logging.NullHandler())

TABLES: dict[type[Event], str] = {
    OptionContract: "contracts",
    OptionPrint: "option_prints",
    OptionQuote: "option_quotes",
    EquityPrint: "equity_prints",
    EquityQuote: "equity_quotes",
    OpenInterest: "open_interest",
    Gap: "gaps",
    Quarantined: "quarantine",
    PrintInference: "print_inference",
    FlowPacket: "flow_packets",
    ClassifierHit: "classifier_hits",
    Alert: "alerts",
    DarkPoolEvent: "darkpool_events",
    CryptoTrade: "crypto_trades",
    CryptoQuote: "crypto_quotes",
    BookUpdate: "crypto_book_updates",
    MarkPrice: "crypto_mark_prices",
    ProviderHeartbeat: "provider_heartbeats",
    ProviderGap: "provider_gaps",
    ProviderSwitch: "provider_switches",
    CryptoFeatures: "crypto_features",
    CryptoSignal: "crypto_signals",
    MboEvent: "mbo_events",
    Mbp10Event: "mbp10_events",
    CmeInstrument: "cme_instruments",
    CmeTrade: "cme_trades",
    CmeQuote: "cme_quotes",
    CmeStatistic: "cme_statistics",
    AlphaFrame: "alpha_frames",
}
NOT_STORED: frozenset[type[Event]] = frozenset({Heartbeat})
MARKET_EVENTS: tuple[type[Event], ...] = (
    OptionContract,
    OptionPrint,
    OptionQuote,
    EquityPrint,
    EquityQuote,
    OpenInterest,
)
PRINT_INFERENCE = TABLES[PrintInference]
FLOW_PACKETS = TABLES[FlowPacket]
PACKET_PRINTS = "packet_prints"
EVENT_TABLES: tuple[str, ...] = (*TABLES.values(), PACKET_PRINTS)

_TIMESTAMP = pa.timestamp("ns", tz="UTC")
_SCALARS: dict[type[msgspec.inspect.Type], pa.DataType] = {
    msgspec.inspect.IntType: pa.int64(),
    msgspec.inspect.FloatType: pa.float64(),
    msgspec.inspect.BoolType: pa.bool_(),
    msgspec.inspect.StrType: pa.string(),
    msgspec.inspect.BytesType: pa.binary(),
}
_json = msgspec.json.Encoder()


def _is_timestamp(name: str) -> bool:
    return (
        name.startswith("ts_")
        or name.endswith("_ts_recv")
        or name
        in {
            "expiration",
            "first_ts_recv",
            "last_ts_recv",
        }
    )


def _scalar_type(info: msgspec.inspect.Type) -> pa.DataType | None:
    if isinstance(info, msgspec.inspect.UnionType):
        kinds = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
        return _scalar_type(kinds[0]) if len(kinds) == 1 else None
    if isinstance(info, msgspec.inspect.LiteralType):
        return pa.string() if all(isinstance(v, str) for v in info.values) else pa.int64()
    return _SCALARS.get(type(info))


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    arrow_type: pa.DataType
    nested: bool = False  # nested records, stored as JSON text


@cache
def _columns(event_type: type[Event]) -> tuple[_Column, ...]:
    info = msgspec.inspect.type_info(event_type)
    if not isinstance(info, msgspec.inspect.StructType):
        raise TypeError(f"{event_type.__name__} is not a struct")
    columns: list[_Column] = []
    for field in info.fields:
        scalar = _scalar_type(field.type)
        if scalar is not None:
            arrow_type = _TIMESTAMP if _is_timestamp(field.name) else scalar
            columns.append(_Column(field.name, arrow_type))
            continue
        if isinstance(field.type, msgspec.inspect.ListType):
            item = _scalar_type(field.type.item_type)
            if item is not None:
                columns.append(_Column(field.name, pa.list_(item)))
                continue
        if isinstance(field.type, msgspec.inspect.DictType):
            value = _scalar_type(field.type.value_type)
            if value is not None:
                columns.append(_Column(field.name, pa.map_(pa.string(), value)))
                continue
        columns.append(_Column(field.name, pa.string(), nested=True))
    return tuple(columns)


def _json_array(values: list[Any]) -> pa.Array:
    """Values as JSON text: one encoder call for the whole column, split at its line ends.

    JSON text never holds a raw newline byte (strings escape it), so each line is one value.
    """
    lines = _json.encode_lines(values)
    if len(lines) >= 2**31:  # beyond 32-bit string offsets: let pyarrow chunk it
        return pa.array([_json.encode(v).decode() for v in values], pa.string())
    ends = np.flatnonzero(np.frombuffer(lines, np.uint8) == ord("\n"))
    offsets = np.empty(len(values) + 1, np.int32)
    offsets[0] = 0
    offsets[1:] = ends - np.arange(len(values))
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(lines.replace(b"\n", b""))]
    return pa.Array.from_buffers(pa.string(), len(values), buffers)


def _array(values: list[Any], column: _Column) -> pa.Array:
    if column.nested:
        return _json_array(values)
    if column.arrow_type == _TIMESTAMP:  # same array, built without per-value conversion
        return pa.array(values, pa.int64()).view(_TIMESTAMP)
    return pa.array(values, column.arrow_type)


def _repeated(value: Any, arrow_type: pa.DataType, count: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, arrow_type), count)


def _log_seq_array(log_seqs: Sequence[int]) -> pa.Array:
    if log_seqs and log_seqs.count(log_seqs[0]) == len(log_seqs):  # a replay: all 0
        return _repeated(log_seqs[0], pa.uint64(), len(log_seqs))
    return pa.array(log_seqs, pa.uint64())


def events_to_arrow(events: Sequence[Event], *, run_id: str, log_seqs: Sequence[int]) -> pa.Table:
    """Events of one type as an Arrow table with `run_id` and `log_seq` columns.

    Derived events carry their own `run_id` field, which then fills the column.
    """
    if not events:
        raise ValueError("expected at least one event")
    if len(log_seqs) != len(events):
        raise ValueError(f"expected one log_seq per event ({len(events)}), got {len(log_seqs)}")
    by_name = columns_of(events, type(events[0]))
    arrays: dict[str, pa.Array] = {
        "run_id": _repeated(run_id, pa.string(), len(events)),
        "log_seq": _log_seq_array(log_seqs),
    }
    for column in _columns(type(events[0])):
        arrays[column.name] = _array(by_name[column.name], column)
    return pa.table(arrays)


def stored_table(table: pa.Table, *, run_id: str, log_seqs: Sequence[int]) -> pa.Table:
    """A derived table as stored: `run_id` and `log_seq` in front of its columns."""
    if len(log_seqs) != table.num_rows:
        raise ValueError(f"expected one log_seq per row ({table.num_rows}), got {len(log_seqs)}")
    prefix = [_repeated(run_id, pa.string(), table.num_rows), _log_seq_array(log_seqs)]
    return pa.Table.from_arrays(
        [*prefix, *table.columns], schema=pa.unify_schemas([STORED_PREFIX, table.schema])
    )


def _derived_tables(
    event_type: type[Event], group: list[Event], seqs: list[int], run_id: str, flagged: set[str]
) -> dict[str, pa.Table]:
    """The `schemas.derived_tables` tables of one type of derived event."""
    if event_type is PrintInference:
        inferences = cast(list[PrintInference], group)
        table = print_inference_table(inferences)
        return {PRINT_INFERENCE: stored_table(table, run_id=run_id, log_seqs=seqs)}
    packets = cast(list[FlowPacket], group)
    kept = packets_with_rows(packets, flagged)
    if not kept:
        return {}
    rows = [packets[i] for i in kept]
    row_seqs = [seqs[i] for i in kept]
    tables = {
        FLOW_PACKETS: stored_table(flow_packets_table(rows), run_id=run_id, log_seqs=row_seqs)
    }
    member_seqs = [seq for packet, seq in zip(rows, row_seqs, strict=True) for _ in packet.members]
    if member_seqs:
        members = packet_prints_table(rows)
        tables[PACKET_PRINTS] = stored_table(members, run_id=run_id, log_seqs=member_seqs)
    return tables


def tables_for(
    events: Sequence[Event], *, run_id: str, log_seqs: Sequence[int]
) -> dict[str, pa.Table]:
    """Group events by type into the Arrow tables they are stored in.

    FlowPackets get a row only when worth one (`schemas.derived_tables.packet_gets_row`),
    flagged by the hits and alerts among `events`: give a step's outputs together.
    """
    if len(log_seqs) != len(events):
        raise ValueError(f"expected one log_seq per event ({len(events)}), got {len(log_seqs)}")
    grouped: defaultdict[type[Event], list[Event]] = defaultdict(list)
    seqs_by_type: defaultdict[type[Event], list[int]] = defaultdict(list)
    same_seq = not events or log_seqs.count(log_seqs[0]) == len(log_seqs)
    if same_seq:  # a replay or one log message: group the events alone
        for event in events:
            grouped[type(event)].append(event)
    else:
        for event, log_seq in zip(events, log_seqs, strict=True):
            grouped[type(event)].append(event)
            seqs_by_type[type(event)].append(log_seq)
    flagged = flagged_packets(events) if FlowPacket in grouped else set()
    tables: dict[str, pa.Table] = {}
    for event_type, group in grouped.items():
        if event_type in NOT_STORED:
            continue
        seqs = [log_seqs[0]] * len(group) if same_seq else seqs_by_type[event_type]
        if event_type in (PrintInference, FlowPacket):
            tables.update(_derived_tables(event_type, group, seqs, run_id, flagged))
        elif event_type in BOOK_RAW_EVENTS:
            books = book_events_table(cast(list[MboEvent] | list[Mbp10Event], group))
            tables[TABLES[event_type]] = stored_table(books, run_id=run_id, log_seqs=seqs)
        elif event_type is AlphaFrame:
            frames = alpha_frames_table(cast(list[AlphaFrame], group))
            tables[TABLES[event_type]] = stored_table(frames, run_id=run_id, log_seqs=seqs)
        else:
            tables[TABLES[event_type]] = events_to_arrow(group, run_id=run_id, log_seqs=seqs)
    return tables


def parse_clickhouse_url(url: str) -> dict[str, Any]:
    """`http://user:password@host:port/database` -> clickhouse-connect keyword arguments."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"CLICKHOUSE_URL must look like http://host:8123[/database], got {url!r}")
    kwargs: dict[str, Any] = {
        "host": parts.hostname,
        "port": parts.port or (8443 if parts.scheme == "https" else 8123),
        "secure": parts.scheme == "https",
        "username": urllib.parse.unquote(parts.username or "default"),
        "password": urllib.parse.unquote(parts.password or ""),
    }
    database = parts.path.strip("/")
    if database:
        kwargs["database"] = database
    return kwargs


_INSERT_SETTINGS = {"optimize_on_insert": 0}


class Warehouse:
    """A ClickHouse client bound to flowtape's database.

    A comma-separated URL names the shards of a sharded ClickHouse (infra/chcluster.py), in
    shard order, each shard as its replicas' URLs joined by `|` when it has several
    (ReplicatedMergeTree, ops/deploy/clickhouse/). The client talks to the first server,
    which reads and writes every shard through the Distributed tables; `replica_urls` keeps
    them all, for what works on each shard (its first replica) or each replica.
    """

    def __init__(
        self,
        client: Client,
        database: str,
        url: str | None = None,
        replica_urls: tuple[tuple[str, ...], ...] = (),
    ) -> None:
        self.client = client
        self.database = database
        self.url = url  # what `connect` was given: other processes can connect alike
        self.replica_urls = replica_urls

    @property
    def shard_urls(self) -> tuple[str, ...]:
        """Each shard's first replica."""
        return tuple(replicas[0] for replicas in self.replica_urls)

    @property
    def replicated(self) -> bool:
        return any(len(replicas) > 1 for replicas in self.replica_urls)

    @property
    def sharded(self) -> bool:
        """A cluster of shards (or of one shard's replicas), not one server."""
        return len(self.replica_urls) > 1 or self.replicated

    def connect_each(self, urls: Sequence[str]) -> list[Warehouse]:
        """A Warehouse on each of `urls`, same database (the caller closes them)."""
        connected: list[Warehouse] = []
        try:
            for url in urls:
                connected.append(Warehouse.connect(url, self.database))
        except BaseException:
            for warehouse in connected:
                warehouse.close()
            raise
        return connected

    def connect_shards(self) -> list[Warehouse]:
        """A Warehouse on each shard's first replica (the caller closes them)."""
        return self.connect_each(self.shard_urls)

    @classmethod
    def connect(cls, url: str, database: str | None = None, *, create: bool = True) -> Warehouse:
        groups = tuple(
            tuple(replica.strip() for replica in shard.split("|") if replica.strip())
            for shard in url.split(",")
            if shard.strip()
        )
        if len(groups) > 1 or (groups and len(groups[0]) > 1):
            warehouse = cls.connect(groups[0][0], database, create=create)
            warehouse.url, warehouse.replica_urls = url, groups
            return warehouse
        kwargs = parse_clickhouse_url(url)
        database = database or kwargs.pop("database", None) or "flowtape"
        kwargs.pop("database", None)
        try:
            client = clickhouse_connect.get_client(
                **kwargs, database="default", autogenerate_session_id=False
            )
        except OperationalError as exc:
            where = f"{kwargs.get('host')}:{kwargs.get('port')}"
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ServerError(f"ClickHouse at {where} is unreachable: {reason}") from exc
        if create:
            client.command(f"CREATE DATABASE IF NOT EXISTS `{database}`")
        client.database = database
        return cls(client, database, url)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        return self.client.command(sql, parameters=parameters)

    def rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return list(self.client.query(sql, parameters=parameters).result_rows)

    def scalar(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        rows = self.rows(sql, parameters)
        return rows[0][0] if rows else None

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        """One atomic insert of a whole Arrow table.

        `optimize_on_insert` off: the views' target tables would otherwise merge each
        inserted block by their keys, rows the view's GROUP BY has already merged (the views
        cost about a third less without it; background merges and -Merge queries still
        combine blocks).
        """
        self.client.insert_arrow(table, data, database=self.database, settings=_INSERT_SETTINGS)

    def insert_events(
        self, events: Sequence[Event], *, run_id: str, log_seq: int | Sequence[int] = 0
    ) -> dict[str, int]:
        """Insert events (any mix of types), one insert per table; returns rows per table."""
        seqs = [log_seq] * len(events) if isinstance(log_seq, int) else list(log_seq)
        counts: dict[str, int] = {}
        for table, data in tables_for(events, run_id=run_id, log_seqs=seqs).items():
            self.insert_arrow(table, data)
            counts[table] = data.num_rows
        return counts

    def read_events(self, event_type: type[Event], *, run_id: str, where: str = "") -> list[Event]:
        """Stored market events of one type for a run, as events again (for replays); the
        options flow's (`MARKET_EVENTS`) or CME's (`schemas.cme.CME_RAW_EVENTS`)."""
        if event_type not in MARKET_EVENTS + CME_RAW_EVENTS:
            raise ValueError(f"only market events are read back, not {event_type.__name__}")
        columns = _columns(event_type)
        select = ", ".join(
            f"toUnixTimestamp64Nano(`{c.name}`)" if c.arrow_type == _TIMESTAMP else f"`{c.name}`"
            for c in columns
        )
        sql = f"SELECT {select} FROM `{TABLES[event_type]}` WHERE run_id = {{run_id:String}}"  # noqa: S608  (names from our own tables)
        if where:
            sql += f" AND ({where})"
        names = [c.name for c in columns]
        rows = self.client.query(sql, parameters={"run_id": run_id}).result_rows
        return [
            msgspec.convert(dict(zip(names, row, strict=True)), event_type, strict=False)
            for row in rows
        ]

    def max_log_seq(self, table: str) -> int:
        """The largest log_seq stored in `table` (0 when empty)."""
        return int(self.scalar(f"SELECT max(log_seq) FROM `{table}`") or 0)  # noqa: S608  (table from EVENT_TABLES)

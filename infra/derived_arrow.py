"""The struct engine's derived events as the tables of `schemas.derived_tables`.

`print_inference_table` and `packet_tables` turn PrintInference and FlowPacket events into
exactly the Arrow tables the columnar engine builds from its arrays: same columns, types and
rows, so the two can be compared and either stored. Packets not worth a row are left out
(`packet_gets_row`); whether a packet is flagged is told by the hits and alerts beside it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from schemas import derived_tables as contract
from schemas.events import (
    Alert,
    ClassifierHit,
    Event,
    FlowPacket,
    MemberPrint,
    PacketLeg,
    PrintInference,
)

# Transposing rows into columns chunk by chunk keeps the rows in cache: about half the cost
# of one `zip(*rows)` over a whole batch.
_ROWS_PER_CHUNK = 1024


def field_values(records: Sequence[msgspec.Struct], width: int) -> list[list[Any]]:
    """Every field's values, one list per field in `__struct_fields__` order."""
    columns: list[list[Any]] = [[] for _ in range(width)]
    extends = [column.extend for column in columns]
    astuple = msgspec.structs.astuple
    for start in range(0, len(records), _ROWS_PER_CHUNK):
        rows = map(astuple, records[start : start + _ROWS_PER_CHUNK])
        for extend, values in zip(extends, zip(*rows, strict=True), strict=True):
            extend(values)
    return columns


def columns_of(
    records: Sequence[msgspec.Struct], struct_type: type[msgspec.Struct]
) -> dict[str, list[Any]]:
    """Field name -> its values over `records` (all of type `struct_type`)."""
    fields = struct_type.__struct_fields__
    return dict(zip(fields, field_values(records, len(fields)), strict=True))


def _array(values: Sequence[Any], arrow_type: pa.DataType) -> pa.Array:
    if arrow_type == contract.TIMESTAMP:  # same array, built without per-value conversion
        return pa.array(values, pa.int64()).view(contract.TIMESTAMP)
    return pa.array(values, arrow_type)


def _table(schema: pa.Schema, values: dict[str, Any]) -> pa.Table:
    """The schema's columns from `values`: lists of Python values, or Arrow arrays as built."""
    arrays = []
    for field in schema:
        value = values[field.name]
        arrays.append(value if isinstance(value, pa.Array) else _array(value, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _rights(symbols: list[str]) -> pa.Array:
    """C or P from each OCC symbol (its ninth character from the end)."""
    marks = pc.utf8_slice_codeunits(pa.array(symbols, pa.string()), -9, -8)
    return pc.if_else(pc.equal(marks, "P"), "P", "C")


def _premiums(prices: list[int], sizes: list[int]) -> pa.Array:
    """Each print's premium in cents, exactly (in numpy when no product can overflow)."""
    price, size = np.asarray(prices, np.int64), np.asarray(sizes, np.int64)
    if len(price) and int(price.max()) * int(size.max()) * contract.STANDARD_MULTIPLIER >= 2**63:
        return pa.array(list(map(contract.premium_cents, prices, sizes)), pa.int64())
    return pa.array(price * size * contract.STANDARD_MULTIPLIER // contract.PREMIUM_DIVISOR)


def print_inference_table(inferences: Sequence[PrintInference]) -> pa.Table:
    """`print_inference` rows of the engine's PrintInference events."""
    values: dict[str, Any] = columns_of(inferences, PrintInference)
    values["right"] = _rights(values["symbol"])
    values["premium_cents"] = _premiums(values["price"], values["size"])
    return _table(contract.PRINT_INFERENCE, values)


def _legs(packets: Sequence[FlowPacket]) -> pa.Array:
    legs: list[PacketLeg] = [leg for packet in packets for leg in packet.legs]
    values = columns_of(legs, PacketLeg)
    struct = pa.StructArray.from_arrays(
        [_array(values[field.name], field.type) for field in contract.LEG],
        fields=list(contract.LEG),
    )
    counts = np.fromiter((len(p.legs) for p in packets), np.int32, len(packets))
    offsets = np.zeros(len(packets) + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), struct, type=pa.list_(contract.LEG))


def flagged_packets(events: Sequence[Event]) -> set[str]:
    """The packet ids a classifier hit or an alert among `events` names."""
    return {e.packet_id for e in events if isinstance(e, ClassifierHit | Alert)}


def packets_with_rows(packets: Sequence[FlowPacket], flagged: Collection[str]) -> list[int]:
    """Positions of the packets worth a row."""
    return [
        i
        for i, p in enumerate(packets)
        if contract.packet_gets_row(p.kind, p.n_prints, p.packet_id in flagged)
    ]


def flow_packets_table(packets: Sequence[FlowPacket]) -> pa.Table:
    """`flow_packets` rows of packets (all of them: choose them with `packets_with_rows`)."""
    values: dict[str, Any] = columns_of(packets, FlowPacket)
    values["legs"] = _legs(packets)
    for bucket, column in contract.BUCKET_COLUMNS.items():
        values[column] = [counts.get(bucket, 0) for counts in values["bucket_counts"]]
    return _table(contract.FLOW_PACKETS, values)


def packet_prints_table(packets: Sequence[FlowPacket]) -> pa.Table:
    """`packet_prints` rows: each member of each packet, in member order."""
    members: list[MemberPrint] = [m for packet in packets for m in packet.members]
    values: dict[str, Any] = columns_of(members, MemberPrint)
    owners = np.repeat(
        np.arange(len(packets)), np.fromiter((len(p.members) for p in packets), np.int64)
    )
    values["packet_id"] = pa.array([p.packet_id for p in packets], pa.string()).take(owners)
    starts = pa.array([p.ts_start for p in packets], pa.int64()).take(owners)
    values["ts_start"] = starts.view(contract.TIMESTAMP)
    return _table(contract.PACKET_PRINTS, values)

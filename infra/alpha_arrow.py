"""Alpha frames (`schemas.cme.AlphaFrame`) as the rows of `alpha_frames`: one row per frame,
its expiries in front-first order as one list of typed structs (ClickHouse
`Array(Tuple(...))`), the read side's tuples turned back into `ExpiryFrame`s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from infra.derived_arrow import columns_of
from schemas.cme import AlphaFrame, ExpiryFrame
from schemas.derived_tables import TIMESTAMP

EXPIRY = pa.struct(
    [
        ("expiration", TIMESTAMP),
        ("underlying_symbol", pa.string()),
        ("time_to_expiry", pa.float64()),
        ("forward", pa.int64()),
        ("forward_strikes", pa.int64()),
        ("atm_iv", pa.float64()),
        ("call25_iv", pa.float64()),
        ("put25_iv", pa.float64()),
        ("rr25", pa.float64()),
        ("iv_strikes", pa.int64()),
        ("fresh_strikes", pa.int64()),
        ("max_quote_age_ms", pa.int64()),
        ("iv_rejected", pa.int64()),
        ("underlying_mid", pa.int64()),
    ]
)
ALPHA_FRAMES = pa.schema(
    [
        ("ts_recv", TIMESTAMP),
        ("frame_id", pa.string()),
        ("root", pa.string()),
        ("front_symbol", pa.string()),
        ("cme_fwd_mid", pa.int64()),
        ("atm_iv", pa.float64()),
        ("rr25", pa.float64()),
        ("iv_term_slope", pa.float64()),
        ("skew_signal", pa.float64()),
        ("signed_flow_10", pa.int64()),
        ("trades_10", pa.int64()),
        ("imb_5", pa.float64()),
        ("book_levels", pa.int64()),
        ("funding", pa.int64()),
        ("health", pa.string()),
        ("health_reason", pa.string()),
        ("expiries", pa.list_(EXPIRY)),
        ("schema_version", pa.uint16()),
    ]
)
EXPIRY_FIELDS: tuple[str, ...] = tuple(field.name for field in EXPIRY)


def _array(values: Sequence[Any], arrow_type: pa.DataType) -> pa.Array:
    if arrow_type == TIMESTAMP:  # same array, built without per-value conversion
        return pa.array(values, pa.int64()).view(TIMESTAMP)
    return pa.array(values, arrow_type)


def _expiries(frames: Sequence[AlphaFrame]) -> pa.ListArray:
    groups = [frame.expiries for frame in frames]
    values = columns_of([e for group in groups for e in group], ExpiryFrame)
    items = pa.StructArray.from_arrays(
        [_array(values[field.name], field.type) for field in EXPIRY], fields=list(EXPIRY)
    )
    offsets = np.zeros(len(groups) + 1, np.int32)
    np.cumsum(np.fromiter(map(len, groups), np.int32, len(groups)), out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), items, type=pa.list_(EXPIRY))


def alpha_frames_table(frames: Sequence[AlphaFrame]) -> pa.Table:
    """The rows of `frames` (without `run_id` and `log_seq`)."""
    values = columns_of(frames, AlphaFrame)
    arrays = [
        _expiries(frames) if field.name == "expiries" else _array(values[field.name], field.type)
        for field in ALPHA_FRAMES
    ]
    return pa.Table.from_arrays(arrays, schema=ALPHA_FRAMES)


def expiry_from_row(values: Sequence[Any]) -> ExpiryFrame:
    """An `ExpiryFrame` from a stored tuple read with its expiration as integer ns."""
    return ExpiryFrame(**dict(zip(EXPIRY_FIELDS, values, strict=True)))

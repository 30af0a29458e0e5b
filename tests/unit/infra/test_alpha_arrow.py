"""Alpha frames as `alpha_frames` rows: one row per frame, its expiries typed and in order."""

from __future__ import annotations

from typing import Any

import msgspec
import pyarrow as pa

from infra.alpha_arrow import EXPIRY_FIELDS, alpha_frames_table, expiry_from_row
from schemas.cme import AlphaFrame, ExpiryFrame


def expiry(expiration: int, **fields: Any) -> ExpiryFrame:
    defaults: dict[str, Any] = dict(
        underlying_symbol="CLJ5", time_to_expiry=0.07, forward=71_230_000_000,
        forward_strikes=3, atm_iv=0.31, call25_iv=0.30, put25_iv=0.33, rr25=-3.0,
        iv_strikes=40, fresh_strikes=41, max_quote_age_ms=250,
    )  # fmt: skip
    return ExpiryFrame(expiration=expiration, **(defaults | fields))


def frame(ts: int, expiries: list[ExpiryFrame]) -> AlphaFrame:
    return AlphaFrame(
        ts_recv=ts, run_id="live", frame_id=f"f{ts}", root="CL", front_symbol="CLJ5",
        cme_fwd_mid=None, atm_iv=None, rr25=None, iv_term_slope=None, skew_signal=None,
        signed_flow_10=-4, trades_10=2, imb_5=0.25, book_levels=10, funding=None,
        health="stale_chain", health_reason="no_chain: no live option expiry", expiries=expiries,
    )  # fmt: skip


def test_each_frame_is_a_row_with_its_expiries_front_first() -> None:
    first = expiry(1_742_409_000_000_000_001, forward=None, atm_iv=None)
    second = expiry(1_745_000_000_000_000_000, underlying_symbol="CLK5", iv_rejected=2)
    frames = [frame(1_000, []), frame(2_000, [first, second]), frame(3_000, [second])]
    table = alpha_frames_table(frames)

    assert table.column("ts_recv").cast("int64").to_pylist() == [1_000, 2_000, 3_000]
    assert table.column("signed_flow_10").to_pylist() == [-4, -4, -4]
    stored = table.column("expiries").to_pylist()
    assert [len(row) for row in stored] == [0, 2, 1]
    # read back as the API reads it: tuples in field order, the expiration as integer ns
    items = table.column("expiries").combine_chunks().flatten()
    columns = [
        items.field(n).cast(pa.int64()) if n == "expiration" else items.field(n)
        for n in EXPIRY_FIELDS
    ]
    as_tuples = list(zip(*(column.to_pylist() for column in columns), strict=True))
    assert [expiry_from_row(values) for values in as_tuples] == [first, second, second]
    assert msgspec.structs.asdict(expiry_from_row(as_tuples[0]))["forward"] is None

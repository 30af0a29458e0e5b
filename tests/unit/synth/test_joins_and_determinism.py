from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest

from synth import SynthConfig, SyntheticSession, generate_session, write_session

from .conftest import SMALL

SIDED_KINDS = {"sweep", "golden_sweep", "split", "repeated_hits", "block", "side_probe"}


def _quote_rule(price: int, bid: int, ask: int) -> str:
    if price >= ask:
        return "buy"
    if price <= bid:
        return "sell"
    return "unknown"


def _planted_sided_prints(session: SyntheticSession, variant: str | None = None) -> list:
    return [
        m
        for label in session.labels
        if label.kind in SIDED_KINDS
        and label.variant not in ("mid", "at_mid")
        and (variant is None or label.variant == variant)
        for m in label.members
    ]


def _join_accuracy(
    session: SyntheticSession,
    arrays: dict[str, np.ndarray],
    how: str,
    variant: str | None = None,
) -> float:
    quotes = arrays["OPRA.PILLAR/cmbp-1"]
    members = _planted_sided_prints(session, variant)
    right = 0
    for m in members:
        mine = quotes[quotes["instrument_id"] == m.instrument_id]
        ts = mine["ts_recv"].astype(np.int64)
        if how == "asof":  # last quote strictly before the print
            i = int(np.searchsorted(ts, m.ts_recv, side="left")) - 1
        elif how == "nearest":  # closest quote in time, before or after
            i = int(np.argmin(np.abs(ts - m.ts_recv)))
        else:  # stale: a join that only sees quotes older than 100 us
            i = int(np.searchsorted(ts, m.ts_recv - 100_000, side="left")) - 1
        q = mine[i]
        right += _quote_rule(m.price, int(q["bid_px_00"]), int(q["ask_px_00"])) == m.side
    return right / len(members)


def test_backward_asof_join_classifies_every_planted_sided_print(
    session: SyntheticSession, arrays: dict[str, np.ndarray]
) -> None:
    assert _join_accuracy(session, arrays, "asof") == 1.0


def test_nearest_quote_join_mislabels_a_measurable_share_of_planted_prints(
    session: SyntheticSession, arrays: dict[str, np.ndarray]
) -> None:
    assert _join_accuracy(session, arrays, "nearest") < 0.85


def test_stale_join_mislabels_the_prints_whose_quote_moved_just_before(
    session: SyntheticSession, arrays: dict[str, np.ndarray]
) -> None:
    assert _join_accuracy(session, arrays, "stale", "moved_just_before") == 0.0
    assert _join_accuracy(session, arrays, "stale") < 1.0


def test_same_seed_writes_byte_identical_files(tmp_path: Path, written: list[Path]) -> None:
    again = write_session(generate_session(SMALL), tmp_path)
    assert [p.name for p in again] == [p.name for p in written]
    for a, b in zip(again, written, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_different_seed_gives_a_different_session(session: SyntheticSession) -> None:
    other = generate_session(SynthConfig(**{**_fields(SMALL), "seed": SMALL.seed + 1}))
    for key, f in session.files.items():
        if key.endswith("definition"):
            continue  # the chain depends on spot, which may round to the same strikes
        assert f.records.tobytes() != other.files[key].records.tobytes(), key
    assert [x.label_id for x in other.labels] != [x.label_id for x in session.labels] or [
        x.members for x in other.labels
    ] != [x.members for x in session.labels]


def test_config_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        generate_session(SynthConfig(date="20250220"))
    with pytest.raises(ValueError, match="minutes"):
        generate_session(SynthConfig(minutes=0))
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"seed": 1, "colour": "red"}', type=SynthConfig)


def _fields(config: SynthConfig) -> dict[str, object]:
    return {name: getattr(config, name) for name in config.__struct_fields__}

"""The GLBX files of a synthetic CME session, read back with databento."""

from __future__ import annotations

import re
from pathlib import Path

import databento as db
import databento_dbn as dbn
import numpy as np

from synth.cme import CmeSession

from .conftest import SMALL

OPTION_SYMBOL = re.compile(r"LO([FGHJKMNQUVXZ])(\d) ([CP])(\d+)")
E9 = 1_000_000_000


def test_the_session_writes_four_glbx_schemas_and_two_truth_files(cme_dir: Path) -> None:
    names = sorted(p.name for p in cme_dir.iterdir())
    assert names == [
        "cme_labels.jsonl",
        "cme_session.json",
        "glbx-mdp3-20250220.definition.dbn.zst",
        "glbx-mdp3-20250220.mbp-1.dbn.zst",
        "glbx-mdp3-20250220.mbp-10.dbn.zst",
        "glbx-mdp3-20250220.trades.dbn.zst",
    ]


def test_every_file_decodes_with_databento_as_glbx_raw_symbols(
    cme_stores: dict[str, db.DBNStore], cme_arrays: dict[str, np.ndarray]
) -> None:
    assert set(cme_stores) == {"definition", "trades", "mbp-10", "mbp-1"}
    for schema, store in cme_stores.items():
        assert store.metadata.dataset == "GLBX.MDP3"
        assert store.metadata.stype_in == dbn.SType.RAW_SYMBOL
        assert store.metadata.stype_out == dbn.SType.INSTRUMENT_ID
        records = cme_arrays[schema]
        assert set(records["publisher_id"].tolist()) == {1}
        mapped = {int(iv["symbol"]) for ivs in store.metadata.mappings.values() for iv in ivs}
        assert set(records["instrument_id"].tolist()) <= mapped
        assert np.all(np.diff(records["ts_recv"].astype(np.int64)) >= 0), schema


def test_record_counts_are_what_the_config_lists_and_the_books_imply(
    cme_session: CmeSession, cme_arrays: dict[str, np.ndarray]
) -> None:
    strikes = 2 * SMALL.strikes_per_side + 1
    assert len(cme_arrays["definition"]) == SMALL.n_futures + SMALL.n_expiries * 2 * strikes
    book = cme_arrays["mbp-10"]
    assert len(cme_arrays["trades"]) == np.count_nonzero(book["action"] == b"T")
    options = np.isin(cme_arrays["mbp-1"]["instrument_id"], book["instrument_id"], invert=True)
    assert len(cme_arrays["mbp-1"]) - options.sum() == np.count_nonzero(book["depth"] == 0)
    for schema, f in cme_session.files.items():
        assert cme_arrays[schema].tobytes() == f.records.tobytes()
    assert cme_session.n_records > 30_000  # three minutes of a lively market


def test_futures_definitions_are_cl_months_with_cent_ticks_and_1000_barrels(
    cme_arrays: dict[str, np.ndarray],
) -> None:
    defs = cme_arrays["definition"]
    futures = defs[defs["instrument_class"] == b"F"]
    assert [s.decode() for s in futures["raw_symbol"]] == ["CLJ5", "CLK5", "CLM5"]
    assert set(futures["asset"].tolist()) == {b"CL"}
    assert set(futures["security_type"].tolist()) == {b"FUT"}
    assert set(futures["min_price_increment"].tolist()) == {E9 // 100}
    assert set(futures["unit_of_measure_qty"].tolist()) == {1_000 * E9}
    # CLJ5 traded until 20 March 2025, 14:30 New York (18:30 UTC, daylight time)
    assert futures["expiration"][0] == 1_742_495_400 * E9
    assert np.all(np.diff(futures["expiration"].astype(np.int64)) > 0)


def test_option_definitions_name_their_future_strike_and_right_like_real_glbx(
    cme_arrays: dict[str, np.ndarray],
) -> None:
    defs = cme_arrays["definition"]
    futures = {int(r["instrument_id"]): r for r in defs[defs["instrument_class"] == b"F"]}
    options = defs[defs["instrument_class"] != b"F"]
    chains: dict[int, set[tuple[str, int]]] = {}
    for r in options:
        symbol = r["raw_symbol"].decode()
        match = OPTION_SYMBOL.fullmatch(symbol)
        assert match, symbol
        month, year, right, cents = match.groups()
        future = futures[int(r["underlying_id"])]
        assert future["raw_symbol"].decode() == f"CL{month}{year}" == r["underlying"].decode()
        assert r["instrument_class"].decode() == right
        assert r["cfi"].decode() == f"O{right}AFPS"
        assert r["strike_price"] == int(cents) * E9 // 100
        assert r["asset"] == b"LO" and r["security_type"] == b"OOF"
        assert r["expiration"] < future["expiration"]
        assert r["unit_of_measure_qty"] == 1_000 * E9
        chains.setdefault(int(r["underlying_id"]), set()).add((right, int(cents)))
    assert len(chains) == SMALL.n_expiries
    # the front's strikes 50 cents apart; LOK5 (55 days against 27) twice as far: sqrt(55/27)
    # rounded up
    for listed, spacing in zip(chains.values(), (50, 100), strict=True):
        calls = {cents for right, cents in listed if right == "C"}
        assert calls == {cents for right, cents in listed if right == "P"}
        assert len(calls) == 2 * SMALL.strikes_per_side + 1
        assert np.all(np.diff(sorted(calls)) == spacing)

from __future__ import annotations

from pathlib import Path

import databento as db
import databento_dbn as dbn
import numpy as np

from schemas.occ import parse_occ
from synth import SyntheticSession
from synth import dbn as synth_dbn

EXPECTED = {
    "OPRA.PILLAR/definition",
    "OPRA.PILLAR/statistics",
    "OPRA.PILLAR/cmbp-1",
    "OPRA.PILLAR/tcbbo",
    "OPRA.PILLAR/trades",
    "XNAS.ITCH/trades",
    "XNAS.ITCH/tbbo",
    "XNAS.ITCH/mbp-1",
    "EQUS.PLUS/trades",
    "EQUS.PLUS/tbbo",
}


def test_every_file_opens_with_databento_and_has_its_schema(
    stores: dict[str, db.DBNStore],
) -> None:
    assert set(stores) == EXPECTED
    for key, store in stores.items():
        dataset, schema = key.split("/")
        assert store.metadata.dataset == dataset
        assert str(store.schema) == schema
        assert store.metadata.stype_in == dbn.SType.RAW_SYMBOL
        assert store.metadata.stype_out == dbn.SType.INSTRUMENT_ID
        assert len(list(store)) > 0


def test_written_files_hold_exactly_the_session_records(
    session: SyntheticSession, written: list[Path]
) -> None:
    for f in session.files.values():
        path = next(p for p in written if p.name == f.file_name(session.date))
        store = db.DBNStore.from_file(path)
        records = list(store)
        assert len(records) == len(f.records)
        assert b"".join(bytes(r) for r in records) == f.records.tobytes()


def test_vectorised_records_equal_databento_dbn_records() -> None:
    trade = dbn.TradeMsg(
        publisher_id=22,
        instrument_id=16777313,
        ts_event=10,
        price=1_250_000_000,
        size=7,
        action=dbn.Action.TRADE,
        side=dbn.Side.NONE,
        depth=0,
        ts_recv=300_011,
        flags=128,
        sequence=42,
    )
    r = synth_dbn.empty_records("trades", 1)
    for name in ("publisher_id", "instrument_id", "ts_event", "price", "size", "ts_recv"):
        r[name] = getattr(trade, name)
    r["action"], r["side"], r["flags"], r["sequence"] = b"T", b"N", 128, 42
    assert r.tobytes() == bytes(trade)

    quote = dbn.CMBP1Msg(
        rtype=dbn.RType.CMBP_1,
        publisher_id=35,
        instrument_id=9,
        ts_event=5,
        price=3,
        size=4,
        action=dbn.Action.ADD,
        side=dbn.Side.ASK,
        ts_recv=6,
        flags=192,
        levels=dbn.ConsolidatedBidAskPair(1, 3, 10, 4, 22, 35),
    )
    q = synth_dbn.empty_records("cmbp-1", 1)
    q["publisher_id"], q["instrument_id"], q["ts_event"], q["ts_recv"] = 35, 9, 5, 6
    q["price"], q["size"], q["action"], q["side"], q["flags"] = 3, 4, b"A", b"A", 192
    q["bid_px_00"], q["ask_px_00"], q["bid_sz_00"], q["ask_sz_00"] = 1, 3, 10, 4
    q["bid_pb_00"], q["ask_pb_00"] = 22, 35
    assert q.tobytes() == bytes(quote)


def test_symbology_maps_every_instrument_id_to_its_symbol(
    stores: dict[str, db.DBNStore], arrays: dict[str, np.ndarray]
) -> None:
    for key, store in stores.items():
        ids = {
            interval["symbol"]: raw
            for raw, intervals in store.metadata.mappings.items()
            for interval in intervals
        }
        seen = {str(i) for i in np.unique(arrays[key]["instrument_id"])}
        assert seen <= set(ids), key
        if key.startswith("OPRA"):
            for raw in ids.values():
                parse_occ(raw)  # every option id maps to a well-formed OCC symbol


def test_definitions_carry_occ_fields(stores: dict[str, db.DBNStore]) -> None:
    for record in stores["OPRA.PILLAR/definition"]:
        occ = parse_occ(record.raw_symbol)
        assert record.instrument_class == occ.right
        assert record.strike_price == occ.strike_price
        assert record.underlying == occ.root
        assert record.publisher_id == db.Publisher("OPRA.PILLAR.OPRA").to_int()


def test_open_interest_repeats_per_venue_with_identical_values(
    arrays: dict[str, np.ndarray],
) -> None:
    stats = arrays["OPRA.PILLAR/statistics"]
    for iid in np.unique(stats["instrument_id"])[:50]:
        rows = stats[stats["instrument_id"] == iid]
        assert len(rows) >= 2
        assert len(np.unique(rows["publisher_id"])) == len(rows)
        assert len(np.unique(rows["quantity"])) == 1


def test_option_prints_are_on_real_opra_venues_and_dark_prints_on_finra_trfs(
    arrays: dict[str, np.ndarray],
) -> None:
    opra = {
        db.Publisher(f"OPRA.PILLAR.{v}").to_int()
        for v in "XCBO XPHL AMXO XISX ARCO BATO MPRL EDGO GMNI MCRY XBOX C2OX EMLD XMIO SPHR "
        "XNDQ".split()
    }
    assert set(np.unique(arrays["OPRA.PILLAR/trades"]["publisher_id"])) <= opra
    assert len(np.unique(arrays["OPRA.PILLAR/trades"]["publisher_id"])) >= 10
    trf = {db.Publisher(f"EQUS.PLUS.{v}").to_int() for v in ("FINN", "FINC", "FINY")}
    assert set(np.unique(arrays["EQUS.PLUS/trades"]["publisher_id"])) == trf
    assert set(np.unique(arrays["XNAS.ITCH/trades"]["publisher_id"])) == {
        db.Publisher("XNAS.ITCH.XNAS").to_int()
    }


def test_records_are_in_ts_recv_order_and_received_after_the_event(
    arrays: dict[str, np.ndarray],
) -> None:
    for key, a in arrays.items():
        assert (np.diff(a["ts_recv"].astype(np.int64)) >= 0).all(), key
        latency = a["ts_recv"].astype(np.int64) - a["ts_event"].astype(np.int64)
        assert (latency > 0).all(), key
        assert (latency < 10_000_000).all(), key  # under 10 ms


def test_every_record_has_a_unique_publisher_instrument_ts_event_sequence(
    arrays: dict[str, np.ndarray],
) -> None:
    for key, a in arrays.items():
        seq = a["sequence"] if "sequence" in a.dtype.names else np.zeros(len(a), np.uint32)
        keys = set(zip(a["publisher_id"], a["instrument_id"], a["ts_event"], seq, strict=True))
        assert len(keys) == len(a), key


def test_trades_and_tcbbo_describe_the_same_prints(arrays: dict[str, np.ndarray]) -> None:
    trades, tcbbo = arrays["OPRA.PILLAR/trades"], arrays["OPRA.PILLAR/tcbbo"]
    for name in ("publisher_id", "instrument_id", "ts_event", "ts_recv", "price", "size"):
        assert (trades[name] == tcbbo[name]).all(), name
    assert (trades["side"] == b"N").all()  # OPRA has no aggressor


def test_tcbbo_carries_the_last_cmbp1_quote_before_each_print(
    arrays: dict[str, np.ndarray],
) -> None:
    quotes, prints = arrays["OPRA.PILLAR/cmbp-1"], arrays["OPRA.PILLAR/tcbbo"]
    q_key = quotes["instrument_id"].astype(np.int64) << 40 | (
        quotes["ts_recv"].astype(np.int64) - int(quotes["ts_recv"].min()) + 1
    )
    p_key = prints["instrument_id"].astype(np.int64) << 40 | (
        prints["ts_recv"].astype(np.int64) - int(quotes["ts_recv"].min()) + 1
    )
    order = np.argsort(q_key)
    idx = np.searchsorted(q_key[order], p_key, side="left") - 1
    assert (idx >= 0).all()
    last = quotes[order][idx]
    assert (last["instrument_id"] == prints["instrument_id"]).all()
    assert (last["ts_recv"] < prints["ts_recv"]).all()
    for name in ("bid_px_00", "ask_px_00", "bid_sz_00", "ask_sz_00", "bid_pb_00", "ask_pb_00"):
        assert (last[name] == prints[name]).all(), name


def test_equity_tbbo_carries_the_last_lit_quote_before_each_print(
    arrays: dict[str, np.ndarray],
) -> None:
    mbp = arrays["XNAS.ITCH/mbp-1"]
    quotes = mbp[mbp["action"] != b"T"]
    for key in ("XNAS.ITCH/tbbo", "EQUS.PLUS/tbbo"):
        prints = arrays[key]
        for row in prints[:: max(1, len(prints) // 200)]:
            mine = quotes[
                (quotes["instrument_id"] == row["instrument_id"])
                & (quotes["ts_recv"] < row["ts_recv"])
            ]
            assert mine[-1]["bid_px_00"] == row["bid_px_00"], key
            assert mine[-1]["ask_px_00"] == row["ask_px_00"], key


def test_option_quotes_are_sane(arrays: dict[str, np.ndarray]) -> None:
    q = arrays["OPRA.PILLAR/cmbp-1"]
    assert (q["bid_px_00"] > 0).all()
    assert (q["ask_px_00"] > q["bid_px_00"]).all()
    prints = arrays["OPRA.PILLAR/tcbbo"]
    assert (prints["price"] > 0).all()
    assert (prints["size"] > 0).all()

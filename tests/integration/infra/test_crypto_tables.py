from infra.warehouse import TABLES, Warehouse, tables_for
from schemas.crypto import CRYPTO_RAW_EVENTS
from tests.kit.crypto import T0, book_update, crypto_trade, one_of_each_crypto_event


def test_every_crypto_event_type_matches_its_table_columns(warehouse: Warehouse) -> None:
    events = one_of_each_crypto_event()
    tables = tables_for(events, run_id="live", log_seqs=[1] * len(events))
    assert set(tables) == {TABLES[t] for t in CRYPTO_RAW_EVENTS}
    for table, data in tables.items():
        stored = [
            row[0]
            for row in warehouse.rows(
                "SELECT name FROM system.columns WHERE database = currentDatabase() "
                "AND table = {t:String} AND default_kind != 'MATERIALIZED'",
                {"t": table},
            )
        ]
        assert sorted(data.column_names) == sorted(stored), table


def test_crypto_rows_keep_run_id_arrays_and_nulls(fresh_warehouse: Warehouse) -> None:
    counts = fresh_warehouse.insert_events(
        [*one_of_each_crypto_event(), crypto_trade(sequence=101, trade_id="101")],
        run_id="r1",
        log_seq=7,
    )
    assert counts["crypto_trades"] == 2
    assert counts["provider_gaps"] == 2
    assert fresh_warehouse.rows(
        "SELECT run_id, bid_px, ask_sz, prev_update_id IS NULL FROM crypto_book_updates"
    ) == [("r1", book_update().bid_px, [0], 1)]
    assert fresh_warehouse.rows(
        "SELECT toUnixTimestamp64Nano(ts_next_funding) - toUnixTimestamp64Nano(ts_event), "
        "funding_rate FROM crypto_mark_prices"
    ) == [(3600 * 10**9, 100_000)]
    assert fresh_warehouse.rows(
        "SELECT dropped['crypto_quote'], toUnixTimestamp64Nano(first_ts_recv) FROM provider_gaps "
        "WHERE reason = 'backpressure'"
    ) == [(3, T0)]

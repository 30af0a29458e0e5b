"""Real GLBX files through the ingest service, JetStream and the sink into the cme_* tables."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import databento as db
import msgspec
import pytest

from infra.bus import Bus
from infra.warehouse import TABLES, Warehouse
from ingest.databento import (
    DatabentoFileConfig,
    DatabentoFileSource,
    RecordNormaliser,
    iter_file_events,
)
from ingest.service import IngestService
from live.sink.service import Sink
from schemas.book import F_LAST, Mbp10Event
from schemas.cme import CME_RAW_EVENTS, CmeInstrument, CmeQuote, CmeStatistic, CmeTrade
from schemas.events import Event

pytestmark = pytest.mark.slow

# tbbo repeats the trades of `trades`, and bbo-1m's first sample is bbo-1s's: one session
# takes one of each (the service would store a repeated event once).
GLBX_SCHEMAS = ("definition", "trades", "mbp-1", "mbp-10", "bbo-1s", "statistics")


def session_files(shared_data: Path) -> tuple[list[Path], Path]:
    """ESH1 of 2020-12-28 in every schema, ESM4/NQM4 and two ES puts of 2024-05-09 with their
    definitions, and an option's quotes of 2026-01-09 whose definition is left out."""
    catalog = shared_data / "GLBX.MDP3.options/options_catalog/databento"
    undefined = (
        shared_data / "GLBX.MDP3.options/options_exercise/databento"
        / "options_bbo-1m_2026-01-09T20-55_2026-01-09T21-05.dbn.zst"
    )  # fmt: skip
    glbx = [shared_data / f"GLBX.MDP3/test_data.{s}.dbn.zst" for s in GLBX_SCHEMAS]
    return [*glbx, *sorted(catalog.glob("*definition.dbn.zst")),
            *sorted(catalog.glob("*bbo-1m*.dbn.zst")), undefined], undefined  # fmt: skip


def character(record: object, field: str) -> str:
    """An enum field of a record as its character (`action`, `side`)."""
    value = getattr(record, field, "")
    return str(getattr(value, "value", value))


def expected_rows(paths: list[Path], undefined: Path) -> dict[str, int]:
    """Rows per table, counted from the files with databento alone."""
    counts = {TABLES[t]: 0 for t in (*CME_RAW_EVENTS, Mbp10Event)} | {"quarantine": 0}
    for path in paths:
        store = db.DBNStore.from_file(path)
        records = list(store)
        schema = str(store.schema)
        if path == undefined:
            counts["quarantine"] += len(records)
        elif schema == "definition":
            counts["cme_instruments"] += len(records)
        elif schema == "statistics":
            counts["cme_statistics"] += len(records)
        elif schema == "mbp-10":
            finished = sum(1 for r in records if int(r.flags) & F_LAST)
            counts["mbp10_events"] += finished + (not int(records[-1].flags) & F_LAST)
        else:
            trades = sum(1 for r in records if schema == "trades" or character(r, "action") == "T")
            counts["cme_trades"] += trades
            counts["cme_quotes"] += len(records) - trades
    return counts


def as_multiset(events: list[Event]) -> list[bytes]:
    return sorted(msgspec.msgpack.encode(e) for e in events)


async def test_glbx_files_fill_the_cme_tables_with_every_record_once(
    bus: Bus, fresh_warehouse: Warehouse, shared_data: Path
) -> None:
    paths, undefined = session_files(shared_data)
    config = DatabentoFileConfig(paths=[str(p) for p in paths], emit_books=True)
    ingest = await IngestService(DatabentoFileSource(config), bus).run()
    await Sink(bus, fresh_warehouse).run_until_idle()

    expected = expected_rows(paths, undefined)
    stored = {
        table: fresh_warehouse.scalar(f"SELECT count() FROM `{table}`")  # noqa: S608  (our tables)
        for table in expected
    }
    assert stored == expected
    assert all(count > 0 for count in expected.values())
    assert ingest.quarantined == expected["quarantine"] and ingest.repeats_skipped == 0
    reasons = fresh_warehouse.rows("SELECT reason, count() FROM quarantine GROUP BY reason")
    assert reasons == [("missing_definition", expected["quarantine"])]

    # Each row is the event the source made of its record, field for field.
    made = list(iter_file_events(paths, normaliser=RecordNormaliser(emit_books=True)))
    run_id = fresh_warehouse.scalar("SELECT any(run_id) FROM cme_trades")
    for event_type in (CmeInstrument, CmeTrade, CmeQuote, CmeStatistic):
        kept = [e for e in made if isinstance(e, event_type)]
        stored_rows = fresh_warehouse.read_events(event_type, run_id=run_id)
        assert as_multiset(stored_rows) == as_multiset(kept)

    # The tables join an option to its future; a variable tick is NULL, a future's is not.
    joined = fresh_warehouse.rows(
        "SELECT o.symbol, f.symbol, o.tick IS NULL, f.tick FROM cme_instruments AS o "
        "INNER JOIN cme_instruments AS f ON o.underlying_id = f.instrument_id AND o.date = f.date "
        "ORDER BY o.symbol"
    )
    assert joined == [("ESM4 P5230", "ESM4", True, 250_000_000),
                      ("ESM4 P5250", "ESM4", True, 250_000_000)]  # fmt: skip
    sides = fresh_warehouse.rows("SELECT side, count() FROM cme_trades GROUP BY side ORDER BY side")
    trade_rows = db.DBNStore.from_file(shared_data / "GLBX.MDP3/test_data.trades.dbn.zst")
    by_side = Counter(character(r, "side") for r in trade_rows)
    assert sides == sorted(by_side.items()) and set(by_side) == {"A", "B"}

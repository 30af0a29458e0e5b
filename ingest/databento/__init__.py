"""Databento sources: DBN files, `databento.Historical` and `databento.Live`.

Every path runs records through one handler, `RecordNormaliser`
(`ingest.databento.parsing`, which lists the decisions: NBBO vs venue BBO, quarantines,
open-interest dedup); who a record is about comes from `ingest.databento.symbology`
(failing closed), its events' fields from one builder per event type
(`ingest.databento.builders`), which the column path (`ingest.databento.bulk`) shares.

Two ways to consume a source:

    # async, as the ingest service does (the `ingest.source.Source` protocol)
    config = DatabentoFileConfig(paths=["day.tcbbo.dbn.zst", "day.definition.dbn.zst"])
    source = DatabentoFileSource(config)
    await source.connect()
    async for event in source.events():
        ...
    await source.close()

    # synchronous iterator for replay (streaming k-way merge, canonical order)
    for event in iter_file_events(["day.tcbbo.dbn.zst", "day.definition.dbn.zst"]):
        ...

    # fastest: one trade file decoded column-wise (same events as the record path)
    normaliser = RecordNormaliser()
    list(iter_file_events("day.definition.dbn.zst", normaliser=normaliser))
    for event in bulk_file_events("day.tcbbo.dbn.zst", normaliser=normaliser):
        ...

CME Globex (`GLBX.MDP3`) files give `schemas.cme` events (`CmeInstrument`, `CmeTrade`,
`CmeQuote`, `CmeStatistic`) and, with `emit_books`, the futures' depth as
`schemas.book.Mbp10Event`, all in canonical order; put the `definition` file among the
paths (it is read first), or every record quarantines as `missing_definition`:

    normaliser = RecordNormaliser(emit_books=True)
    for event in iter_file_events(["cl.definition.dbn.zst", "cl.mbp-10.dbn.zst",
                                   "lo.definition.dbn.zst", "lo.mbp-1.dbn.zst"],
                                  normaliser=normaliser):
        ...

    # the same events, trade and top-of-book files decoded column-wise (about twice as fast)
    for event in cme_file_events([...the same paths...], normaliser=normaliser):
        ...

A live client (or the synthetic market) hands records to the same handler:

    normaliser = RecordNormaliser("databento")
    live.add_callback(normaliser.callback(sink))   # sink(list[Event])
    # or: events = normaliser(record)
"""

from ingest.databento.adapter import (
    DatabentoFileSource,
    DatabentoHistoricalSource,
    DatabentoLiveSource,
)
from ingest.databento.bulk import bulk_file_batches, bulk_file_events
from ingest.databento.cme_columns import cme_file_events
from ingest.databento.config import (
    DatabentoFileConfig,
    DatabentoHistoricalConfig,
    DatabentoLiveConfig,
)
from ingest.databento.files import iter_file_events, read_dbn
from ingest.databento.parsing import RecordNormaliser
from ingest.databento.symbology import Symbology

__all__ = [
    "DatabentoFileConfig",
    "DatabentoFileSource",
    "DatabentoHistoricalConfig",
    "DatabentoHistoricalSource",
    "DatabentoLiveConfig",
    "DatabentoLiveSource",
    "RecordNormaliser",
    "bulk_file_batches",
    "bulk_file_events",
    "cme_file_events",
    "Symbology",
    "iter_file_events",
    "read_dbn",
]

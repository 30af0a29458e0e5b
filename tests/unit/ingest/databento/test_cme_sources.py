"""GLBX through the Historical and Live paths: parent symbols, and definitions brought along."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import databento_dbn as dbn
import pytest

from ingest.databento import (
    DatabentoHistoricalConfig,
    DatabentoHistoricalSource,
    DatabentoLiveConfig,
    DatabentoLiveSource,
    RecordNormaliser,
    iter_file_events,
)
from ingest.databento.config import BadSymbols, stype_of
from schemas.cme import CmeInstrument, CmeQuote, CmeTrade
from schemas.events import Quarantined
from synth.dbn import SymbolInterval, SymbolMapping
from tests.unit.ingest.databento.glbx_records import CLM5, LOM5_C70, call_option, future, trade
from tests.unit.ingest.dbn_files import DAY, T0, write_dbn
from tests.unit.ingest.test_databento_paths import RecordedGateway


def test_parent_continuous_and_raw_symbols_are_told_apart():
    assert stype_of(["CL.FUT", "LO.OPT"]) == "parent"
    assert stype_of(["ES.c.0", "CL.n.1"]) == "continuous"
    assert stype_of(["CLM5", "LOM5 C7000", "BRK.B"]) == "raw_symbol"
    assert stype_of(["CL.FUT"], "raw_symbol") == "raw_symbol"  # a stype given is kept
    with pytest.raises(BadSymbols, match="one symbology type"):
        stype_of(["CL.FUT", "CLM5"])


async def test_a_glbx_live_session_subscribes_definitions_first_by_parent(shared_data: Path):
    folder = shared_data / "GLBX.MDP3"
    files = [folder / "test_data.definition.dbn.zst", folder / "test_data.mbp-1.dbn.zst"]
    gateway = RecordedGateway(files)
    config = DatabentoLiveConfig(dataset="GLBX.MDP3", schemas=["mbp-1"], symbols=["ES.FUT"])
    source = DatabentoLiveSource(config, client_factory=lambda: gateway)
    await source.connect()
    got = [event async for event in source.events()]
    await source.close()
    assert [s["schema"] for s in gateway.subscriptions] == ["definition", "mbp-1"]
    assert {s["stype_in"] for s in gateway.subscriptions} == {"parent"}
    assert [type(e) for e in got] == [CmeInstrument] + [CmeQuote] * 4
    assert {e.symbol for e in got} == {"ESH1"}


async def test_an_opra_live_session_subscribes_only_what_it_was_asked(shared_data: Path):
    gateway = RecordedGateway([shared_data / "OPRA.PILLAR/test_data.trades.dbn.zst"])
    config = DatabentoLiveConfig(dataset="OPRA.PILLAR", schemas=["trades"], symbols=["AAPL.OPT"])
    source = DatabentoLiveSource(config, client_factory=lambda: gateway)
    await source.connect()
    _ = [event async for event in source.events()]
    await source.close()
    assert [(s["schema"], s["stype_in"]) for s in gateway.subscriptions] == [("trades", "parent")]


async def test_a_glbx_historical_range_downloads_the_days_definitions_with_it(
    tmp_path: Path, shared_data: Path
):
    folder = shared_data / "GLBX.MDP3"
    samples = {
        "definition": folder / "test_data.definition.dbn.zst",
        "bbo-1s": folder / "test_data.bbo-1s.dbn.zst",
    }
    asked: list[DatabentoHistoricalConfig] = []

    def fetch(config: DatabentoHistoricalConfig, path: Path) -> None:
        asked.append(config)
        shutil.copy(samples[config.schema], path)

    config = DatabentoHistoricalConfig(
        dataset="GLBX.MDP3",
        schema="bbo-1s",
        symbols=["ES.FUT"],
        start="2020-12-28T00:00:00",
        end="2020-12-28T00:05:00",
        download_dir=str(tmp_path),
    )
    source = DatabentoHistoricalSource(config, fetch=fetch)
    await source.connect()
    got = [event async for event in source.events()]
    assert [(c.schema, c.start, c.end) for c in asked] == [
        ("definition", "2020-12-28T00:00:00+00:00", "2020-12-28T00:05:00"),
        ("bbo-1s", "2020-12-28T00:00:00", "2020-12-28T00:05:00"),
    ]
    assert got == list(iter_file_events(list(samples.values())))
    assert [type(e) for e in got] == [CmeInstrument] + [CmeQuote] * 4
    # Both files are cached: connecting again downloads nothing.
    await DatabentoHistoricalSource(config, fetch=fetch).connect()
    assert len(asked) == 2


def parent_metadata(schema: dbn.Schema, parents: dict[str, list[int]]) -> dbn.Metadata:
    """A file requested by parent: its mappings name the parent, not each instrument."""
    return dbn.Metadata(
        dataset="GLBX.MDP3",
        start=T0 - 3_600 * 10**9,
        stype_in=dbn.SType.PARENT,
        stype_out=dbn.SType.INSTRUMENT_ID,
        schema=schema,
        symbols=list(parents),
        mappings=[
            SymbolMapping(
                parent, [SymbolInterval(DAY, DAY + dt.timedelta(days=1), str(i)) for i in ids]
            )
            for parent, ids in parents.items()
        ],  # fmt: skip
        end=T0 + 3_600 * 10**9,
    )


def test_files_requested_by_parent_are_named_by_their_definitions_failing_closed(tmp_path):
    parents = {"CL.FUT": [CLM5], "LO.OPT": [LOM5_C70, 6002]}
    definitions = write_dbn(
        tmp_path / "d.dbn.zst",
        parent_metadata(dbn.Schema.DEFINITION, parents),
        [future(), call_option()],
    )
    trades = write_dbn(
        tmp_path / "t.dbn.zst",
        parent_metadata(dbn.Schema.TRADES, parents),
        [trade(CLM5, T0, 70 * 10**9), trade(LOM5_C70, T0 + 1, 10**9), trade(6002, T0 + 2, 10**9)],
    )
    normaliser = RecordNormaliser()
    got = list(iter_file_events([trades, definitions], normaliser=normaliser))
    assert [type(e) for e in got] == [CmeInstrument] * 2 + [CmeTrade] * 2 + [Quarantined]
    assert [e.symbol for e in got[2:4]] == ["CLM5", "LOM5 C7000"]  # never "CL.FUT"
    assert got[-1].reason == "unmapped_instrument"  # LO.OPT's 6002 was never defined
    assert normaliser.counters["metadata_mappings_not_raw_symbols"] == 2

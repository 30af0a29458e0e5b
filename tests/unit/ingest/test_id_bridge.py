"""The ID bridge's per-event path: ids mapped by the source pass, unmapped and mismatched ids
are counted and quarantined (shadow mode: passed and counted), overrides rename, strict mode
refuses an override that contradicts the source's own mapping."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import msgspec
import pytest

from ingest.alpaca import (
    AlpacaOptionsConfig,
    AlpacaOptionSource,
    AlpacaStocksConfig,
    AlpacaStockSource,
    ContractRef,
)
from ingest.binance.adapter import BinanceSource
from ingest.binance.config import BinanceConfig
from ingest.bridge import (
    ContractSetMapping,
    IdBridge,
    OverridesError,
    SymbolMapping,
    VenueSymbolMapping,
    mapping_for,
)
from ingest.bridge.databento_ids import DatabentoDayMapping
from ingest.databento.adapter import DatabentoFileSource
from ingest.databento.config import DatabentoFileConfig
from ingest.databento.symbology import ContractInfo, Symbology
from ingest.ibkr import IbkrOptionsConfig, IbkrOptionSource
from ingest.marketdata.symbology import default_table
from ingest.memory import IterableSource
from ingest.synthetic.source import SyntheticSource
from schemas.crypto import CryptoTrade
from schemas.errors import ConfigError
from schemas.events import Heartbeat, OptionPrint, Quarantined
from tests.kit.crypto import crypto_trade
from tests.kit.events import option_print, option_quote

DAY = 86_400 * 10**9
JAN_2 = (date(2026, 1, 2) - date(1970, 1, 1)).days * DAY  # 2026-01-02T00:00Z
CALL = "AAPL  260116C00250000"
PUT = "AAPL  260116P00250000"
OTHER = "MSFT  260116C00400000"


def alpaca_lane(mode: str = "default", contracts: list[str] | None = None):
    bridge = IdBridge(mode)
    listed = [CALL] if contracts is None else contracts
    return bridge, bridge.lane("alpaca", ContractSetMapping(lambda: listed))


def print_of(symbol: str, **fields: object) -> OptionPrint:
    return option_print(source="alpaca", symbol=symbol, **fields)


def test_an_id_the_source_maps_passes_as_it_is() -> None:
    _, lane = alpaca_lane()
    event = print_of(CALL)
    assert lane.translate(event) is event
    assert lane.translate(event) is event  # second time from the cache
    assert lane.counters.unmapped == lane.counters.quarantined == 0


def test_an_unmapped_id_is_quarantined_with_source_and_id_and_counted() -> None:
    _, lane = alpaca_lane()
    event = print_of(OTHER, ts_recv=5_000)
    out = lane.translate(event)
    assert isinstance(out, Quarantined)
    assert (out.reason, out.source, out.ts_recv) == ("unmapped_id", "alpaca", 5_000)
    assert "alpaca occ id MSFT  260116C00400000" in out.detail and "no mapping" in out.detail
    assert (
        msgspec.msgpack.decode(out.payload, type=OptionPrint) == event
    )  # the original kept as evidence
    lane.translate(print_of(OTHER, ts_recv=6_000))
    assert (lane.counters.unmapped, lane.counters.quarantined) == (2, 2)


def test_events_that_name_no_instrument_pass_untouched() -> None:
    _, lane = alpaca_lane(contracts=[])
    beat = Heartbeat(ts_recv=1, source="alpaca")
    quarantined = Quarantined(ts_recv=2, source="alpaca", reason="bad_message")
    assert lane.translate(beat) is beat and lane.translate(quarantined) is quarantined
    assert lane.counters.unmapped == 0


def test_a_contract_the_source_subscribes_later_is_mapped_from_then_on() -> None:
    contracts: list[str] = []
    _, lane = alpaca_lane(contracts=contracts)
    assert isinstance(lane.translate(print_of(CALL)), Quarantined)
    contracts.append(CALL)  # the source selected its contracts on connect
    assert isinstance(lane.translate(print_of(CALL)), OptionPrint)


def test_shadow_mode_passes_what_it_would_quarantine_counts_and_logs_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, lane = alpaca_lane("shadow")
    event = print_of(OTHER)
    with caplog.at_level(logging.WARNING):
        assert lane.translate(event) is event
        assert lane.translate(event) is event
    counters = lane.counters
    assert (counters.unmapped, counters.shadow_passed, counters.quarantined) == (2, 2, 0)
    logged = [r.getMessage() for r in caplog.records if "unmapped_id" in r.getMessage()]
    assert len(logged) == 1 and OTHER in logged[0] and "shadow mode: passed" in logged[0]


# ------------------------------------------------------------------- Databento, per day


def databento_lane(bridge: IdBridge | None = None):
    symbology = Symbology()
    symbology.define(42, ContractInfo(CALL, "option", "C", "AAPL"))
    bridge = bridge or IdBridge()
    return symbology, bridge.lane("databento", DatabentoDayMapping(symbology))


def test_databento_ids_are_read_per_utc_day_and_written_instrument_at_date() -> None:
    mapping = DatabentoDayMapping(Symbology())
    event = option_print(instrument_id=42, ts_recv=JAN_2 + 3_600 * 10**9)
    key = mapping.key(event)
    assert key == mapping.parse_id("42@2026-01-02") != mapping.parse_id("42@2026-01-03")
    assert mapping.describe(key) == "42@2026-01-02"
    for bad in ("42", "x@2026-01-02", "42@2026-13-01", f"{2**32}@2026-01-02"):
        with pytest.raises(ValueError, match="instrument"):
            mapping.parse_id(bad)


def test_a_databento_id_without_a_mapping_that_day_is_quarantined() -> None:
    _, lane = databento_lane()
    defined = option_print(instrument_id=42, symbol=CALL, ts_recv=JAN_2)
    unknown = option_print(instrument_id=43, symbol=PUT, ts_recv=JAN_2)
    assert lane.translate(defined) is defined
    out = lane.translate(unknown)
    assert isinstance(out, Quarantined) and out.reason == "unmapped_id"
    assert "databento databento id 43@2026-01-02" in out.detail


def test_an_event_named_otherwise_than_its_ids_mapping_is_an_id_mismatch() -> None:
    _, lane = databento_lane()
    out = lane.translate(option_quote(instrument_id=42, symbol=PUT, ts_recv=JAN_2))
    assert isinstance(out, Quarantined) and out.reason == "id_mismatch"
    assert f"maps to {CALL!r}" in out.detail and lane.counters.mismatched == 1


# ----------------------------------------------------------------------------- overrides


def test_an_override_renames_an_id_the_source_maps_otherwise_in_default_mode() -> None:
    bridge, lane = alpaca_lane()
    lane.use_overrides(lane.parse_overrides({CALL: PUT}))
    out = lane.translate(print_of(CALL))
    assert isinstance(out, OptionPrint) and out.symbol == PUT
    assert msgspec.structs.replace(out, symbol=CALL) == print_of(CALL)  # nothing else changed
    lane.translate(print_of(CALL))
    assert lane.counters.renamed == 2 and bridge.problems == 0


def test_an_override_maps_an_id_the_source_does_not_know_in_every_mode() -> None:
    for mode in ("default", "strict", "shadow"):
        _, lane = alpaca_lane(mode)
        lane.use_overrides(lane.parse_overrides({OTHER: "MSFT  260116C00405000"}))
        out = lane.translate(print_of(OTHER))
        assert isinstance(out, OptionPrint) and out.symbol == "MSFT  260116C00405000", mode
        assert lane.counters.unmapped == 0


def test_a_databento_override_holds_for_its_day_only() -> None:
    _, lane = databento_lane()
    lane.use_overrides(lane.parse_overrides({"43@2026-01-02": PUT}))
    on_the_day = lane.translate(option_print(instrument_id=43, symbol="", ts_recv=JAN_2))
    next_day = lane.translate(option_print(instrument_id=43, symbol="", ts_recv=JAN_2 + DAY))
    assert isinstance(on_the_day, OptionPrint) and on_the_day.symbol == PUT
    assert isinstance(next_day, Quarantined) and "43@2026-01-03" in next_day.detail


def test_strict_mode_refuses_an_override_once_the_source_maps_its_id_otherwise() -> None:
    contracts: list[str] = []
    bridge, lane = alpaca_lane("strict", contracts)
    lane.use_overrides(lane.parse_overrides({CALL: PUT}))
    assert lane.conflicts(lane.overrides) == []  # the source does not know CALL yet
    first = lane.translate(print_of(CALL))
    assert isinstance(first, OptionPrint) and first.symbol == PUT
    contracts.append(CALL)  # the source now maps CALL itself
    out = lane.translate(print_of(CALL))
    assert isinstance(out, OptionPrint) and out.symbol == CALL  # the source's own mapping
    assert lane.counters.overrides_refused == 1 and lane.overrides == {}
    assert bridge.problems == 1 and bridge.last_error is not None
    assert "strict mode refuses" in bridge.last_error and "\n" not in bridge.last_error


def test_an_unknown_mode_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="among default, strict, shadow"):
        IdBridge("lenient")


def test_recorded_events_are_named_by_their_own_symbol_and_empty_is_unmapped() -> None:
    lane = IdBridge().lane("recording", SymbolMapping())
    named = option_print(symbol=CALL)
    assert lane.translate(named) is named
    assert isinstance(lane.translate(option_print(symbol="")), Quarantined)


# ------------------------------------------------------------------ which mapping a source has


def test_each_kind_of_source_has_its_own_mapping() -> None:
    synthetic = SyntheticSource()
    assert isinstance(mapping_for(synthetic), DatabentoDayMapping)
    assert mapping_for(synthetic).symbology is synthetic.normaliser.symbology  # type: ignore[attr-defined]
    files = DatabentoFileSource(DatabentoFileConfig(paths=["x.dbn.zst"]))
    assert mapping_for(files).id_space == "databento"
    assert isinstance(mapping_for(IterableSource("recording", [])), SymbolMapping)

    alpaca = AlpacaOptionSource(AlpacaOptionsConfig(underlyings=["AAPL"]))
    alpaca_mapping = mapping_for(alpaca)
    assert alpaca_mapping.resolve(CALL, None) is None  # nothing selected before connect
    alpaca.contracts = [ContractRef.from_occ(CALL)]  # what connect() selects
    assert alpaca_mapping.resolve(CALL, None) == CALL
    ibkr_mapping = mapping_for(IbkrOptionSource(IbkrOptionsConfig(contracts=[PUT])))
    assert ibkr_mapping.id_space == "occ"
    assert (ibkr_mapping.resolve(PUT, None), ibkr_mapping.resolve(CALL, None)) == (PUT, None)

    binance = mapping_for(BinanceSource(BinanceConfig(symbols=["BTCUSDT"])))
    assert isinstance(binance, VenueSymbolMapping)
    assert binance.resolve(("binance-spot", "BTCUSDT"), None) == "BTC-USDT"
    stocks = mapping_for(AlpacaStockSource(AlpacaStocksConfig(symbols=["AAPL"], api_key="k")))
    assert stocks.id_space == "ticker"
    assert (stocks.resolve("AAPL", None), stocks.resolve("MSFT", None)) == ("AAPL", None)


def test_a_source_may_declare_its_own_mapping() -> None:
    declared = ContractSetMapping(lambda: [OTHER])

    class Declaring:
        name = "venue"

        def id_mapping(self) -> ContractSetMapping:
            return declared

    assert mapping_for(Declaring()) is declared


# ------------------------------------------------------------------ crypto venue symbols


def test_a_venue_symbol_the_table_does_not_list_is_quarantined_and_listed_ones_pass() -> None:
    lane = IdBridge().lane("binance", VenueSymbolMapping(default_table()))
    listed = crypto_trade()
    assert lane.translate(listed) is lane.translate(listed) is listed
    unlisted = crypto_trade(venue_symbol="DOGEUSDT", symbol="DOGE-USDT")
    out = lane.translate(unlisted)
    assert isinstance(out, Quarantined) and out.reason == "unmapped_id"
    assert "binance venue id binance-spot:DOGEUSDT" in out.detail
    perp = crypto_trade(venue="binance-usdm", symbol="BTC-USDT")  # the table says -PERP
    mismatched = lane.translate(perp)
    assert isinstance(mismatched, Quarantined) and mismatched.reason == "id_mismatch"


def test_venue_ids_are_written_venue_colon_symbol() -> None:
    mapping = VenueSymbolMapping(default_table())
    key = mapping.parse_id("bybit-linear:ETHUSDT")
    assert key == ("bybit-linear", "ETHUSDT") and mapping.describe(key) == "bybit-linear:ETHUSDT"
    assert mapping.resolve(key, None) == "ETH-USDT-PERP"
    with pytest.raises(ValueError, match="venue:SYMBOL"):
        mapping.parse_id("BTCUSDT")


def test_strict_mode_refuses_to_start_on_an_override_the_source_already_contradicts(
    tmp_path: Path,
) -> None:
    path = tmp_path / "id-overrides.toml"
    path.write_text(
        '[[override]]\nsource = "binance"\nid = "binance-spot:BTCUSDT"\nsymbol = "XBT-USDT"\n'
    )
    table = default_table()
    with pytest.raises(OverridesError, match="strict mode refuses binance id") as refused:
        IdBridge("strict", path).lane("binance", VenueSymbolMapping(table))
    assert refused.value.code == "id_override_conflict" and "'BTC-USDT'" in str(refused.value)
    lane = IdBridge("default", path).lane("binance", VenueSymbolMapping(table))
    renamed = lane.translate(crypto_trade())
    assert isinstance(renamed, CryptoTrade) and renamed.symbol == "XBT-USDT"

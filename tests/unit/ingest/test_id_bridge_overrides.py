"""The operators' overrides file: read strictly, reloaded when it changes, a bad reload kept
out (one line saying why) with the previous overrides still in force."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ingest.bridge import (
    ContractSetMapping,
    IdBridge,
    OverridesError,
    parse_overrides,
)
from ingest.bridge.databento_ids import DatabentoDayMapping
from ingest.databento.symbology import Symbology
from schemas.events import OptionPrint, Quarantined
from tests.kit.events import option_print

CALL = "AAPL  260116C00250000"
PUT = "AAPL  260116P00250000"
OTHER = "MSFT  260116C00400000"
OTHER_NEXT = "MSFT  260116C00405000"


def write(path: Path, text: str) -> None:
    """Replace the file's content and move its mtime on (a rewrite within the filesystem's
    timestamp tick would otherwise look unchanged to stat())."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    later = max(path.stat().st_mtime_ns, before + 1_000_000)
    os.utime(path, ns=(later, later))


def entry(source: str, ident: str, symbol: str) -> str:
    return f'[[override]]\nsource = "{source}"\nid = "{ident}"\nsymbol = "{symbol}"\n'


def symbol_after(lane, symbol: str) -> str:
    out = lane.translate(option_print(source="alpaca", symbol=symbol))
    return "quarantined" if isinstance(out, Quarantined) else out.symbol


def started(tmp_path: Path, mode: str, text: str):
    path = tmp_path / "id-overrides.toml"
    write(path, text)
    bridge = IdBridge(mode, path)
    return path, bridge, bridge.lane("alpaca", ContractSetMapping(lambda: [CALL]))


def test_toml_and_json_files_say_the_same_overrides(tmp_path: Path) -> None:
    toml = entry("alpaca", OTHER, OTHER_NEXT) + entry("ibkr", "12345", CALL)
    listed = [
        {"source": "alpaca", "id": OTHER, "symbol": OTHER_NEXT},
        {"source": "ibkr", "id": 12345, "symbol": CALL},
    ]
    expected = {"alpaca": {OTHER: OTHER_NEXT}, "ibkr": {"12345": CALL}}
    assert parse_overrides(tmp_path / "o.toml", toml.encode()) == expected
    assert parse_overrides(tmp_path / "o.json", json.dumps({"override": listed}).encode()) == (
        expected
    )


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[[override]\n", "not valid TOML"),
        ('[[override]]\nsource = "alpaca"\nid = "X"\n', "expected the fields source, id, symbol"),
        ('[[override]]\nsource = "alpaca"\nid = "X"\nsymbol = ""\n', "symbol must be non-empty"),
        ('override = "X"\n', "'override' must be a list"),
        ('[[rename]]\nsource = "a"\n', "only a list named 'override'"),
        (entry("alpaca", OTHER, CALL) + entry("alpaca", OTHER, PUT), "is listed twice"),
    ],
)
def test_a_malformed_file_is_one_line_naming_the_file(
    tmp_path: Path, text: str, complaint: str
) -> None:
    path = tmp_path / "o.toml"
    with pytest.raises(OverridesError, match=complaint) as raised:
        parse_overrides(path, text.encode())
    message = str(raised.value)
    assert message.startswith(f"[id_overrides] {path}") and "\n" not in message


def test_a_missing_or_malformed_file_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(OverridesError, match="cannot read the id overrides"):
        IdBridge("default", tmp_path / "absent.toml")
    path = tmp_path / "bad.toml"
    write(path, entry("alpaca", "not an instrument", CALL).replace("alpaca", "databento", 1))
    with pytest.raises(OverridesError, match="databento .databento ids.: expected instrument_id@"):
        IdBridge("default", path).lane("databento", DatabentoDayMapping(Symbology()))


def test_an_override_applies_after_the_file_changes_and_is_reloaded(tmp_path: Path) -> None:
    path, bridge, lane = started(tmp_path, "default", "")
    assert symbol_after(lane, OTHER) == "quarantined"
    assert bridge.poll() is False  # unchanged: nothing read
    write(path, entry("alpaca", OTHER, OTHER_NEXT) + entry("ibkr", "1", CALL))
    assert symbol_after(lane, OTHER) == "quarantined"  # not before the poll
    assert bridge.poll() is True
    assert symbol_after(lane, OTHER) == OTHER_NEXT
    assert (bridge.reloads, bridge.active(), bridge.problems) == (1, 1, 0)
    write(path, "")
    assert bridge.poll() is True
    assert symbol_after(lane, OTHER) == "quarantined" and bridge.active() == 0


def test_a_file_rewritten_with_the_same_content_is_not_a_reload(tmp_path: Path) -> None:
    text = entry("alpaca", OTHER, OTHER_NEXT)
    path, bridge, _ = started(tmp_path, "default", text)
    write(path, text)
    assert bridge.poll() is False and bridge.reloads == 0


def test_strict_mode_refuses_a_conflicting_override_and_keeps_the_old_ones(
    tmp_path: Path,
) -> None:
    path, bridge, lane = started(tmp_path, "strict", entry("alpaca", OTHER, OTHER_NEXT))
    assert symbol_after(lane, OTHER) == OTHER_NEXT
    # CALL is the source's own contract: renaming it conflicts with the source's mapping
    write(path, entry("alpaca", OTHER, OTHER_NEXT) + entry("alpaca", CALL, PUT))
    assert bridge.poll() is False
    assert (bridge.reload_errors, bridge.refused_reloads, bridge.problems) == (1, 1, 1)
    error = bridge.last_error or ""
    assert "\n" not in error and "[id_override_conflict]" in error
    assert f"alpaca id {CALL} -> {PUT!r} conflicts with the source's own {CALL!r}" in error
    assert symbol_after(lane, OTHER) == OTHER_NEXT and symbol_after(lane, CALL) == CALL
    assert bridge.report()["overrides"]["refusedReloads"] == 1


def test_default_mode_takes_the_same_override(tmp_path: Path) -> None:
    path, bridge, lane = started(tmp_path, "default", "")
    write(path, entry("alpaca", CALL, PUT))
    assert bridge.poll() is True and symbol_after(lane, CALL) == PUT


def test_a_malformed_reload_is_said_once_and_the_old_overrides_stay(tmp_path: Path) -> None:
    path, bridge, lane = started(tmp_path, "default", entry("alpaca", OTHER, OTHER_NEXT))
    write(path, "[[override]\nthis is not toml")
    assert bridge.poll() is False and bridge.poll() is False
    assert (bridge.reload_errors, bridge.problems) == (1, 1)
    error = bridge.last_error or ""
    assert error.startswith("id overrides not reloaded, the previous stay in force: [id_overrides]")
    assert "not valid TOML" in error and "\n" not in error
    assert symbol_after(lane, OTHER) == OTHER_NEXT
    path.unlink()
    assert bridge.poll() is False and bridge.poll() is False
    assert bridge.problems == 2 and "cannot read the id overrides" in (bridge.last_error or "")
    write(path, entry("alpaca", OTHER, CALL))
    assert bridge.poll() is True and symbol_after(lane, OTHER) == CALL


def test_a_reload_with_an_unreadable_id_for_a_running_source_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "o.toml"
    write(path, entry("databento", "7@2026-01-02", CALL))
    bridge = IdBridge("default", path)
    lane = bridge.lane("databento", DatabentoDayMapping(Symbology()))
    write(path, entry("databento", "7 on Friday", CALL))
    assert bridge.poll() is False and "expected instrument_id@YYYY-MM-DD" in (
        bridge.last_error or ""
    )
    assert len(lane.overrides) == 1


def test_the_report_counts_per_source(tmp_path: Path) -> None:
    _, bridge, lane = started(tmp_path, "default", entry("alpaca", OTHER, OTHER_NEXT))
    symbol_after(lane, PUT)
    symbol_after(lane, OTHER)
    assert isinstance(lane.translate(option_print(source="alpaca", symbol=CALL)), OptionPrint)
    report = bridge.report()
    assert report["mode"] == "default" and report["overrides"]["active"] == 1
    counts = report["sources"]["alpaca"]
    assert counts["idSpace"] == "occ"
    assert (counts["unmapped"], counts["quarantined"], counts["renamed"]) == (1, 1, 1)

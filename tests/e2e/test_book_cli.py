"""`flowtape book`: trades of rebuilt books with the touch before them, as a person runs it."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import zstandard

from synth.book import generate_book_session
from synth.book_dbn import write_book_dbn

pytestmark = pytest.mark.slow

SESSION = generate_book_session(2024, 1_500)

# name: arguments (run in a folder holding the files the fixture below puts there)
CASES: dict[str, list[str]] = {
    "synthetic mbo": ["ESH1.mbo.dbn.zst", "--trades-out", "mbo.csv"],
    "synthetic mbp-10": ["ESH1.mbp-10.dbn.zst", "--trades-out", "mbp.csv"],
    "real cme mbo": ["glbx.mbo.dbn.zst", "--trades-out", "glbx.csv"],
    "real nasdaq mbo and mbp-10": [
        "xnas.mbo.dbn.zst",
        "xnas.mbp-10.dbn.zst",
        "--trades-out",
        "xnas.csv",
    ],  # fmt: skip
    "missing file": ["nowhere.mbo.dbn.zst", "--trades-out", "x.csv"],
    "wrong schema": ["trades.dbn.zst", "--trades-out", "x.csv"],
    "not dbn": ["corrupt.dbn", "--trades-out", "x.csv"],
    "cut file": ["cut.mbo.dbn.zst", "--trades-out", "cut.csv"],
    "unwritable output": ["ESH1.mbo.dbn.zst", "--trades-out", "taken/x.csv"],
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    folder = tmp_path_factory.mktemp("book_cli")
    mbo, _ = write_book_dbn(SESSION, folder)
    glbx, xnas = shared_data / "GLBX.MDP3", shared_data / "XNAS.ITCH"
    shutil.copy(glbx / "test_data.mbo.dbn.zst", folder / "glbx.mbo.dbn.zst")
    shutil.copy(xnas / "test_data.mbo.dbn.zst", folder / "xnas.mbo.dbn.zst")
    shutil.copy(xnas / "test_data.mbp-10.dbn.zst", folder / "xnas.mbp-10.dbn.zst")
    shutil.copy(glbx / "test_data.trades.dbn.zst", folder / "trades.dbn.zst")
    (folder / "corrupt.dbn").write_bytes(b"DBN? no: " + bytes(range(256)))
    (folder / "taken").write_text("a file, not a folder\n")
    # The same MBO file, uncompressed and cut inside a record two thirds of the way in.
    raw = zstandard.ZstdDecompressor().decompressobj().decompress(mbo.read_bytes())
    (folder / "cut.mbo.dbn.zst").write_bytes(raw[: len(raw) * 2 // 3 + 7])
    return folder


@pytest.fixture(scope="module")
def results(folder: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "book", *args],
            cwd=folder, env=dict(os.environ), capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(CASES, pool.map(run, CASES.values()), strict=True))


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def dollars(price: int | None) -> str:
    """The expected decimal, written independently of the command's formatter."""
    if price is None:
        return ""
    return format(price / 10**9, ".9f").rstrip("0").rstrip(".")


def size(value: int | None) -> str:
    return "" if value is None else str(value)


def test_every_trade_is_written_with_the_true_touch_just_before_it(
    folder: Path, results: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    assert results["synthetic mbo"].returncode == 0, results["synthetic mbo"].stderr
    written = rows(folder / "mbo.csv")
    expected = [
        {"ts_recv": str(t.ts_recv), "instrument_id": "5482", "price": dollars(t.price),
         "size": str(t.size), "side": t.side, "bid_px": dollars(t.bid_px),
         "ask_px": dollars(t.ask_px), "bid_sz": size(t.bid_sz), "ask_sz": size(t.ask_sz)}
        for t in SESSION.trades
    ]  # fmt: skip
    assert len(expected) > 100 and written == expected
    summary = results["synthetic mbo"].stderr
    assert f"aggressor trades at or through the touch: {len(expected):,}, inside it: 0" in summary


def test_mbo_rebuilt_and_mbp10_read_write_the_same_tape(
    folder: Path, results: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    assert results["synthetic mbp-10"].returncode == 0, results["synthetic mbp-10"].stderr
    assert (folder / "mbp.csv").read_bytes() == (folder / "mbo.csv").read_bytes()


def test_the_real_samples_are_read(
    folder: Path, results: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    # The stored samples hold book records but no trade: a header and a summary of nothing.
    for case, out in (("real cme mbo", "glbx.csv"), ("real nasdaq mbo and mbp-10", "xnas.csv")):
        assert results[case].returncode == 0, results[case].stderr
        assert (folder / out).read_text().splitlines() == [
            "ts_recv,instrument_id,price,size,side,bid_px,ask_px,bid_sz,ask_sz"
        ]
    # Both Nasdaq files name one book: the MBO feed builds it, the MBP-10 events are counted.
    assert "ignored_other_feed:mbp10=4" in results["real nasdaq mbo and mbp-10"].stderr


@pytest.mark.parametrize(
    ("case", "code"),
    [("missing file", "missing_file"), ("wrong schema", "wrong_schema"),
     ("not dbn", "malformed_dbn"), ("unwritable output", "output")],
)  # fmt: skip
def test_bad_input_is_one_line_with_a_code(
    case: str, code: str, results: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    result = results[case]
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: [{code}] "), result.stderr


def test_a_cut_file_writes_the_trades_before_the_cut_then_fails(
    folder: Path, results: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    result = results["cut file"]
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: [truncated_dbn] ")
    written = rows(folder / "cut.csv")
    full = rows(folder / "mbo.csv")
    assert 0 < len(written) < len(full) and written == full[: len(written)]

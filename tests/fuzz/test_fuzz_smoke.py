"""A short coverage-guided run of every edge parser's fuzz harness (bench/fuzz/): no input
makes a parser raise anything but a documented FlowtapeError, and every rejection has a
reason. The full runs (>= 1 M inputs each) are `bench/fuzz_all.py`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parents[2] / "bench" / "fuzz"
# Inputs per harness: the whole smoke stays within about 20 s on two cores.
INPUTS = {
    "crypto_frames": 5_000,
    "dbn_records": 2_000,
    "ipc_frames": 3_000,
    "payment_headers": 5_000,
    "ws_commands": 3_000,
}
# What each harness must have rejected at least once (so the run reached the parser).
EXPECTED_REJECTION = {
    "crypto_frames": "malformed_json",
    "dbn_records": "malformed_dbn",
    "ipc_frames": "bad_request",
    "payment_headers": "error:malformed",
    "ws_commands": "unknown channels",
}


def fuzz(name: str, inputs: int, folder: Path) -> dict[str, object]:
    report = folder / f"{name}.json"
    command = [
        sys.executable, str(FUZZ / f"fuzz_{name}.py"), "--inputs", str(inputs), "--seed", "1",
        "--report", str(report), "--crash-dir", str(folder / "crashes"),
    ]  # fmt: skip
    done = subprocess.run(  # noqa: S603  (our own harness)
        command,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
        env={**os.environ, "RUST_BACKTRACE": "0"},
        check=False,
    )
    assert report.is_file(), f"{name} ended without a report:\n{done.stderr[-3000:]}"
    return dict(json.loads(report.read_text()))


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_fuzzing_an_edge_parser_finds_no_crash(name: str, tmp_path: Path) -> None:
    report = fuzz(name, INPUTS[name], tmp_path)
    assert report["inputs"] == INPUTS[name]
    crashes = dict(report["crashes"])  # type: ignore[call-overload]
    messages = report["crash_messages"]
    assert not crashes, f"{name} crashed: {crashes}\n{messages}\n{report['reproducers']}"
    assert dict(report["rejections"]).get(EXPECTED_REJECTION[name], 0) > 0  # type: ignore[call-overload]

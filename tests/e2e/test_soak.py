"""bench/soak.py on a short run: the synthetic market through `flowtape up` at a low rate,
sessions played one after another, every process, lag and parts figure sampled, and the
summary agreeing with the samples it wrote."""

from __future__ import annotations

import csv
import functools
import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SOAK = ROOT / "bench" / "soak.py"
SECONDS, INTERVAL, WARMUP = 30, 2, 5  # the warm-up ends between two samples
LEVEL_WINDOW = 10  # seconds per median of RSS
STREAM_MAX_MB = 64
# The processes of `flowtape up` on the synthetic market that run through the whole soak.
SERVICES = ("up", "nats-server", "valkey-server", "clickhouse", "sink", "compute", "daemon",
            "alpha", "api", "ingest synthetic-cme")  # fmt: skip
LAGS = ("lag_compute", "lag_sink_raw", "lag_sink_derived", "pending_raw", "pending_derived")
SERVER_ENV = ("NATS_URL", "REDIS_URL", "CLICKHOUSE_URL")


@dataclass
class SoakRun:
    printed: str
    rows: list[dict[str, str]]
    out: Path

    def column(self, name: str) -> list[float]:
        return [float(row[name]) for row in self.rows if row[name] != ""]


@pytest.fixture(scope="module")
def soak(tmp_path_factory: pytest.TempPathFactory) -> SoakRun:
    out = tmp_path_factory.mktemp("soak")
    # 200 prints/s is the synthetic market at 5x: a one-minute session plays in 12 s
    command = [sys.executable, str(SOAK), "--seconds", str(SECONDS), "--interval",
               str(INTERVAL), "--warmup", str(WARMUP), "--rate", "200",
               "--level-window", str(LEVEL_WINDOW), "--stream-max-bytes",
               str(STREAM_MAX_MB * 1024**2),
               "--session-minutes", "1", "--out", str(out)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in SERVER_ENV}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    log = (out / "stack.log").read_text() if (out / "stack.log").exists() else ""
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{log[-3000:]}"
    with (out / "soak.csv").open() as f:
        return SoakRun(done.stdout, list(csv.DictReader(f)), out)


@functools.cache
def soak_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak", SOAK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("lag", "bounded"),
    [
        ([0, 40, 99, 60, 99, 10], True),  # under the 100-message floor, whatever its shape
        ([300, 120, 280, 90, 310, 100, 290, 110], True),  # swings, second-half max 310 <= 450
        ([0, 120, 240, 360, 480, 600, 720, 840], False),  # 840 > 1.5 x 360
        ([400, 100, 200, 200, 200, 210, 220, 230], False),  # under 1.5 x 400, yet only rising
        ([500], False),  # one sample over the floor bounds nothing
    ],
)
def test_the_lag_rule(lag: list[int], bounded: bool) -> None:
    assert soak_module().lag_is_bounded(lag) is bounded


@pytest.mark.parametrize(
    ("times", "values", "medians"),
    [
        ([0, 1, 2, 3], [5, 9, 7, 100], [8.0]),  # one window: its median
        ([0, 5, 10, 15, 20], [1, 3, 10, 20, 30], [2.0, 20.0]),  # 20 s is half a window: joins
        ([0, 5, 10, 15, 26], [1, 3, 10, 20, 30], [2.0, 15.0, 30.0]),  # 26 s: its own window
    ],
)
def test_the_rss_levels_are_medians_of_windows(
    times: list[float], values: list[float], medians: list[float]
) -> None:
    assert soak_module().levels(times, values, 10) == medians
    low, high = min(medians), max(medians)
    assert soak_module().drift(times, values, 10) == pytest.approx((high - low) / low)


def printed_number(printed: str, pattern: str) -> float:
    found = re.search(pattern, printed)
    assert found, f"no line matching {pattern!r} in:\n{printed}"
    return float(found.group(1).replace(",", ""))


def test_every_service_is_sampled_in_every_sample_with_its_memory(soak: SoakRun) -> None:
    assert len(soak.rows) == SECONDS // INTERVAL + 1
    for name in SERVICES:
        rss = soak.column(f"rss_mb:{name}")
        assert len(rss) == len(soak.rows), f"{name} missing from some samples"
        assert all(mb > 1 for mb in rss), name
        assert len(soak.column(f"cpu_pct:{name}")) == len(soak.rows) - 1  # from the 2nd on
    assert soak.column("rss_mb:ingest synthetic"), "the synthetic session's ingest"


def test_lags_consumers_and_parts_are_sampled_and_the_parts_add_up(soak: SoakRun) -> None:
    for lag in LAGS:
        assert all(value >= 0 and value.is_integer() for value in soak.column(lag)), lag
    # RAW is read by compute, sink, daemon and alpha; DERIVED by the sink and the API's tape
    assert soak.column("consumers_raw")[-1] >= 4
    assert soak.column("consumers_derived")[-1] >= 2
    for name in ("consumers_raw", "consumers_derived"):
        printed = printed_number(soak.printed, rf"{name} max (\d+), at the end (?:\d+)")
        assert printed == max(soak.column(name))
    tables = [name for name in soak.rows[0] if name.startswith("parts:")]
    assert {"parts:option_prints", "parts:print_inference"} <= set(tables)
    for row in soak.rows:
        assert int(row["parts_total"]) == sum(int(row[t]) for t in tables)
        assert int(row["parts_max_partition"]) <= max(int(row[t]) for t in tables)
    largest = printed_number(soak.printed, r"in one partition: max (\d+)")
    assert largest == max(soak.column("parts_max_partition")) >= 1
    assert int(soak.rows[-1]["parts:option_prints"]) > 0


def test_prints_stored_grow_and_their_rate_is_their_difference(soak: SoakRun) -> None:
    prints, times = soak.column("prints"), soak.column("t_s")
    rates = soak.column("prints_per_s")
    assert prints == sorted(prints) and prints[-1] > 0
    for i in range(1, len(prints)):
        expected = (prints[i] - prints[i - 1]) / (times[i] - times[i - 1])
        assert rates[i] == pytest.approx(expected, rel=1e-3, abs=0.1)
    achieved = printed_number(soak.printed, r"achieved: [\d,]+ option prints stored, ([\d,]+) ")
    over_run = (prints[-1] - prints[0]) / (times[-1] - times[0])
    assert achieved == pytest.approx(over_run, abs=1.0)


def test_a_played_session_is_followed_by_the_next(soak: SoakRun) -> None:
    played = printed_number(soak.printed, r"(\d+) sessions started, 0 failed")
    days = printed_number(soak.printed, r"session days stored: (\d+)")
    assert played >= 2  # `up`'s one-minute session, then at least one started by the soak
    # read from ClickHouse; the next session's prints may still be coming when the run ends
    assert 1 <= days <= played


def test_the_printed_memory_figures_are_those_of_the_samples_after_the_warm_up(
    soak: SoakRun,
) -> None:
    settled = [row for row in soak.rows if float(row["t_s"]) >= WARMUP]
    spreads, drifts = {}, {}
    for name in SERVICES:
        values = [float(row[f"rss_mb:{name}"]) for row in settled]
        low, high = min(values), max(values)
        line = re.search(rf"^  {re.escape(name)} +([\d.]+) +([\d.]+) +([\d.]+) %", soak.printed,
                         re.MULTILINE)  # fmt: skip
        assert line, f"no memory line for {name}:\n{soak.printed}"
        # printed to 0.1 MB, sampled to 0.001 MB: half a tenth apart at most, and a rounding
        assert float(line.group(1)) == pytest.approx(low, abs=0.06)
        assert float(line.group(2)) == pytest.approx(high, abs=0.06)
        spreads[name] = 100 * (high - low) / low
        assert float(line.group(3)) == pytest.approx(spreads[name], abs=0.2)
        drift = re.search(rf"^  {re.escape(name)} .* drift +([\d.]+) %", soak.printed,
                          re.MULTILINE)  # fmt: skip
        assert drift, soak.printed
        assert float(drift.group(1)) <= spreads[name] + 0.1  # medians move less than samples
        drifts[name] = float(drift.group(1))
    verdict = re.search(r"verdict: RSS flat within 10 % after warm-up: (yes|no) \(largest "
                        r"drift ([\d.]+) %", soak.printed)  # fmt: skip
    assert verdict, soak.printed
    assert float(verdict.group(2)) >= max(drifts.values()) - 0.1
    assert verdict.group(1) == ("yes" if float(verdict.group(2)) <= 10 else "no")


def test_what_the_servers_hold_is_sampled_within_the_streams_cap(soak: SoakRun) -> None:
    raw, derived, valkey = (soak.column(f"held_mb:{name}") for name in ("raw", "derived", "valkey"))
    assert len(raw) == len(derived) == len(valkey) == len(soak.rows)
    assert raw[-1] > 0 and derived[-1] > 0 and min(valkey) > 0
    assert max(raw + derived) <= STREAM_MAX_MB
    printed = re.search(r"held after the warm-up \(MB\) min, max, at the end: raw [\d.,]+ "
                        r"[\d.,]+ ([\d.,]+)", soak.printed)  # fmt: skip
    assert printed, soak.printed
    assert float(printed.group(1).replace(",", "")) == pytest.approx(raw[-1], abs=0.06)


def test_the_lag_verdict_and_the_curves_are_written(soak: SoakRun) -> None:
    assert re.search(r"verdict: lag bounded: (yes|no) \(unbounded: ", soak.printed)
    maxima = re.search(r"max lag after the warm-up \(messages\): (.*)", soak.printed)
    assert maxima, soak.printed
    settled = [row for row in soak.rows if float(row["t_s"]) >= WARMUP]
    for lag in LAGS:
        printed = printed_number(maxima.group(1), rf"{lag} (\d+)")
        assert printed == max(int(row[lag]) for row in settled)
    assert (soak.out / "soak.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

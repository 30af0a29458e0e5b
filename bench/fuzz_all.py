"""Run every fuzz harness in bench/fuzz/ and print its figures.

Each harness (coverage-guided, atheris/libFuzzer) runs in its own process for `--runs`
inputs or `--seconds` seconds, whichever comes first; printed per harness: inputs,
inputs/s, crashes (by signature, with the reproducer kept in --crash-dir) and rejections by
reason. The exit status is 1 when any harness crashed.

Usage: .venv/bin/python bench/fuzz_all.py [--runs 1000000] [--seconds 3600]
       [--only dbn_records ws_commands] [--crash-dir fuzz-crashes]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

FUZZ = Path(__file__).resolve().parent / "fuzz"
HARNESSES = {path.stem.removeprefix("fuzz_"): path for path in sorted(FUZZ.glob("fuzz_*.py"))}


def run_harness(path: Path, runs: int, seconds: float, crash_dir: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="fuzz-report-") as folder:
        report = Path(folder) / "report.json"
        command = [
            sys.executable, str(path), "--inputs", str(runs), "--seconds", str(seconds),
            "--report", str(report), "--crash-dir", str(crash_dir),
        ]  # fmt: skip
        # libFuzzer's progress lines go to stderr: kept out of the figures.
        done = subprocess.run(  # noqa: S603  (our own harness, argument list)
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "RUST_BACKTRACE": "0"},
            check=False,
        )
        if not report.is_file():
            tail = "\n".join(done.stderr.splitlines()[-15:])
            return {"harness": path.stem, "failed": f"exit {done.returncode}:\n{tail}"}
        return dict(json.loads(report.read_text()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000, help="inputs per harness")
    parser.add_argument("--seconds", type=float, default=3_600.0, help="time per harness")
    parser.add_argument("--only", nargs="*", choices=sorted(HARNESSES), default=sorted(HARNESSES))
    parser.add_argument("--crash-dir", type=Path, default=Path("fuzz-crashes"))
    args = parser.parse_args()
    crashed = False
    print(f"{'harness':<16} {'inputs':>10} {'seconds':>9} {'inputs/s':>10} {'crashes':>8}")
    for name in args.only:
        report = run_harness(HARNESSES[name], args.runs, args.seconds, args.crash_dir.resolve())
        if "failed" in report:
            crashed = True
            print(f"{name:<16} did not finish: {report['failed']}")
            continue
        crashes = dict(report["crashes"])  # type: ignore[call-overload]
        crashed = crashed or bool(crashes)
        print(
            f"{name:<16} {report['inputs']:>10,} {report['seconds']:>9.1f} "
            f"{report['inputs_per_s']:>10,.0f} {sum(crashes.values()):>8}"
        )
        print(f"  accepted: {report['accepted']:,}")
        for reason, count in dict(report["rejections"]).items():  # type: ignore[call-overload]
            print(f"  rejected {count:>9,}  {reason}")
        messages = dict(report["crash_messages"])  # type: ignore[call-overload]
        for signature, count in crashes.items():
            print(f"  CRASH    {count:>9,}  {signature}: {messages.get(signature, '')}")
        for reproducer in report["reproducers"]:  # type: ignore[attr-defined]
            print(f"  reproducer: {reproducer}")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())

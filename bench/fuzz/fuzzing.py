"""What every fuzz harness shares: the atheris run, the property, and the report.

A harness is a script in this folder that imports the parser it targets inside
`atheris.instrument_imports(...)` (coverage guides the mutations) and hands `run` a
function of one input. That function returns the reasons of the rejections the parser gave
(a Quarantined event's reason, an error frame's code or detail; an empty list for input
accepted as it is). The property checked on every input:

- no exception escapes other than the project's documented errors (`FlowtapeError` and its
  subclasses, each with a code and a message), and
- every rejection carries a reason (an empty reason is a violation too).

Anything else is a crash: counted by signature (the exception type and the innermost line of
flowtape code it came from), its first input kept as a reproducer. The run stops after
`--inputs` inputs or `--seconds` seconds and writes a JSON report:
{harness, inputs, seconds, inputs_per_s, accepted, rejections: {reason: n},
crashes: {signature: n}, reproducers: [path]}.

Usage: .venv/bin/python bench/fuzz/<harness>.py --inputs 20000 --report out.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import atheris

from schemas.errors import FlowtapeError

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
# The corpus and any file a harness writes; removed when the run ends.
SCRATCH = Path(tempfile.mkdtemp(prefix="fuzz-"))
OneInput = Callable[[bytes], Iterable[str]]


class Violation(Exception):
    """The parser answered without an exception but broke the property (a rejection
    without a reason, a request left unanswered)."""


def _signature(exc: BaseException) -> str:
    """The exception type and the innermost frame of flowtape code it passed through."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if str(REPO) in f.filename and "/.venv/" not in f.filename]
    where = ours[-1] if ours else (frames[-1] if frames else None)
    place = f"{Path(where.filename).relative_to(REPO)}:{where.lineno}" if where and ours else "?"
    return f"{type(exc).__name__} at {place}"


class _Tally:
    def __init__(self, name: str, inputs: int, seconds: float, report: Path, crash_dir: Path):
        self.name = name
        self.inputs = inputs
        self.deadline = time.monotonic() + seconds
        self.report = report
        self.crash_dir = crash_dir
        self.started = time.monotonic()
        self.count = 0
        self.accepted = 0
        self.rejections: Counter[str] = Counter()
        self.crashes: Counter[str] = Counter()
        self.first_crash: dict[str, str] = {}
        self.reproducers: list[str] = []

    def one(self, target: OneInput, data: bytes) -> None:
        self.count += 1
        try:
            reasons = list(target(data))
            if any(not reason for reason in reasons):
                raise Violation("a rejection without a reason")
            if reasons:
                self.rejections.update(reasons)
            else:
                self.accepted += 1
        except FlowtapeError as exc:
            if not exc.code or not str(exc).removeprefix(f"[{exc.code}]").strip():
                self._crash(Violation(f"{type(exc).__name__} without code or message"), data)
            else:
                self.rejections[f"error:{exc.code}"] += 1
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001  (anything else is the finding, a Rust panic too)
            self._crash(exc, data)
        if self.count >= self.inputs or time.monotonic() >= self.deadline:
            self.finish()

    def _crash(self, exc: BaseException, data: bytes) -> None:
        signature = _signature(exc)
        self.crashes[signature] += 1
        if signature not in self.first_crash:
            self.first_crash[signature] = f"{type(exc).__name__}: {exc}"[:300]
            self.crash_dir.mkdir(parents=True, exist_ok=True)
            path = self.crash_dir / f"crash-{self.name}-{hashlib.sha256(data).hexdigest()[:16]}"
            path.write_bytes(data)
            self.reproducers.append(str(path))

    def finish(self) -> None:
        """Write the report and end the process (libFuzzer never returns to Python)."""
        seconds = time.monotonic() - self.started
        report = {
            "harness": self.name,
            "inputs": self.count,
            "seconds": round(seconds, 3),
            "inputs_per_s": round(self.count / seconds, 1) if seconds else 0.0,
            "accepted": self.accepted,
            "rejections": dict(self.rejections.most_common()),
            "crashes": dict(self.crashes),
            "crash_messages": self.first_crash,
            "reproducers": self.reproducers,
        }
        self.report.write_text(json.dumps(report, indent=1))
        shutil.rmtree(SCRATCH, ignore_errors=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def run(name: str, target: OneInput, seeds: Iterable[bytes]) -> None:
    """Fuzz `target` from `seeds` under the command line's budget (see the module doc)."""
    parser = argparse.ArgumentParser(description=f"fuzz the {name} parser")
    parser.add_argument("--inputs", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=3600.0)
    parser.add_argument("--seed", type=int, default=1, help="libFuzzer's random seed")
    parser.add_argument("--report", type=Path, default=Path(f"fuzz-{name}.json"))
    parser.add_argument("--crash-dir", type=Path, default=Path("fuzz-crashes"))
    parser.add_argument("--max-len", type=int, default=8192)
    parser.add_argument("--replay", type=Path, nargs="*", default=[],
                        help="run these inputs once each instead of fuzzing")  # fmt: skip
    args = parser.parse_args()
    tally = _Tally(name, args.inputs, args.seconds, args.report, args.crash_dir)
    if args.replay:
        for path in args.replay:
            tally.one(target, path.read_bytes())
        tally.finish()
    corpus = SCRATCH / "corpus"
    corpus.mkdir()
    for index, seed in enumerate(seeds):
        (corpus / f"seed-{index:04d}").write_bytes(seed[: args.max_len])
    # Linux keeps a process's peak RSS across fork and exec, and libFuzzer judges memory by
    # that peak: started by a large parent (pytest late in a run), a harness would be out of
    # memory at its first input. The limit is 2 GB above what the process started with.
    inherited_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    flags = [
        sys.argv[0],
        f"-rss_limit_mb={inherited_mb + 2048}",
        f"-seed={args.seed}",
        f"-max_len={args.max_len}",
        "-runs=-1",
        "-print_final_stats=0",
        str(corpus),
    ]
    atheris.Setup(flags, lambda data: tally.one(target, data))
    atheris.Fuzz()

"""The ID bridge's cost per event: the synthetic market's events through a bridge lane.

Times `BridgeLane.translate` over events already checked once (the steady state: a dict
lookup and a string comparison) in each id space, an empty loop over the same events to
subtract, the service's repeat check (`admit`) on the same events for scale, and the first
pass that fills the lane's table (each id resolved by its source's
mapping once). Times are this process's CPU time, best of `repeats`; the load average is
printed beside them (other processes on the machine slow every figure down alike).
Usage: `.venv/bin/python bench/bench_id_bridge.py [minutes] [repeats]`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

from ingest.bridge import ContractSetMapping, IdBridge, SymbolMapping
from ingest.bridge.databento_ids import DatabentoDayMapping
from ingest.databento.parsing import RecordNormaliser
from ingest.synthetic.source import session_events
from schemas.events import Event, OptionPrint, OptionQuote
from schemas.ordering import HighWater, admit
from synth.config import SynthConfig
from synth.session import generate_session


def _best_ns(run: Callable[[], None], repeats: int) -> int:
    best = None
    for _ in range(repeats):
        started = time.process_time_ns()
        run()
        took = time.process_time_ns() - started
        best = took if best is None else min(best, took)
    assert best is not None  # noqa: S101  (repeats >= 1)
    return best


def _loop_of(step: Callable[[Event], Event], events: list[Event]) -> Callable[[], None]:
    def run() -> None:
        for event in events:
            step(event)

    return run


def main(minutes: int, repeats: int) -> None:
    normaliser = RecordNormaliser("synthetic")
    session = generate_session(SynthConfig(seed=1, minutes=minutes))
    events = list(session_events(session, normaliser))
    options = [e for e in events if isinstance(e, OptionPrint | OptionQuote)]
    contracts = sorted({e.symbol for e in options})
    n = len(events)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{n:,} events ({len(options):,} option prints and quotes), best of {repeats}")
    print(f"load average {load} on {os.cpu_count()} CPUs")

    baseline = _best_ns(_loop_of(lambda event: event, events), repeats)
    print(f"empty loop: {baseline / n:.1f} ns/event")

    def admit_all() -> None:
        marks: HighWater = {}
        for event in events:
            admit(marks, event)

    print(f"for scale, the service's repeat check: {_best_ns(admit_all, repeats) / n:.1f} ns/event")
    lanes = {
        "databento (instrument_id@day)": (DatabentoDayMapping(normaliser.symbology), events),
        "occ (subscribed contracts)": (ContractSetMapping(lambda: contracts), options),
        "symbol (recordings)": (SymbolMapping(), events),
    }
    for name, (mapping, stream) in lanes.items():
        lane = IdBridge().lane("synthetic", mapping)
        first = _best_ns(_loop_of(lane.translate, stream), 1)
        steady = _best_ns(_loop_of(lane.translate, stream), repeats)
        assert lane.counters.unmapped == lane.counters.mismatched == 0  # noqa: S101
        per_event = steady / len(stream)
        print(
            f"{name}: {per_event:.1f} ns/event ({per_event - baseline / n:.1f} above the "
            f"empty loop); first pass {first / len(stream):.1f} ns/event"
        )


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 10, int(sys.argv[2]) if len(sys.argv) > 2 else 5
    )

"""Alpha engine throughput: CME events per second through `compute.alpha.step` (frames at
1 Hz included), and frames per second built from a full chain, engine alone (events decoded
beforehand, no bus, no storage).

Two sessions, each cut at `--events` events:
- built: three CL futures moving a tick or two every `--step-ms` of event time, each move
  bringing the front's quote, MBP-10 depth and a trade, and the requotes of three LO
  expiries (`--strikes` a side, calls and puts, Black-76 from a skewed smile) whose
  one-tick-wide quotes changed; definitions first;
- synth: `synth.cme` (CL books and trades, LO options from a known smile) written as GLBX
  DBN files, long enough for `--events`; their decode rate through the Databento ingest
  (`iter_file_events`, canonical merge) is printed beside the engine's.

Usage: .venv/bin/python bench/bench_alpha.py [--events 1000000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import tempfile
import time
from pathlib import Path

from compute.alpha import AlphaConfig, AlphaState, initial_state, step
from compute.alpha.black76 import undiscounted_price
from compute.alpha.frames import build_frames
from ingest.databento import RecordNormaliser, iter_file_events
from schemas.book import F_LAST, BookLevel, Mbp10Event, Mbp10Record
from schemas.cme import AlphaFrame, CmeInstrument, CmeQuote, CmeTrade
from schemas.events import Event
from synth.cme import generate_cme_session, write_cme_session
from synth.cme_config import CmeConfig

SCALE = 1_000_000_000
TICK = 10_000_000
MS = 1_000_000
DAY = 86_400_000_000_000
YEAR_NS = 365 * DAY
T0 = 1_780_000_000 * SCALE
RATE = 0.04


class Session:
    """The generator's state: prices, last quotes sent, sequence numbers."""

    def __init__(self, strikes: int, seed: int) -> None:
        self.random = random.Random(seed)  # noqa: S311  (benchmark data)
        self.price = 70 * SCALE
        self.sequence = 0
        self.sent: dict[int, tuple[int | None, int]] = {}
        self.futures = [(1 + n, f"CL{'NQU'[n]}6", T0 + (30 + 30 * n) * DAY) for n in range(3)]
        # id, future index, strike, call, expiration, symbol
        self.options: list[tuple[int, int, int, bool, int, str]] = []
        for n, (_, symbol, expiration) in enumerate(self.futures):
            for k in range(-strikes, strikes + 1):
                strike = 70 * SCALE + k * SCALE // 2
                for call in (True, False):
                    iid = 10_000 + len(self.options)
                    name = f"LO{symbol[2:]} {'C' if call else 'P'}{strike // 10**7}"
                    self.options.append((iid, n, strike, call, expiration - DAY, name))

    def _seq(self) -> int:
        self.sequence += 1
        return self.sequence

    def _header(self, ts: int, iid: int, symbol: str) -> dict[str, object]:
        return {
            "ts_recv": ts, "ts_event": ts, "publisher_id": 1, "instrument_id": iid,
            "source": "bench", "symbol": symbol,
        }  # fmt: skip

    def definitions(self) -> list[Event]:
        events: list[Event] = [
            CmeInstrument(
                **self._header(T0, iid, symbol),
                instrument_class="F",
                asset="CL",
                expiration=expiration,
                multiplier=1000 * SCALE,
                tick=TICK,
            )  # fmt: skip
            for iid, symbol, expiration in self.futures
        ]
        for iid, n, strike, call, expiration, name in self.options:
            future, symbol, _ = self.futures[n]
            events.append(
                CmeInstrument(
                    **self._header(T0, iid, name),
                    instrument_class="C" if call else "P",
                    asset="LO",
                    expiration=expiration,
                    multiplier=1000 * SCALE,
                    tick=TICK,
                    strike_price=strike,
                    underlying_id=future,
                    underlying_symbol=symbol,
                )  # fmt: skip
            )
        return events

    def _quote(self, ts: int, iid: int, symbol: str, bid: int | None, ask: int) -> Event:
        return CmeQuote(
            **self._header(ts, iid, symbol), sequence=self._seq(), bid_px=bid, ask_px=ask,
            bid_sz=self.random.randint(1, 50), ask_sz=self.random.randint(1, 50),
        )  # fmt: skip

    def move(self, ts: int) -> list[Event]:
        self.price += self.random.choice((-2, -1, 1, 2)) * TICK
        iid, symbol, _ = self.futures[0]
        side = self.random.choice("AB")
        levels = [
            [BookLevel(self.price + sign * (i + 1) * TICK, self.random.randint(1, 80), 3)
             for i in range(10)]
            for sign in (-1, 1)
        ]  # fmt: skip
        record = Mbp10Record(ts, self._seq(), "M", "B", 0, self.price - TICK, 5, F_LAST, *levels)
        events: list[Event] = [
            self._quote(ts, iid, symbol, self.price - TICK, self.price + TICK),
            Mbp10Event(**self._header(ts, iid, symbol), venue="GLBX", sequence=record.sequence,
                       records=[record]),
            CmeTrade(**self._header(ts + 1, iid, symbol), sequence=self._seq(),
                     price=self.price + (TICK if side == "B" else -TICK),
                     size=self.random.randint(1, 10), side=side),
        ]  # fmt: skip
        forward = self.price / SCALE
        for iid, _, strike, call, expiration, name in self.options:
            years = (expiration - ts) / YEAR_NS
            k = strike / SCALE
            vol = 0.35 - 0.3 * math.log(k / forward)
            value = math.exp(-RATE * years) * undiscounted_price(forward, k, vol, years, call)
            fair = round(value * SCALE / TICK) * TICK
            quote = (fair - TICK if fair > TICK else None, fair + TICK)
            if self.sent.get(iid) != quote:
                self.sent[iid] = quote
                events.append(self._quote(ts + 2 + len(events), iid, name, *quote))
        return events


def build_session(events: int, strikes: int, step_ms: int) -> list[Event]:
    session = Session(strikes, seed=7)
    out = session.definitions()
    ts = T0 + MS
    while len(out) < events:
        out.extend(session.move(ts))
        ts += step_ms * MS
    return out[:events]


# Records a synth.cme minute holds at its defaults (measured: 56,494 events in 3 minutes).
SYNTH_EVENTS_PER_MINUTE = 18_000


def decode_synth(events: int, folder: Path) -> list[Event]:
    minutes = max(1, -(-events // SYNTH_EVENTS_PER_MINUTE))
    started = time.perf_counter()
    session = generate_cme_session(CmeConfig(seed=7, minutes=minutes))
    paths = [p for p in write_cme_session(session, folder) if p.name.endswith(".dbn.zst")]
    print(f"synth: {session.n_records:,} records, {minutes} minutes, written in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    gc.collect()
    started, cpu_started = time.perf_counter(), time.process_time()
    decoded = list(iter_file_events(paths, normaliser=RecordNormaliser(emit_books=True)))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    print(
        f"decode: {len(decoded):>10,} events from the DBN files in {elapsed:6.2f} s: "
        f"{len(decoded) / elapsed:>11,.0f} events/s; per CPU second {len(decoded) / cpu:>11,.0f}"
    )
    return decoded[:events]


def through_engine(name: str, events: list[Event], batch: int, rate: float) -> AlphaState:
    state = initial_state(AlphaConfig(rate=rate), "bench")
    frames = 0
    gc.collect()
    started, cpu_started = time.perf_counter(), time.process_time()
    for start in range(0, len(events), batch):
        state, out = step(state, events[start : start + batch])
        frames += len(out)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    seconds = (events[-1].ts_recv - events[0].ts_recv) / SCALE
    # CPU time as well: on a shared machine the wall clock also counts other people's work.
    print(
        f"{name}: {len(events):>10,} events ({seconds:,.0f} s of event time, {frames:,} frames) "
        f"in {elapsed:6.2f} s: {len(events) / elapsed:>11,.0f} events/s; "
        f"per CPU second {len(events) / cpu:>11,.0f}"
    )
    return state


def frames_alone(state: AlphaState, count: int) -> None:
    ts = state.clock + 1  # just after the last event: the chain as fresh as it gets
    gc.collect()
    started, cpu_started = time.perf_counter(), time.process_time()
    for n in range(count):
        (frame,) = build_frames(state, ts + n * 1_000)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    assert isinstance(frame, AlphaFrame)
    solved = sum(expiry.iv_strikes for expiry in frame.expiries)
    print(
        f"frames: {count:>10,} frames of {len(frame.expiries)} expiries ({solved} vols each, "
        f"health {frame.health}) in {elapsed:6.2f} s: {count / elapsed:>9,.0f} frames/s; "
        f"per CPU second {count / cpu:>9,.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--strikes", type=int, default=40, help="strikes a side per expiry")
    parser.add_argument("--step-ms", type=int, default=50)
    parser.add_argument("--frames", type=int, default=500)
    args = parser.parse_args()
    gc.set_threshold(100_000, 50, 100)  # as `flowtape` runs (cli.main.tune_gc)

    started = time.perf_counter()
    events = build_session(args.events, args.strikes, args.step_ms)
    print(f"built: {len(events):,} events in {time.perf_counter() - started:.1f} s")
    state = through_engine("engine on built", events, args.batch, RATE)
    frames_alone(state, args.frames)
    del events, state

    with tempfile.TemporaryDirectory() as folder:
        events = decode_synth(args.events, Path(folder))
    state = through_engine("engine on synth", events, args.batch, CmeConfig().rate)
    frames_alone(state, args.frames)


if __name__ == "__main__":
    main()

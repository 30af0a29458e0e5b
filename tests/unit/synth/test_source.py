from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

from ingest.databento import iter_file_events
from ingest.source import Source
from ingest.synthetic.source import LIVE_FILES, SyntheticSource
from schemas.events import Event, OptionPrint, OptionQuote, Quarantined
from schemas.ordering import canonical_key
from synth import SynthConfig, SyntheticSession, generate_session


async def _collect(source: SyntheticSource) -> list[Event]:
    await source.connect()
    try:
        return [event async for event in source.events()]
    finally:
        await source.close()


def test_synthetic_source_implements_the_source_protocol() -> None:
    assert isinstance(SyntheticSource(SynthConfig(minutes=1)), Source)


async def test_flat_out_replay_yields_every_print_in_canonical_order(
    session: SyntheticSession,
) -> None:
    events = await _collect(SyntheticSource(session=session, speed=0))
    kinds = Counter(type(e).__name__ for e in events)
    assert not any(isinstance(e, Quarantined) for e in events)
    assert kinds["OptionPrint"] == len(session.file("OPRA.PILLAR", "tcbbo").records)
    assert kinds["OptionQuote"] == len(session.file("OPRA.PILLAR", "cmbp-1").records)
    assert kinds["OptionContract"] == len(session.file("OPRA.PILLAR", "definition").records)
    assert kinds["OpenInterest"] == kinds["OptionContract"]  # one per contract, deduplicated
    assert kinds["EquityPrint"] > 0 and kinds["EquityQuote"] > 0
    keys = [canonical_key(e) for e in events]
    assert keys == sorted(keys)
    planted = {
        (m.instrument_id, m.publisher_id, m.ts_event, m.sequence)
        for label in session.labels
        if label.dataset == "OPRA.PILLAR"
        for m in label.members
    }
    prints = {
        (e.instrument_id, e.publisher_id, e.ts_event): e
        for e in events
        if isinstance(e, OptionPrint)
    }
    assert all(key[:3] in prints for key in planted)
    assert all(e.bid_px is not None for e in prints.values())


async def test_live_events_equal_the_file_replay_of_the_same_session(
    session: SyntheticSession, written: list[Path]
) -> None:
    live = await _collect(SyntheticSource(session=session, speed=0))
    names = {session.files[key].file_name(session.date) for key in LIVE_FILES}
    from_files = list(iter_file_events([p for p in written if p.name in names]))
    strip = [e for e in from_files if not isinstance(e, Quarantined)]
    assert [canonical_key(e)[:5] for e in live] == [canonical_key(e)[:5] for e in strip]
    assert [type(e) for e in live] == [type(e) for e in strip]


async def test_paced_replay_follows_session_time_scaled_by_speed() -> None:
    session = generate_session(SynthConfig(seed=1, minutes=1, n_underlyings=2))
    source = SyntheticSource(session=session, speed=120.0)  # a minute in half a second
    started = time.perf_counter()
    events = await _collect(source)
    elapsed = time.perf_counter() - started
    assert any(isinstance(e, OptionQuote) for e in events)
    last = max(getattr(e, "ts_recv", 0) for e in events)
    expected = (last - session.open_ns) / 1e9 / 120.0
    assert expected * 0.9 <= elapsed <= expected + 1.0


async def test_a_consumer_that_stalls_shows_how_far_the_source_fell_behind() -> None:
    session = generate_session(SynthConfig(seed=1, minutes=1, n_underlyings=2))
    source = SyntheticSource(session=session, speed=120.0)
    await source.connect()
    seen = 0
    async for event in source.events():
        seen += event.ts_recv > session.open_ns
        if seen == 100:
            assert source.behind_s < 0.5  # kept pace so far
            time.sleep(1.0)  # noqa: ASYNC251  (the loop blocked: a machine busy elsewhere)
        if seen == 101:
            await source.close()
    assert 0.9 <= source.behind_s < 2.0  # the stall, less the wait for the next event


async def test_close_stops_the_stream() -> None:
    source = SyntheticSource(SynthConfig(seed=2, minutes=1, n_underlyings=2), speed=0)
    await source.connect()
    seen = 0
    async for _ in source.events():
        seen += 1
        if seen == 10:
            await source.close()
    assert seen == 10
    await asyncio.sleep(0)

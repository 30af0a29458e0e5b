"""Kernel checkpoints: a state restored from a snapshot and deltas continues exactly as the
state that never stopped, wherever it stopped; bad bytes are refused with a code."""

from __future__ import annotations

import msgspec
import pytest
import zstandard

from compute.flow import EngineConfig
from compute.flow.checkpoint import Checkpointer, CheckpointError, restore
from compute.flow.columnar import columns_from_events, new_state, step_columns
from compute.flow.formatting import to_events
from compute.flow.layout import LAYOUT_VERSION
from schemas.events import Event
from tests.unit.compute.flow.gen import random_splits, seeded
from tests.unit.compute.flow.test_kernel import SHORT_HISTORY, days_session


def outputs_of(events: list[Event], cuts: list[int], *, restart_every: int) -> list[Event]:
    """Every output over `events` in batches at `cuts`, the state snapshotted at the start,
    a delta saved after every batch, and rebuilt from them every `restart_every` batches."""
    state = new_state(SHORT_HISTORY, "ckpt", 2)
    saver = Checkpointer(state)
    snapshot, deltas = saver.snapshot(), []
    found: list[Event] = []
    bounds = [0, *cuts, len(events)]
    batches = [events[lo:hi] for lo, hi in zip(bounds, bounds[1:], strict=False)]
    for n, batch in enumerate([*batches, []]):
        outputs = step_columns(state, columns_from_events(state, batch), finish=n == len(batches))
        saver.touched(outputs)
        for group in to_events(state, outputs, batch).values():
            found += group
        deltas.append(saver.delta())
        if restart_every and (n + 1) % restart_every == 0:
            state = restore(snapshot, deltas)
            saver = Checkpointer(state)
            if n % 3 == 0:  # now and then a fresh snapshot replaces the chain
                snapshot, deltas = saver.snapshot(), []
    return found


@pytest.mark.parametrize("seed", range(12))
def test_restored_state_continues_exactly_as_the_uninterrupted_one(seed: int) -> None:
    rng = seeded(seed)
    events = days_session(rng, 2, 250, 0.02)
    cuts = random_splits(rng, len(events))
    whole = outputs_of(events, cuts, restart_every=0)
    assert whole
    assert outputs_of(events, cuts, restart_every=1) == whole
    assert outputs_of(events, cuts, restart_every=rng.randint(2, 5)) == whole


def big_state(seed: int) -> tuple[list[Event], Checkpointer]:
    """A day of 3,000 prints through a fresh state, and the saver watching it."""
    events = days_session(seeded(seed), 1, 3000, 0.0)
    saver = Checkpointer(new_state(EngineConfig(), "ckpt"))
    saver.touched(step_columns(saver.state, columns_from_events(saver.state, events)))
    return events, saver


def test_a_delta_is_much_smaller_than_a_snapshot_of_a_big_state() -> None:
    events, saver = big_state(3)
    state = saver.state
    snapshot = saver.snapshot()
    saver.touched(step_columns(state, columns_from_events(state, events[-5:])))
    assert len(saver.delta()) * 10 < len(snapshot)


def test_a_snapshot_is_compressed_and_one_saved_uncompressed_still_restores() -> None:
    snapshot = big_state(4)[1].snapshot()
    plain = zstandard.ZstdDecompressor().decompress(snapshot)
    assert len(snapshot) * 5 < len(plain)  # tables sized for the busiest moment, mostly empty
    assert Checkpointer(restore(plain)).snapshot() == snapshot


def test_bytes_of_another_layout_or_no_checkpoint_are_refused() -> None:
    state = new_state(EngineConfig(), "ckpt")
    plain = zstandard.ZstdDecompressor().decompress(Checkpointer(state).snapshot())
    snapshot = msgspec.msgpack.decode(plain)
    snapshot["layout"] = LAYOUT_VERSION + 1
    with pytest.raises(CheckpointError, match=f"reads layout {LAYOUT_VERSION}") as caught:
        restore(msgspec.msgpack.encode(snapshot))
    assert caught.value.code == "bad_checkpoint"
    for garbage in (b"\x01garbage", b"\x28\xb5\x2f\xfd" + b"not a zstd frame"):
        with pytest.raises(CheckpointError, match="not a kernel checkpoint"):
            restore(garbage)

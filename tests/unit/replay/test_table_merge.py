"""Files of raw tables merged into chunks: the canonical order of all their rows, cut at
receive times into chunks of at least the asked size, without reading ahead of need."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pyarrow as pa
import pytest

from infra.warehouse import events_to_arrow
from replay.table_merge import TablesByType, merged_chunks, table_chunks, ts_recv_of
from schemas.events import Event
from schemas.ordering import canonical_sort
from schemas.raw_arrow import events_of
from tests.kit import events as kit


def tables_of(events: list[Event]) -> TablesByType:
    grouped: dict[type[Event], list[Event]] = {}
    for event in events:
        grouped.setdefault(type(event), []).append(event)
    return {
        t: [
            events_to_arrow(g, run_id="r", log_seqs=[0] * len(g)).drop_columns(
                ["run_id", "log_seq"]
            )
        ]
        for t, g in grouped.items()
    }


def a_file(rng: random.Random, n: int, pieces: int) -> list[list[Event]]:
    """A file's events (receive times never going back, many shared), in pieces."""
    ts = sorted(rng.randrange(1_000, 1_300) for _ in range(n))
    events: list[Event] = []
    for k, t in enumerate(ts):
        fields = {"ts_recv": t, "publisher_id": rng.randint(1, 3),
                  "instrument_id": rng.randint(1, 3), "sequence": k}  # fmt: skip
        if rng.random() < 0.5:
            events.append(kit.option_quote(**fields))
        else:
            events.append(kit.equity_print(**fields))
    cuts = sorted(rng.sample(range(1, n), pieces - 1))
    return [events[lo:hi] for lo, hi in zip([0, *cuts], [*cuts, n], strict=True)]


def rows_of(chunk: dict[type[Event], pa.Table]) -> list[Event]:
    return canonical_sort([e for t, table in chunk.items() for e in events_of(t, table)])


@pytest.mark.parametrize("seed", range(5))
def test_merged_chunks_are_the_canonical_order_cut_at_receive_times(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311  (test data)
    files = [a_file(rng, rng.randint(20, 200), rng.randint(1, 6)) for _ in range(4)]
    read: list[int] = []

    def pieces(n: int) -> Iterator[TablesByType]:
        for piece in files[n]:
            read.append(n)
            yield tables_of(piece)

    rows = rng.choice((1, 25, 80, 10_000))
    chunks = list(merged_chunks([pieces(n) for n in range(len(files))], rows))
    merged = [e for chunk in chunks for e in rows_of(chunk)]
    assert merged == canonical_sort([e for f in files for piece in f for e in piece])
    assert all(sum(t.num_rows for t in c.values()) >= rows for c in chunks[:-1])
    ends = [(min(ts_recv_of(t)[0] for t in c.values()), max(ts_recv_of(t)[-1] for t in c.values()))
            for c in chunks]  # fmt: skip
    assert all(end < start for (_, end), (start, _) in zip(ends, ends[1:], strict=False))
    assert len(read) == sum(len(f) for f in files)


def test_a_chunk_splits_at_receive_times_into_about_the_rows_asked() -> None:
    rng = random.Random(9)  # noqa: S311  (test data)
    events = canonical_sort([e for piece in a_file(rng, 300, 1) for e in piece])
    whole = {t: pa.concat_tables(parts) for t, parts in tables_of(events).items()}
    parts = list(table_chunks(whole, 40))
    assert [e for part in parts for e in rows_of(part)] == events
    sizes = [sum(t.num_rows for t in part.values()) for part in parts]
    assert all(size >= 30 for size in sizes[:-1]) and len(parts) >= 5

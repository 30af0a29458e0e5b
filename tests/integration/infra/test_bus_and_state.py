import asyncio
import time
import uuid

import pytest

from infra.bus import Bus, StreamReader, chunk_events
from infra.settings import get_settings
from infra.state import Checkpoint, StateStore
from schemas.codec import decode_batch
from schemas.events import OptionPrint
from schemas.subjects import DERIVED_STREAM, RAW_STREAM, raw_subject
from tests.conftest import Servers
from tests.kit.events import option_print


def prints(n: int, start: int = 0) -> list[OptionPrint]:
    return [option_print(sequence=i, ts_recv=1_000 + i) for i in range(start, start + n)]


async def read_all(bus: Bus, start_seq: int = 1) -> list[tuple[int, str, list[object]]]:
    reader = await bus.reader(RAW_STREAM, start_seq=start_seq)
    got: list[tuple[int, str, list[object]]] = []
    while batch := await reader.fetch(100, timeout_s=0.5):
        got.extend((m.stream_seq, m.run_id, list(m.events)) for m in batch)
    await reader.close()
    return got


async def test_batches_are_published_acked_and_read_back_in_order(bus: Bus) -> None:
    subject = raw_subject(OptionPrint, "databento")
    first = await bus.publish(subject, prints(500), run_id="live")
    second = await bus.publish(subject, prints(500, start=500), run_id="live")
    assert first == [1] and second == [2]  # one message per micro-batch
    messages = await read_all(bus)
    assert [seq for seq, _, _ in messages] == [1, 2]
    assert all(run_id == "live" for _, run_id, _ in messages)
    assert [e for _, _, events in messages for e in events] == prints(1000)


async def test_reading_resumes_after_a_position(bus: Bus) -> None:
    subject = raw_subject(OptionPrint, "databento")
    for i in range(5):
        await bus.publish(subject, prints(3, start=3 * i), run_id="live")
    assert [seq for seq, _, _ in await read_all(bus, start_seq=4)] == [4, 5]


async def test_republishing_inside_the_duplicate_window_stores_once(bus: Bus) -> None:
    subject = raw_subject(OptionPrint, "databento")
    await bus.publish(subject, prints(10), run_id="live")
    again = await bus.publish(subject, prints(10), run_id="live")
    assert again == [1]
    assert await bus.last_sequence(RAW_STREAM) == 1


async def test_large_batches_are_split_under_the_message_limit(bus: Bus) -> None:
    events = prints(20_000)
    chunks = chunk_events(events, max_bytes=100_000)
    assert len(chunks) > 1 and all(len(body) <= 100_000 for _, body in chunks)
    assert [e for _, body in chunks for e in decode_batch(body)] == events
    assert [count for count, _ in chunks] == [len(decode_batch(body)) for _, body in chunks]
    sequences = await bus.publish(raw_subject(OptionPrint, "databento"), events, run_id="live")
    assert len(sequences) >= 4  # ~200 bytes an event against a 900 kB budget


async def test_a_poison_message_is_reported_not_raised(bus: Bus) -> None:
    await bus.js.publish("flow.raw.option_print.databento", b"\xc1 not msgpack")
    reader = await bus.reader(RAW_STREAM, start_seq=1)
    (message,) = await reader.fetch(10, timeout_s=1)
    await reader.close()
    assert message.events == [] and message.error and "msgpack" in message.error


async def test_a_message_names_its_producer_only_when_told(bus: Bus) -> None:
    subject = raw_subject(OptionPrint, "databento")
    await bus.publish(subject, prints(1), run_id="live", producer="compute/p1of2")
    await bus.publish(subject, prints(1, start=1), run_id="live")
    reader = await bus.reader(RAW_STREAM, start_seq=1)
    messages = await reader.fetch(10, timeout_s=1)
    await reader.close()
    assert [(m.stream_seq, m.producer) for m in messages] == [(1, "compute/p1of2"), (2, "")]
    # the producer is no part of the message id: the same body again is stored once
    assert await bus.publish(subject, prints(1), run_id="live", producer="compute/p0of2") == [1]


async def test_checkpoint_saves_state_and_position_together(servers: Servers) -> None:
    store = StateStore.connect(servers.redis_url, run_id="test-checkpoint")
    await store.clear()
    assert await store.load() is None
    await store.save(Checkpoint(state=b"\x00state", position=41, high_water={"s": [1, 2]}))
    await store.save(Checkpoint(state=b"\x01state", position=42, high_water={"s": [3, 4]}))
    assert await store.load() == Checkpoint(
        state=b"\x01state", position=42, high_water={"s": [3, 4]}
    )
    other = StateStore.connect(servers.redis_url, run_id="another-run")
    assert await other.load() is None
    await store.clear()
    await store.close()
    await other.close()


async def test_batches_are_journaled_until_a_checkpoint_clears_them(servers: Servers) -> None:
    store = StateStore.connect(servers.redis_url, run_id="test-journal")
    await store.clear()
    assert await store.load_intents() == [] and await store.load_intent() is None
    for first, last in ((1, 4), (5, 5), (6, 9)):
        await store.save_intent(first, last)
    assert await store.load_intents() == [(1, 4), (5, 5), (6, 9)]
    assert await store.load_intent() == (1, 9)  # a per-batch service's view: the cover
    await store.save(Checkpoint(state=b"", position=9, high_water={}))
    assert await store.load_intents() == []
    # a single intent as kept before the journal reads as a journal of one, and grows
    await store.client.set(store.intent_key, "10:12")
    assert await store.load_intents() == [(10, 12)]
    await store.save_intent(13, 13)
    assert await store.load_intents() == [(10, 12), (13, 13)]
    await store.clear()
    await store.close()


async def test_only_the_newest_day_snapshots_are_kept(servers: Servers) -> None:
    run_id = f"days-{uuid.uuid4().hex[:8]}"
    store = StateStore.connect(servers.redis_url, run_id)
    partition = StateStore.connect(servers.redis_url, run_id, partition="p1of2")
    await partition.save_day_snapshot("2026-01-02", b"partition", keep=3)
    days = ["2026-01-05", "2026-01-02", "2026-01-06", "2026-01-07", "2026-01-08"]
    for day in days:  # a restart may save an older day after newer ones
        assert await store.save_day_snapshot(day, day.encode(), keep=3)
    assert not await store.save_day_snapshot("2026-01-08", b"again", keep=3)
    kept = sorted([k.decode() async for k in store.client.scan_iter(match=f"flowtape:{run_id}:*")])
    assert kept == [
        f"flowtape:{run_id}:p1of2:snapshot:2026-01-02",  # another partition's days are its own
        f"flowtape:{run_id}:snapshot:2026-01-06",
        f"flowtape:{run_id}:snapshot:2026-01-07",
        f"flowtape:{run_id}:snapshot:2026-01-08",
    ]
    assert await store.client.get(store.snapshot_key("2026-01-08")) == b"2026-01-08"
    await store.client.delete(*kept)
    await store.close()
    await partition.close()


async def test_pulls_are_sized_by_bytes_and_lose_nothing(bus: Bus) -> None:
    subject = raw_subject(OptionPrint, "databento")
    for i in range(12):  # about 0.9 MB a message
        await bus.publish(subject, prints(4_000, start=4_000 * i), run_id="live")
    reader = await bus.reader(RAW_STREAM, start_seq=1, max_bytes=2_000_000)
    pulled, seqs = [], []
    while batch := await reader.fetch(100, timeout_s=0.5):
        pulled.append(sum(len(m.raw.data) for m in batch))
        seqs.extend(m.stream_seq for m in batch)
    await reader.close()
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 12
    assert max(pulled) <= 2_500_000  # the running mean of message sizes keeps pulls small


async def reader_past_one_message(bus: Bus, subject: str) -> StreamReader:
    """A reader that has read the one message on `subject`, sequence 1."""
    await bus.publish(subject, prints(2), run_id="live")
    reader = await bus.reader(RAW_STREAM, start_seq=1)
    assert [m.stream_seq for m in await reader.fetch(256, timeout_s=2.0)] == [1]
    return reader


async def test_a_caught_up_reader_returns_a_new_message_at_once_with_one_pull_outstanding(
    bus: Bus,
) -> None:
    subject = raw_subject(OptionPrint, "databento")
    reader = await reader_past_one_message(bus, subject)
    assert await reader.fetch(256, timeout_s=0.2) == []  # caught up: its pull waits on
    waiting = asyncio.create_task(reader.fetch(256, timeout_s=10.0))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await bus.publish(subject, prints(2, start=3), run_id="live")
    got = await waiting
    took = time.monotonic() - started
    (consumer,) = await bus.js.consumers_info(RAW_STREAM)
    await reader.close()
    assert [m.stream_seq for m in got] == [2]
    assert took < 1.0, took  # not held for the 256 it asked for until the pull expires
    assert consumer.num_waiting == 1  # the next pull went out at once; only that one waits


async def test_a_reader_whose_consumer_is_deleted_under_it_reads_on_from_where_it_was(
    bus: Bus,
) -> None:
    subject = raw_subject(OptionPrint, "databento")
    reader = await reader_past_one_message(bus, subject)
    waiting = asyncio.create_task(reader.fetch(256, timeout_s=5.0))  # its pull is out
    await asyncio.sleep(0.1)
    (consumer,) = await bus.js.consumers_info(RAW_STREAM)
    await bus.js.delete_consumer(RAW_STREAM, consumer.name)  # an operator, a server's reset
    assert await waiting == []  # told at once (409), not after the pull's five seconds
    await bus.publish(subject, prints(2, start=2), run_id="live")
    got = await reader.fetch(256, timeout_s=5.0)
    await reader.close()
    assert [m.stream_seq for m in got] == [2] and reader.reopened == 1


async def test_a_reader_leaves_no_consumer_behind_when_it_reopens_or_closes(bus: Bus) -> None:
    await bus.publish(raw_subject(OptionPrint, "databento"), prints(3), run_id="live")
    reader = await bus.reader(RAW_STREAM, start_seq=1)
    for _ in range(3):
        assert await reader.fetch(10, timeout_s=0.5)
        reader.next_seq = 1
        await reader.open()  # what a delivery gap or a lost consumer node does
    assert (await bus.js.stream_info(RAW_STREAM)).state.consumer_count == 1
    await reader.close()
    assert (await bus.js.stream_info(RAW_STREAM)).state.consumer_count == 0


async def test_streams_keep_the_configured_retention_whoever_ensures_them_last(
    bus: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAM_MAX_BYTES", str(3 * 1024**3))
    monkeypatch.setenv("STREAM_DUPLICATE_WINDOW_S", "90")
    get_settings.cache_clear()
    try:
        await bus.ensure_streams(replicas=1)  # as a service that names no limits
        for stream in (RAW_STREAM, DERIVED_STREAM):
            config = (await bus.js.stream_info(stream)).config
            assert (config.max_bytes, config.duplicate_window) == (3 * 1024**3, 90.0)
        await bus.ensure_streams(max_bytes=-1, duplicate_window_s=120.0)  # a caller that says
        assert (await bus.js.stream_info(RAW_STREAM)).config.max_bytes == -1
    finally:
        get_settings.cache_clear()


async def test_the_end_of_a_missing_stream_creates_the_streams(bus: Bus) -> None:
    for stream in (RAW_STREAM, DERIVED_STREAM):
        await bus.js.delete_stream(stream)
    assert await bus.end_of(DERIVED_STREAM) == 0  # a reader up before any writer
    assert await bus.last_sequence(RAW_STREAM) == 0  # both streams are back
    await bus.publish(raw_subject(OptionPrint, "databento"), prints(3), run_id="live")
    assert await bus.end_of(RAW_STREAM) == 1

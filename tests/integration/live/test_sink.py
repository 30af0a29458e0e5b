"""The sink stores what the log holds, once, and the views agree with the stored rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.bus import Bus
from infra.settings import Settings
from infra.warehouse import EVENT_TABLES, TABLES, Warehouse, tables_for
from live.sink.config import SinkConfig
from live.sink.errors import SinkError
from live.sink.positions import quarantine_source, split_partitions, stored_lag, table_layouts
from live.sink.retention import apply_retention, retention_from_settings
from live.sink.service import Sink
from live.sink.singles import HeldSingles
from schemas.book import BOOK_RAW_EVENTS
from schemas.cme import CME_DERIVED_EVENTS, CME_RAW_EVENTS
from schemas.crypto import CRYPTO_DERIVED_EVENTS, CRYPTO_RAW_EVENTS
from schemas.events import ClassifierHit, FlowPacket, OptionPrint
from schemas.subjects import DERIVED_STREAM, RAW_STREAM, derived_subject, raw_subject
from tests.integration.live.session import (
    T0,
    assert_views_match_base_tables,
    build_session,
    digests,
    publish,
    store_reference,
)
from tests.kit.derived import classifier_hit, flow_packet
from tests.kit.events import option_print

SMALL_BATCHES = SinkConfig(batch_rows=700, fetch_messages=16, batch_wait_s=0.2)


async def test_every_published_event_is_stored_exactly_once_and_views_match(
    bus: Bus, fresh_warehouse: Warehouse, reference: Warehouse
) -> None:
    session = build_session(prints=1200)
    await publish(bus, session)
    store_reference(reference, session)

    metrics = await Sink(bus, fresh_warehouse, config=SMALL_BATCHES).run_until_idle()

    assert digests(fresh_warehouse) == digests(reference)
    # an options session holds no crypto, order-book or CME events, nor alpha frames
    others = CRYPTO_RAW_EVENTS + CRYPTO_DERIVED_EVENTS + BOOK_RAW_EVENTS + CME_RAW_EVENTS
    others += CME_DERIVED_EVENTS
    elsewhere = {TABLES[t] for t in others}
    options = {t: d for t, d in digests(fresh_warehouse).items() if t not in elsewhere}
    assert all(count > 0 for count, _ in options.values())
    assert_views_match_base_tables(fresh_warehouse)
    raw, derived = metrics.streams[RAW_STREAM], metrics.streams[DERIVED_STREAM]
    assert raw.lag == 0 and derived.lag == 0
    assert raw.position == await bus.last_sequence(RAW_STREAM)
    assert raw.batches > 1 and raw.max_batch_rows >= raw.last_batch_rows > 0
    assert raw.inserts > 0 and raw.insert_seconds_max >= raw.insert_seconds_last > 0
    assert raw.retries == 0 and raw.quarantined == 0
    stored = sum(count for count, _ in digests(fresh_warehouse).values())
    assert raw.rows_total + derived.rows_total == stored
    assert set(metrics.as_dict()[RAW_STREAM]) >= {"lag", "position", "retries", "rows"}
    seen_from_elsewhere = await stored_lag(bus, fresh_warehouse)
    assert seen_from_elsewhere[RAW_STREAM] == {
        "position": raw.position, "last_seq": raw.position, "lag": 0,
    }  # fmt: skip


async def test_a_restarted_sink_continues_where_it_stopped_and_stores_nothing_twice(
    bus: Bus, fresh_warehouse: Warehouse, reference: Warehouse
) -> None:
    session = build_session(prints=600)
    half = len(session.messages) // 2
    first, rest = build_session(prints=600), build_session(prints=600)
    first.messages, rest.messages = session.messages[:half], session.messages[half:]
    await publish(bus, first)
    await Sink(bus, fresh_warehouse, config=SMALL_BATCHES).run_until_idle()
    await publish(bus, rest)
    await Sink(bus, fresh_warehouse, config=SMALL_BATCHES).run_until_idle()
    again = await Sink(bus, fresh_warehouse, config=SMALL_BATCHES).run_until_idle()

    store_reference(reference, session)
    assert digests(fresh_warehouse) == digests(reference)
    assert again.streams[RAW_STREAM].messages == 0  # resumed after the stored position
    assert_views_match_base_tables(fresh_warehouse)


async def test_a_sink_that_died_between_the_two_packet_tables_completes_the_second_only(
    bus: Bus, fresh_warehouse: Warehouse, reference: Warehouse
) -> None:
    session = build_session(prints=600)
    await publish(bus, session)
    store_reference(reference, session)
    # The state a crash leaves behind: flow_packets got the rows of the first half of the
    # derived messages (flagged singles with the hit that named them), packet_prints did not,
    # and no position was recorded.
    derived = [m for m in session.messages if m.stream == DERIVED_STREAM]
    held = HeldSingles()
    for message in derived[: len(derived) // 2]:
        held.hold(message.seq, message.events)
        events = [*held.claim(message.seq, message.events), *message.events]
        tables = tables_for(events, run_id=message.run_id, log_seqs=[message.seq] * len(events))
        if "flow_packets" in tables:
            fresh_warehouse.insert_arrow("flow_packets", tables["flow_packets"])

    metrics = await Sink(bus, fresh_warehouse, config=SMALL_BATCHES).run_until_idle()

    assert digests(fresh_warehouse) == digests(reference)
    assert metrics.streams[DERIVED_STREAM].skipped_rows > 0


async def test_a_single_flagged_after_a_restart_is_stored_with_the_hit_that_named_it(
    bus: Bus, fresh_warehouse: Warehouse
) -> None:
    lone, flagged = (
        flow_packet(packet_id="lone", kind="single"),
        flow_packet(packet_id="flagged", kind="single"),
    )
    [packets_seq] = await bus.publish(derived_subject(FlowPacket), [lone, flagged], run_id="live")
    await Sink(bus, fresh_warehouse, streams=[DERIVED_STREAM]).run_until_idle()
    assert fresh_warehouse.scalar("SELECT count() FROM flow_packets") == 0
    # a new sink resumes after the packets' message, and still knows the singles it held
    hit = classifier_hit(packet_id="flagged", rule="spike")
    [hit_seq] = await bus.publish(derived_subject(ClassifierHit), [hit], run_id="live")
    await Sink(bus, fresh_warehouse, streams=[DERIVED_STREAM]).run_until_idle()
    assert hit_seq > packets_seq
    assert fresh_warehouse.rows("SELECT packet_id, log_seq FROM flow_packets") == [
        ("flagged", hit_seq)
    ]
    assert fresh_warehouse.rows("SELECT packet_id, log_seq FROM packet_prints") == [
        ("flagged", hit_seq)
    ]
    again = await Sink(bus, fresh_warehouse, streams=[DERIVED_STREAM]).run_until_idle()
    assert fresh_warehouse.scalar("SELECT count() FROM flow_packets") == 1
    assert again.streams[DERIVED_STREAM].messages == 0


async def test_rows_already_stored_are_skipped_per_day_partition(
    bus: Bus, fresh_warehouse: Warehouse, reference: Warehouse
) -> None:
    # One message whose prints straddle midnight: its rows go to two partitions, and a crash
    # may have stored one of them; the other must still be stored, once.
    before, after = T0 + 1_799 * 10**9, T0 + 1_801 * 10**9  # 23:59:59 and 00:00:01
    prints = [option_print(ts_recv=ts, sequence=n) for n, ts in enumerate((before, after))]
    [seq] = await bus.publish(raw_subject(OptionPrint, "databento"), prints, run_id="live")
    reference.insert_events(prints, run_id="live", log_seq=seq)
    layout = table_layouts(fresh_warehouse, ["option_prints"])["option_prints"]
    data = tables_for(prints, run_id="live", log_seqs=[seq, seq])["option_prints"]
    day_one = split_partitions(data, layout)[0]
    assert day_one.num_rows == 1
    fresh_warehouse.insert_arrow("option_prints", day_one)

    await Sink(bus, fresh_warehouse, streams=[RAW_STREAM]).run_until_idle()

    assert digests(fresh_warehouse, ("option_prints",)) == digests(reference, ("option_prints",))


async def test_poison_messages_are_quarantined_with_their_reason_and_the_stream_moves_on(
    bus: Bus, fresh_warehouse: Warehouse
) -> None:
    good = [option_print(sequence=1)]
    await bus.publish(raw_subject(OptionPrint, "databento"), good, run_id="live")
    await bus.publish_body("flow.raw.option_print.databento", b"\xc1 not msgpack", run_id="live")
    too_big = [option_print(sequence=2, size=2**64 - 1)]  # decodes, but fits no UInt32/Int64
    await bus.publish(raw_subject(OptionPrint, "databento"), too_big, run_id="live")
    await bus.publish(derived_subject(FlowPacket), good, run_id="live")  # raw event on DERIVED
    await bus.publish(raw_subject(OptionPrint, "databento"), [option_print(sequence=3)],
                      run_id="live")  # fmt: skip

    metrics = await Sink(bus, fresh_warehouse).run_until_idle()

    assert fresh_warehouse.rows("SELECT sequence FROM option_prints ORDER BY sequence") == [
        (1,),
        (3,),
    ]
    quarantined = fresh_warehouse.rows(
        "SELECT source, reason, log_seq, length(payload) > 0 FROM quarantine "
        "ORDER BY source, log_seq"
    )
    assert quarantined == [
        (quarantine_source(DERIVED_STREAM), "wrong_stream", 1, True),
        (quarantine_source(RAW_STREAM), "undecodable_message", 2, True),
        (quarantine_source(RAW_STREAM), "conversion_failed", 3, True),
    ]
    assert metrics.streams[RAW_STREAM].quarantined == 2
    assert metrics.streams[DERIVED_STREAM].quarantined == 1
    # Restarting re-reads nothing it already stored, quarantine included.
    await Sink(bus, fresh_warehouse).run_until_idle()
    assert fresh_warehouse.scalar("SELECT count() FROM quarantine") == 3


def _retention_from_environment(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]
) -> dict[str, int]:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return retention_from_settings(Settings(_env_file=None))  # type: ignore[call-arg]


def test_retention_sets_and_removes_a_ttl_per_table(
    fresh_warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    def engine(table: str) -> str:
        return str(
            fresh_warehouse.scalar(
                "SELECT engine_full FROM system.tables WHERE database = currentDatabase() "
                "AND name = {t:String}",
                {"t": table},
            )
        )

    days = _retention_from_environment(
        monkeypatch, {"RETENTION_DAYS_OPTION_QUOTES": "7", "OTHER": "1"}
    )
    assert days == {"option_quotes": 7}
    apply_retention(fresh_warehouse, days)
    assert "TTL toDateTime(ts_recv) + toIntervalDay(7)" in engine("option_quotes")
    assert " TTL " not in engine("option_prints")
    apply_retention(fresh_warehouse, {"option_quotes": 0})
    assert " TTL " not in engine("option_quotes")
    apply_retention(fresh_warehouse, {"candles_contract": 30})
    assert "TTL toDateTime(bucket) + toIntervalDay(30)" in engine("candles_contract")
    with pytest.raises(SinkError):
        _retention_from_environment(monkeypatch, {"RETENTION_DAYS_GAPS": "a week"})
    with pytest.raises(SinkError):
        apply_retention(fresh_warehouse, {"no_such_table": 3})


def test_retention_is_read_from_the_environment_over_the_dotenv_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("RETENTION_DAYS_EQUITY_QUOTES=3\nretention_days_option_quotes=9\n")
    monkeypatch.setenv("RETENTION_DAYS_OPTION_QUOTES", "7")
    settings = Settings(_env_file=dotenv)  # type: ignore[call-arg]
    assert retention_from_settings(settings) == {"equity_quotes": 3, "option_quotes": 7}


def test_every_event_table_has_a_partition_layout_the_sink_understands(
    warehouse: Warehouse,
) -> None:
    layouts = table_layouts(warehouse, EVENT_TABLES)
    assert all(layout.by_run and layout.day_column for layout in layouts.values())


async def test_a_message_clickhouse_keeps_refusing_is_quarantined_and_the_rest_stored(
    bus: Bus, fresh_warehouse: Warehouse
) -> None:
    fresh_warehouse.command(
        "ALTER TABLE option_prints ADD CONSTRAINT sized CHECK size > 0"
    )  # a rule the sink does not know about: only the server refuses the bad row
    subject = raw_subject(OptionPrint, "databento")
    for sequence, size in ((1, 10), (2, 0), (3, 30)):
        await bus.publish(subject, [option_print(sequence=sequence, size=size)], run_id="live")
    config = SinkConfig(backoff_initial_s=0.01, rejected_attempts=2)

    metrics = await Sink(bus, fresh_warehouse, config=config, streams=[RAW_STREAM]).run_until_idle()

    assert fresh_warehouse.rows("SELECT sequence FROM option_prints ORDER BY sequence") == [
        (1,),
        (3,),
    ]
    [(reason, log_seq, detail)] = fresh_warehouse.rows(
        "SELECT reason, log_seq, detail FROM quarantine"
    )
    assert (reason, log_seq) == ("insert_refused", 2)
    assert "option_prints" in detail and "sized" in detail
    assert metrics.streams[RAW_STREAM].quarantined == 1

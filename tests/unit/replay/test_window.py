import msgspec

from replay.window import within
from schemas.times import parse_time_ns as parse_time
from tests.kit.events import print_at as trade
from tests.kit.samples import one_of_each_event


def test_times_are_ns_or_iso_in_utc() -> None:
    assert parse_time("1740061800000000000") == 1_740_061_800_000_000_000
    assert parse_time("2025-02-20T14:30") == 1_740_061_800_000_000_000
    assert parse_time("2025-02-20T09:30-05:00") == 1_740_061_800_000_000_000
    assert parse_time("2025-02-20T14:30:00.000001") == 1_740_061_800_000_001_000
    assert parse_time(None) is None


def test_the_window_keeps_earlier_reference_data_and_stops_at_its_end() -> None:
    contract = msgspec.structs.replace(one_of_each_event()[0], ts_recv=0)  # a definition
    events = [contract, trade(1), trade(5), trade(9), trade(12)]
    assert list(within(events, 5, 10)) == [contract, trade(5), trade(9)]
    assert list(within(events, None, None)) == events

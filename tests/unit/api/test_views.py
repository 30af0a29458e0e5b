"""`plain`: events as JSON values with dollars beside every integer price, nested records
as named objects."""

from __future__ import annotations

import msgspec

from api.views import plain
from schemas.events import MemberPrint, PrintInference


class _Quote(msgspec.Struct):
    bid_px: int | None
    ask_px: float
    tags: dict[str, list[bytes]]
    members: list[MemberPrint]


def test_prices_gain_dollars_and_nested_records_become_named_objects() -> None:
    member = MemberPrint(7, 1, 100, 5, 1_500_000_000, 2, "buy", "ask", None, 1_600_000_000)
    quote = plain(_Quote(None, 2.5, {"venue": [b"\x01\x02"]}, [member]))
    assert quote == {
        "bid_px": None,
        "bid_px_dollars": None,
        "ask_px": 2.5,  # not an integer price: no dollars
        "tags": {"venue": ["AQI="]},
        "members": [plain(member)],
    }
    assert plain(member)["price_dollars"] == 1.5 and plain(member)["nbbo_bid_px_dollars"] is None
    assert plain(member)["nbbo_ask_px_dollars"] == 1.6 and plain(member)["instrument_id"] == 7


def test_an_event_carries_its_type_tag_first_and_every_field() -> None:
    event = PrintInference(
        ts_recv=2, run_id="live", ts_event=1, publisher_id=1, instrument_id=5, sequence=3,
        symbol="AAPL  240119C00190000", underlying="AAPL", price=1_250_000_000, size=3,
        side="buy", bucket="ask", rule="quote", confidence=0.9, nbbo_status="joined",
        nbbo_bid_px=1_200_000_000, nbbo_ask_px=1_250_000_000, nbbo_bid_sz=3, nbbo_ask_sz=4,
        nbbo_ts_recv=1,
    )  # fmt: skip
    value = plain(event)
    assert next(iter(value)) == "type" and value["type"] == "print_inference"
    assert set(value) - {"type"} - set(event.__struct_fields__) == {
        "price_dollars", "nbbo_bid_px_dollars", "nbbo_ask_px_dollars",
    }  # fmt: skip
    assert (value["price_dollars"], value["nbbo_bid_px_dollars"]) == (1.25, 1.2)
    assert msgspec.json.decode(msgspec.json.encode(value)) == value

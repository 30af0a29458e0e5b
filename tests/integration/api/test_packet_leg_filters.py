"""`/v1/packets?dte_min=&dte_max=&vol_over_oi=`: packets one of whose legs meets every term."""

from __future__ import annotations

import httpx
import msgspec
import pytest

from infra.warehouse import Warehouse
from tests.integration.api.conftest import Api
from tests.integration.api.session import SECOND, member, packet
from tests.kit import derived
from tests.kit.samples import T0

RUN = "leg-terms"


@pytest.fixture(scope="module")
def leg_packets(seeded: Warehouse) -> None:
    """Four packets: 2 DTE with volume above OI, 10 DTE below it, 30 DTE with no OI known,
    and a spread whose 5 DTE leg is below OI and 40 DTE leg above it."""
    legs = {
        "pkt-2d-hot": [derived.leg(dte=2, day_volume=500, open_interest=100)],
        "pkt-10d-cold": [derived.leg(dte=10, day_volume=50, open_interest=100)],
        "pkt-30d-no-oi": [derived.leg(dte=30, day_volume=50, open_interest=None)],
        "pkt-spread": [
            derived.leg(dte=5, day_volume=10, open_interest=100),
            derived.leg(instrument_id=8, dte=40, day_volume=300, open_interest=200),
        ],
    }
    events = []
    for k, (packet_id, its_legs) in enumerate(legs.items()):
        ts = T0 + k * SECOND
        made = packet(
            RUN, packet_id, "AAPL", "sweep", ts, 1_000_000, [member(ts, 20, k, 10**9, 10)]
        )
        events.append(msgspec.structs.replace(made, legs=its_legs))
    seeded.insert_events(events, run_id=RUN)


@pytest.fixture
async def http(rest_api: Api, leg_packets: None):  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=rest_api.base_url, timeout=30) as client:
        yield client


async def test_a_dte_range_keeps_packets_with_a_leg_inside_it(http: httpx.AsyncClient) -> None:
    async def packet_ids(**params: object) -> set[str]:
        response = await http.get("/v1/packets", params={"run_id": RUN, **params})
        assert response.status_code == 200, response.text
        return {item["packet_id"] for item in response.json()["items"]}

    everything = {"pkt-2d-hot", "pkt-10d-cold", "pkt-30d-no-oi", "pkt-spread"}
    assert await packet_ids() == everything
    assert await packet_ids(dte_min=0, dte_max=7) == {"pkt-2d-hot", "pkt-spread"}
    assert await packet_ids(dte_min=6, dte_max=29) == {"pkt-10d-cold"}
    assert await packet_ids(dte_min=30) == {"pkt-30d-no-oi", "pkt-spread"}
    assert await packet_ids(dte_max=1) == set()
    assert await packet_ids(vol_over_oi="true") == {"pkt-2d-hot", "pkt-spread"}
    # the spread's leg above OI is 40 days out, its 5-day leg is below OI: one leg meets both
    assert await packet_ids(dte_max=7, vol_over_oi="true") == {"pkt-2d-hot"}
    assert await packet_ids(dte_min=35, vol_over_oi="true") == {"pkt-spread"}


async def test_a_reversed_range_selects_nothing_and_an_out_of_range_dte_is_a_422(
    http: httpx.AsyncClient,
) -> None:
    reversed_range = await http.get("/v1/packets", params={"dte_min": 9, "dte_max": 3})
    assert reversed_range.status_code == 200 and reversed_range.json()["items"] == []
    for bad in ({"dte_min": -1}, {"dte_max": 36_501}):
        response = await http.get("/v1/packets", params=bad)
        assert response.status_code == 422
        assert next(iter(bad)) in response.text

"""Playback of a stored run as server-sent events, in event-time order, at a chosen speed."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from api.routers.playback import PAGE_SIZE
from infra.warehouse import Warehouse
from tests.integration.api.conftest import Api
from tests.integration.api.session import SECOND, alert, member, packet
from tests.kit.samples import T0

LONG_RUN = "replay-long"
LONG_PACKETS = 2 * PAGE_SIZE + 500  # three pages of packets
LONG_SPAN_S = 60  # the packets spread evenly over a minute of event time


async def play(api: Api, run_id: str, **params: Any) -> tuple[list[dict[str, Any]], float]:
    """(events as (event name, frame) dicts, seconds the stream took)."""
    frames: list[dict[str, Any]] = []
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
        async with client.stream("GET", f"/v1/playback/{run_id}", params=params) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            name = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    frames.append({"event": name, **json.loads(line.removeprefix("data: "))})
    return frames, time.monotonic() - started


def labels(frames: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out = []
    for frame in frames:
        data = frame.get("data") or {}
        out.append((frame["event"], data.get("alert_id") or data.get("packet_id") or ""))
    return out


async def test_playback_streams_packets_and_alerts_in_event_time_order(rest_api: Api) -> None:
    frames, _ = await play(rest_api, "replay-a", speed=0)
    assert labels(frames) == [
        ("packets", "pkt-aapl-sweep"),
        ("alerts", "alert-aapl-sweep"),  # the alert follows its packet at the same time
        ("packets", "pkt-msft-sweep"),
        ("alerts", "alert-msft-spike"),
        ("packets", "pkt-aapl-block"),
        ("end", ""),
    ]
    first = frames[0]
    assert (first["channel"], first["source"], first["seq"]) == ("packets", "playback", 1)
    assert first["data"]["run_id"] == "replay-a" and first["data"]["premium_cents"] == 1_500_000
    assert frames[-1]["count"] == 5


async def test_playback_filters_by_symbol_channel_and_start_time(rest_api: Api) -> None:
    frames, _ = await play(rest_api, "replay-a", speed=0, underlying="MSFT", channels="alerts")
    assert labels(frames) == [("alerts", "alert-msft-spike"), ("end", "")]
    frames, _ = await play(
        rest_api, "replay-a", speed=0, **{"from": "2023-11-14T22:13:50.000000001Z"}
    )
    assert labels(frames) == [("packets", "pkt-aapl-block"), ("end", "")]


async def test_playback_keeps_the_runs_pace_divided_by_speed(rest_api: Api) -> None:
    # Events at T0, T0+30 s and T0+60 s: at 60x that is 0.5 s between them.
    _, took = await play(rest_api, "replay-a", speed=60, channels="packets")
    assert 0.95 <= took < 2.5
    # Quiet spells longer than max_wait_s shrink to it.
    _, took = await play(rest_api, "replay-a", speed=1, channels="packets", max_wait_s=0.1)
    assert 0.15 <= took < 1.5


async def test_playback_of_an_unknown_run_is_404_and_bad_channels_a_400(rest_api: Api) -> None:
    async with httpx.AsyncClient(base_url=rest_api.base_url, timeout=30) as client:
        assert (await client.get("/v1/playback/never-ran")).status_code == 404
        bad = await client.get("/v1/playback/replay-a", params={"channels": "trades"})
        assert bad.status_code == 400


@pytest.fixture(scope="module")
def long_run(seeded: Warehouse) -> list[tuple[str, str]]:
    """A minute of a run with more packets than two pages hold, an alert on every 100th; the
    events in the order playback owes them (an alert right after its packet)."""
    step = LONG_SPAN_S * SECOND // LONG_PACKETS
    packets = [
        packet(LONG_RUN, f"p{k:05d}", "AAPL", "sweep", T0 + k * step, 100_000 + k,
               [member(T0 + k * step, 20, k, 10**9, 1)])
        for k in range(LONG_PACKETS)
    ]  # fmt: skip
    alerts = [
        alert(LONG_RUN, f"a{k:05d}", packets[k], 3, ["sweep"]) for k in range(0, LONG_PACKETS, 100)
    ]
    seeded.insert_events([*packets, *alerts], run_id=LONG_RUN)
    expected = []
    for k, p in enumerate(packets):
        expected.append(("packets", p.packet_id))
        if k % 100 == 0:
            expected.append(("alerts", f"a{k:05d}"))
    return expected


async def test_a_run_longer_than_its_pages_plays_whole_and_in_order(
    rest_api: Api, long_run: list[tuple[str, str]]
) -> None:
    frames, _ = await play(rest_api, LONG_RUN, speed=0)
    assert labels(frames) == [*long_run, ("end", "")]
    assert [f["seq"] for f in frames[:-1]] == list(range(1, len(long_run) + 1))


async def test_a_paced_run_sends_every_event_once_at_the_runs_pace(
    rest_api: Api, long_run: list[tuple[str, str]]
) -> None:
    # a minute at 120x is half a second (its pace is bench/bench_web_frames.py's to measure):
    # events due together go out together, none is lost, none goes out early
    frames, took = await play(rest_api, LONG_RUN, speed=120)
    assert labels(frames) == [*long_run, ("end", "")]
    assert took >= 0.45

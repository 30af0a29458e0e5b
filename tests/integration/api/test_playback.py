"""Playback of a stored run as server-sent events, in event-time order, at a chosen speed."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tests.integration.api.conftest import Api


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

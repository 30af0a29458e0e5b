"""Fuzz the crypto frame parsers: Binance and Bybit WebSocket text frames, Binance REST depth
snapshots.

An input is one selector byte (which parser: Binance spot or USD-M frames, Bybit spot or
linear frames, a Binance REST snapshot) and the frame's text. Seeds: frames of every channel
recorded in shared/data/crypto and the Bybit fixture in tests/kit/data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import atheris
from fuzzing import REPO, SHARED_DATA, run

with atheris.instrument_imports(include=["ingest.binance", "ingest.bybit", "ingest.marketdata"]):
    from ingest.binance.parsing import BinanceNormaliser
    from ingest.bybit.parsing import BybitNormaliser
    from ingest.marketdata.symbology import default_table

from schemas.events import Event, Quarantined

TS_RECV = 1_700_000_000_000_000_000
_table = default_table()
_binance_spot = BinanceNormaliser("binance-spot", "binance-spot", _table)
_binance_usdm = BinanceNormaliser("binance-usdm", "binance-usdm", _table)
_bybit_spot = BybitNormaliser("bybit-spot", "bybit-spot", _table)
_bybit_linear = BybitNormaliser("bybit-linear", "bybit-linear", _table)


def one(data: bytes) -> list[str]:
    if not data:
        return []
    if data[0] & 0x80:
        selector, text = _with_fuzzed_field(atheris.FuzzedDataProvider(data[1:]))
    else:
        selector, text = data[0] % 5, data[1:].decode("utf-8", "replace")
    events = _parse(selector, text)
    return [event.reason for event in events if isinstance(event, Quarantined)]


def _with_fuzzed_field(fdp: atheris.FuzzedDataProvider) -> tuple[int, str]:
    """A recorded frame (valid layout) with one field of its payload set to a fuzzed value."""
    selector, raw = TEMPLATES[fdp.ConsumeIntInRange(0, len(TEMPLATES) - 1)]
    message = json.loads(raw)
    payload = message.get("data", message)
    if isinstance(payload, list) and payload:
        payload = payload[fdp.ConsumeIntInRange(0, len(payload) - 1)]
    if isinstance(payload, dict) and payload:
        keys = sorted(payload)
        payload[keys[fdp.ConsumeIntInRange(0, len(keys) - 1)]] = _value(fdp, 2)
    return selector, json.dumps(message)


def _value(fdp: atheris.FuzzedDataProvider, depth: int) -> object:
    kind = fdp.ConsumeIntInRange(0, 7)
    if kind == 0:
        return fdp.ConsumeInt(fdp.ConsumeIntInRange(1, 16))
    if kind == 1:
        return fdp.ConsumeRegularFloat()
    if kind == 2:
        return str(fdp.ConsumeInt(8)) + "." + str(fdp.ConsumeIntInRange(0, 10**9))
    if kind == 3:
        return fdp.ConsumeBool()
    if kind == 4:
        return None
    if kind == 5 and depth:
        return [_value(fdp, depth - 1) for _ in range(fdp.ConsumeIntInRange(0, 3))]
    if kind == 6 and depth:
        return {fdp.ConsumeUnicode(4): _value(fdp, depth - 1)}
    return fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 24))


def _parse(selector: int, text: str) -> list[Event]:
    if selector == 0:
        return _binance_spot.frame(text, TS_RECV)
    if selector == 1:
        return _binance_usdm.frame(text, TS_RECV)
    if selector == 2:
        return _bybit_spot.frame(text, TS_RECV)
    if selector == 3:
        return _bybit_linear.frame(text, TS_RECV)
    symbol, _, body = text.partition("\n")
    return [_binance_spot.snapshot(body, symbol, TS_RECV)]


def _recorded(path: Path) -> Iterator[dict[str, object]]:
    with path.open() as handle:
        yield from map(json.loads, handle)


def _channel(raw: str) -> str:
    try:
        message = json.loads(raw)
    except ValueError:
        return "?"
    if not isinstance(message, dict):
        return "?"
    name = message.get("stream") or message.get("topic") or message.get("op") or "?"
    return str(name).split("@", 1)[-1].split(".", 1)[0]


def _templates() -> list[tuple[int, str]]:
    return [(seed[0], seed[1:].decode()) for seed in seeds() if seed[0] != 4]


def seeds() -> Iterator[bytes]:
    """Three frames of each channel of each recording, and one REST snapshot per file."""
    crypto = SHARED_DATA / "crypto"
    recordings = (
        (0, crypto / "binance-spot.jsonl"),
        (1, crypto / "binance-futures.jsonl"),
        (3, REPO / "tests" / "kit" / "data" / "bybit-v5-linear.jsonl"),
    )
    for selector, path in recordings:
        taken: dict[str, int] = {}
        for row in _recorded(path):
            raw = str(row["raw"])
            channel = _channel(raw)
            if taken.get(channel, 0) < 3:
                taken[channel] = taken.get(channel, 0) + 1
                yield bytes([selector]) + raw.encode()
    for path in sorted(crypto.glob("*.rest-depth.jsonl")):
        row = next(_recorded(path))
        symbol = str(row.get("url", "")).split("symbol=")[-1].split("&")[0]
        yield bytes([4]) + f"{symbol}\n{row['raw']}".encode()


TEMPLATES = _templates()

if __name__ == "__main__":
    run("crypto_frames", one, [*seeds(), *(bytes([0x80, i]) * 8 for i in range(len(TEMPLATES)))])

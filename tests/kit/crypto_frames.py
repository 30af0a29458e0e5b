"""The recorded crypto frames in ../shared/data/crypto (see its SOURCE.md), found one way."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CRYPTO_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "crypto"
BYBIT_FIXTURE = Path(__file__).resolve().parent / "data" / "bybit-v5-linear.jsonl"


@dataclass(frozen=True, slots=True)
class RecordedFrame:
    recv_ts_ns: int
    raw: str
    url: str = ""


def crypto_file(name: str) -> Path:
    path = BYBIT_FIXTURE if name == BYBIT_FIXTURE.name else CRYPTO_DATA / name
    if not path.is_file():
        raise FileNotFoundError(f"expected the recorded crypto frames at {path}")
    return path


@cache
def frames(name: str) -> tuple[RecordedFrame, ...]:
    """Every line of a recording, in file order."""
    with crypto_file(name).open() as handle:
        return tuple(
            RecordedFrame(row["recv_ts_ns"], row["raw"], row.get("url", ""))
            for row in map(json.loads, handle)
        )


def stream_of(frame: RecordedFrame) -> str:
    """`zilusdt@bookTicker` for a Binance combined-stream frame."""
    return str(json.loads(frame.raw)["stream"])


def rest_snapshots(name: str) -> dict[str, str]:
    """Binance REST depth bodies by symbol (from the request URL's `symbol=`)."""
    out: dict[str, str] = {}
    for frame in frames(name):
        symbol = frame.url.split("symbol=")[1].split("&")[0]
        out[symbol] = frame.raw
    return out

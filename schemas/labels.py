"""Ground truth of a labelled session, one JSON object per line in `labels.jsonl`: written by
the synthetic market (`synth`), read by the accuracy scorer (`analytics`) and by users who
label their own sessions.

A session may also carry `sides.jsonl`: the true aggressor of every option print whose side
is known (planted or not), one `PrintSide` per line as a compact JSON array
`[instrument_id, publisher_id, ts_event, sequence, side]`, so side accuracy can be measured
over the whole tape rather than over the planted prints alone. A print missing from it has
no known side.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import msgspec

LabelSide = str  # "buy" | "sell" | "mixed" | "unknown"
SIDES_FILE = "sides.jsonl"


class LabelMember(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One planted print, keyed like flowtape's evidence (instrument, venue, ts_event, sequence).

    `side` is the true aggressor; `bid_px`/`ask_px` the NBBO (options) or lit BBO (equities)
    in force just before the print (last quote with `ts_recv` strictly before it);
    `bucket` is where the price sits in that quote (AA, A, M, B, BB).
    """

    instrument_id: int
    publisher_id: int
    ts_event: int
    sequence: int
    ts_recv: int
    symbol: str
    price: int
    size: int
    side: LabelSide
    bucket: str
    bid_px: int | None
    ask_px: int | None


class LabelLeg(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One leg of a multi-leg structure."""

    instrument_id: int
    symbol: str
    side: LabelSide
    ratio: int
    size: int


class Label(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One planted event and everything needed to score a detector against it.

    `packet_kind` is the FlowPacket kind a correct clusterer should produce (sweep, split,
    block, multi_leg, single); `kind` is the planted pattern (golden_sweep, repeated_hits...).
    """

    label_id: str
    kind: str
    packet_kind: str
    dataset: str
    underlying: str
    side: LabelSide
    ts_start: int
    ts_end: int
    size: int
    premium_cents: int
    venues: list[int]
    members: list[LabelMember]
    structure: str | None = None
    legs: list[LabelLeg] = []
    open_interest: int | None = None
    variant: str | None = None
    near: str | None = None
    impact_bps: float | None = None
    note: str = ""


class PrintSide(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """The true aggressor of one option print, keyed like `LabelMember`."""

    instrument_id: int
    publisher_id: int
    ts_event: int
    sequence: int
    side: LabelSide


_encoder = msgspec.json.Encoder()


def encode_labels(labels: Iterable[Label]) -> bytes:
    """JSON lines, one label per line, in the given order."""
    return b"".join(_encoder.encode(label) + b"\n" for label in labels)


def read_labels(path: Path) -> list[Label]:
    """Read a `labels.jsonl` file back."""
    decoder = msgspec.json.Decoder(Label)
    return [decoder.decode(line) for line in path.read_bytes().splitlines() if line.strip()]


def encode_sides(sides: Iterable[PrintSide]) -> bytes:
    """JSON lines, one compact array per print, in the given order."""
    return b"".join(_encoder.encode(side) + b"\n" for side in sides)


def read_sides(path: Path) -> list[PrintSide]:
    """Read a `sides.jsonl` file back."""
    decoder = msgspec.json.Decoder(PrintSide)
    return [decoder.decode(line) for line in path.read_bytes().splitlines() if line.strip()]

"""The planted truth of a synthetic CME session, written beside its DBN files.

`cme_session.json` (one `CmeSessionTruth`) says how the market was built: the rate, the
time-to-expiry and delta conventions, the listed futures and expiries and the quiet windows.
`cme_labels.jsonl` holds one `CmeSecondLabel` per whole second of the session: what a correct
alpha frame at that instant of event time says. Vols are decimals (0.35 = 35 %) except `rr25`,
in vol points; prices and forwards are integers at 1e-9; strikes of the 25-delta points are
dollars (they fall between listed strikes).
"""

from __future__ import annotations

from pathlib import Path

import msgspec

SESSION_FILE = "cme_session.json"
LABELS_FILE = "cme_labels.jsonl"


class QuietWindow(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """No option quote changes with `start <= ts_recv < end`; from `end` on every option is
    quoted again (all within a millisecond). Labels from `start` to `end` inclusive are
    `quiet`: a frame there sees a chain that has stopped moving."""

    start: int
    end: int


class ListedExpiry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One LO expiry: its underlying future and strikes (1e-9), as the definitions list them."""

    expiration: int
    underlying_id: int
    underlying_symbol: str
    strikes: list[int]


class CmeSessionTruth(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the session was made: what a consumer needs to re-derive its truth."""

    seed: int
    dataset: str
    root: str
    option_root: str
    open_ns: int
    close_ns: int
    rate: float
    year_basis: str
    delta_convention: str
    smile: str
    tick: int
    multiplier: int
    futures: dict[str, int]  # symbol -> instrument_id, front first
    expiries: list[ListedExpiry]  # front first
    quiet_windows: list[QuietWindow]


class ExpiryTruth(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One expiry at one second: its forward (its future's mid), time to expiry (years,
    ACT/365), the smile's parameters and ATM vol, and the 25-delta strikes and vols."""

    expiration: int
    underlying_symbol: str
    forward: int
    time_to_expiry: float
    atm_iv: float
    call25_strike: float
    put25_strike: float
    call25_iv: float
    put25_iv: float
    rr25: float
    smile_atm: float
    smile_skew: float
    smile_curv: float


class CmeSecondLabel(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The truth at whole second `ts` (ns): the front future's mid, the front expiry's ATM vol
    and rr25, the term slope (second expiry's ATM vol minus the front's, a decimal; None with
    one expiry), and whether the option chain is inside a quiet window (its end included)."""

    ts: int
    root: str
    front_symbol: str
    cme_fwd_mid: int
    atm_iv: float
    rr25: float
    iv_term_slope: float | None
    quiet: bool
    expiries: list[ExpiryTruth]


_encoder = msgspec.json.Encoder()


def encode_truth(truth: CmeSessionTruth) -> bytes:
    """The session file's bytes."""
    return _encoder.encode(truth) + b"\n"


def read_truth(path: Path) -> CmeSessionTruth:
    """Read a `cme_session.json` back."""
    return msgspec.json.decode(path.read_bytes(), type=CmeSessionTruth)


def encode_labels(labels: list[CmeSecondLabel]) -> bytes:
    """JSON lines, one second per line, in time order."""
    return b"".join(_encoder.encode(label) + b"\n" for label in labels)


def read_labels(path: Path) -> list[CmeSecondLabel]:
    """Read a `cme_labels.jsonl` back."""
    decoder = msgspec.json.Decoder(CmeSecondLabel)
    return [decoder.decode(line) for line in path.read_bytes().splitlines() if line.strip()]

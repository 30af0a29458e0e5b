"""Candle timeframes and the ways traders spell them.

Six frames: 1s, 1m, 5m, 1H, 4H, 1D, all epoch-aligned (so 1D is the UTC day and 4H starts at
00, 04, 08 … UTC). Besides those names, the lower-case `1h`, `4h`, `1d`, `1S`, a bare `D`,
and the number-of-minutes form of charting tools (`1`, `5`, `60`, `240`, `1440`) are read.
`1M` is refused: charting tools read it as a month.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.errors import FlowtapeError


class BadTimeframe(FlowtapeError):
    code = "timeframe"


@dataclass(frozen=True, slots=True)
class Timeframe:
    """One candle frame: its canonical name and its length in seconds."""

    name: str
    seconds: int


TIMEFRAMES: tuple[Timeframe, ...] = (
    Timeframe("1s", 1),
    Timeframe("1m", 60),
    Timeframe("5m", 300),
    Timeframe("1H", 3_600),
    Timeframe("4H", 14_400),
    Timeframe("1D", 86_400),
)
_BY_NAME = {frame.name: frame for frame in TIMEFRAMES}
_OTHER_SPELLINGS = {
    "1S": "1s",
    "1": "1m",
    "1min": "1m",
    "5": "5m",
    "5min": "5m",
    "1h": "1H",
    "60": "1H",
    "60m": "1H",
    "4h": "4H",
    "240": "4H",
    "240m": "4H",
    "1d": "1D",
    "D": "1D",
    "1440": "1D",
}
SPELLINGS: dict[str, Timeframe] = _BY_NAME | {
    text: _BY_NAME[name] for text, name in _OTHER_SPELLINGS.items()
}


def parse_timeframe(text: str) -> Timeframe:
    """The frame `text` names; `BadTimeframe` saying what is accepted otherwise."""
    found = SPELLINGS.get(text.strip())
    if found is not None:
        return found
    hint = " (1M is a month; a minute is 1m)" if text.strip() == "1M" else ""
    raise BadTimeframe(
        f"tf: expected one of {', '.join(_BY_NAME)} (or {', '.join(_OTHER_SPELLINGS)}), "
        f"got {text!r}{hint}"
    )

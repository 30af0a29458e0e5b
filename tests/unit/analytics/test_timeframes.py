"""Candle timeframes as traders and charting tools spell them."""

from __future__ import annotations

import pytest

from analytics.timeframes import SPELLINGS, TIMEFRAMES, BadTimeframe, parse_timeframe


@pytest.mark.parametrize(
    ("text", "name", "seconds"),
    [("1s", "1s", 1), ("1S", "1s", 1), ("1m", "1m", 60), ("1", "1m", 60), ("5m", "5m", 300),
     ("5", "5m", 300), ("1H", "1H", 3_600), ("1h", "1H", 3_600), ("60", "1H", 3_600),
     ("4H", "4H", 14_400), ("4h", "4H", 14_400), ("240", "4H", 14_400),
     ("1D", "1D", 86_400), ("1d", "1D", 86_400), ("D", "1D", 86_400), ("1440", "1D", 86_400),
     (" 1H ", "1H", 3_600)],
)  # fmt: skip
def test_each_spelling_names_its_frame(text: str, name: str, seconds: int) -> None:
    frame = parse_timeframe(text)
    assert (frame.name, frame.seconds) == (name, seconds)


def test_the_minute_spellings_are_the_frames_length_in_minutes() -> None:
    for text, frame in SPELLINGS.items():
        if text.isdigit():
            assert int(text) * 60 == frame.seconds


def test_every_frame_is_a_whole_number_of_minutes_but_the_second() -> None:
    assert [f.name for f in TIMEFRAMES] == ["1s", "1m", "5m", "1H", "4H", "1D"]
    assert all(f.seconds % 60 == 0 for f in TIMEFRAMES if f.name != "1s")


@pytest.mark.parametrize("text", ["2m", "1w", "", "m", "1M", "0", "1.5h", "3600"])
def test_other_text_is_refused_in_one_line_naming_what_is_read(text: str) -> None:
    with pytest.raises(BadTimeframe) as refused:
        parse_timeframe(text)
    message = refused.value.args[0]
    assert message.startswith("tf: expected one of 1s, 1m, 5m, 1H, 4H, 1D")
    assert repr(text) in message and "\n" not in message
    assert refused.value.code == "timeframe"
    assert ("a minute is 1m" in message) == (text == "1M")

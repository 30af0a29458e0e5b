"""The pattern OpenAPI documents for time parameters admits only times the API accepts."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from api.query_params import TIME_EXAMPLES, TIME_PATTERN, time_ns

MATCHING = st.from_regex(
    re.compile(TIME_PATTERN.removeprefix("^").removesuffix("$")), fullmatch=True
)


@settings(max_examples=2000)
@given(text=MATCHING)
def test_every_time_the_pattern_matches_is_read_as_64_bit_nanoseconds(text: str) -> None:
    assert time_ns("since", text) is not None


def test_the_pattern_matches_its_examples_and_refuses_dates_that_do_not_exist() -> None:
    assert all(re.fullmatch(TIME_PATTERN, example) for example in TIME_EXAMPLES)
    assert re.fullmatch(TIME_PATTERN, "2024-02-29") and re.fullmatch(TIME_PATTERN, "2000-02-29")
    for text in ("2023-02-29", "1900-02-29", "2024-04-31", "2024-13-01", "2024-01-19T24:00",
                 "9" * 19, "-9" + "0" * 18, "2300-01-01", "yesterday"):  # fmt: skip
        assert not re.fullmatch(TIME_PATTERN, text), text

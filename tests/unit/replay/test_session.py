"""What a replay request must say before any server is started."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay.session import ReplayError, ReplayRequest
from schemas.errors import FlowtapeError
from schemas.times import BadTime


@pytest.fixture
def sample(shared_data: Path) -> Path:
    return shared_data / "OPRA.PILLAR" / "test_data.tbbo.dbn.zst"


def test_a_request_for_readable_dbn_files_passes(sample: Path) -> None:
    ReplayRequest(paths=(sample,), start="2025-02-20T14:30", end="1740061860000000000").check()


@pytest.mark.parametrize(
    ("request_", "says"),
    [
        (ReplayRequest(), "give DBN files"),
        (ReplayRequest(from_run="live"), "--date"),
        (ReplayRequest(from_run="live", date="2025-02-30"), "2025-02-30"),
        (ReplayRequest(dataset="OPRA.PILLAR", schemas=("tbbo",)), "--symbols"),
        (ReplayRequest(paths=(Path("x.dbn"),), shards=0), "shards"),
    ],
)
def test_a_request_missing_what_it_needs_says_so(request_: ReplayRequest, says: str) -> None:
    with pytest.raises(ReplayError, match=says):
        request_.check()


def test_a_window_bound_that_is_no_time_is_refused(sample: Path) -> None:
    with pytest.raises(BadTime, match="yesterday"):
        ReplayRequest(paths=(sample,), start="yesterday").check()


def test_a_missing_or_corrupt_file_is_refused_before_the_replay(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.dbn"
    corrupt.write_bytes(b"not DBN at all" * 10)
    for path in (tmp_path / "missing.dbn", corrupt):
        with pytest.raises(FlowtapeError, match=path.name) as raised:
            ReplayRequest(paths=(path,)).check()
        assert raised.value.code == "dbn_read"

"""A labels file named on the command line: read, or refused in one line with a code."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.labels import LabelsError, load_labels
from schemas.labels import Label, encode_labels


def a_label() -> Label:
    return Label(
        label_id="sweep-1", kind="sweep", packet_kind="sweep", dataset="OPRA.PILLAR",
        underlying="AAPL", side="buy", ts_start=1, ts_end=2, size=10, premium_cents=0,
        venues=[20], members=[],
    )  # fmt: skip


def test_a_labels_file_reads_back_its_labels(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_bytes(encode_labels([a_label(), a_label()]))
    assert load_labels(path) == [a_label(), a_label()]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no labels file at"),
        (b"not json\n", "expected one label per line"),
        (b'{"label_id": "x"}\n', "expected one label per line"),
    ],
)
def test_a_missing_or_malformed_labels_file_is_a_labels_error(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "labels.jsonl"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(LabelsError) as raised:
        load_labels(path)
    assert str(raised.value).startswith(f"[labels] {message}")


def test_a_folder_named_as_labels_is_a_labels_error(tmp_path: Path) -> None:
    with pytest.raises(LabelsError, match=r"^\[labels\] cannot read labels file"):
        load_labels(tmp_path)

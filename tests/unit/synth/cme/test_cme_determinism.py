"""Same seed, same bytes; another seed, another market."""

from __future__ import annotations

from pathlib import Path

from synth.cme import generate_cme_session, write_cme_session
from synth.cme_config import CmeConfig

TINY = CmeConfig(seed=5, minutes=1, quiet_windows=[(20, 10)])


def _written(config: CmeConfig, out: Path) -> dict[str, bytes]:
    write_cme_session(generate_cme_session(config), out)
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_the_same_seed_writes_identical_bytes(tmp_path: Path) -> None:
    first = _written(TINY, tmp_path / "a")
    second = _written(TINY, tmp_path / "b")
    assert len(first) == 6
    assert first == second


def test_another_seed_writes_another_market(tmp_path: Path) -> None:
    first = _written(TINY, tmp_path / "a")
    other = _written(CmeConfig(seed=6, minutes=1, quiet_windows=[(20, 10)]), tmp_path / "b")
    assert first.keys() == other.keys()
    assert all(first[name] != other[name] for name in first if name.endswith("mbp-1.dbn.zst"))
    assert first["cme_labels.jsonl"] != other["cme_labels.jsonl"]

"""What a replay reads besides the events: the weights that balance sharded engines."""

from __future__ import annotations

from pathlib import Path

import databento

from replay.sources import underlying_weights


def test_weights_count_the_chosen_print_files_records_per_underlying(shared_data: Path) -> None:
    opra = shared_data / "OPRA.PILLAR"
    files = sorted(opra.glob("*.dbn.zst"))
    # tbbo is the trade-bearing schema this sample's replay takes its prints from
    tbbo = databento.DBNStore.from_file(opra / "test_data.tbbo.dbn.zst").to_df()
    definitions = databento.DBNStore.from_file(opra / "test_data.definition.dbn.zst").to_df()
    roots = {str(u) for u in definitions["underlying"]}
    weights = underlying_weights(files)
    assert sum(weights.values()) == len(tbbo) > 0
    assert set(weights) <= roots
    # without definitions nothing says which underlying a record is on
    assert underlying_weights([opra / "test_data.tbbo.dbn.zst"]) == {}


def test_an_unreadable_file_only_goes_uncounted(shared_data: Path, tmp_path: Path) -> None:
    opra = shared_data / "OPRA.PILLAR"
    broken = tmp_path / "broken.dbn"
    broken.write_bytes(b"DBN\x02" + b"\x00" * 40)
    files = [opra / "test_data.definition.dbn.zst", opra / "test_data.tbbo.dbn.zst", broken]
    assert underlying_weights(files) == underlying_weights(files[:2])

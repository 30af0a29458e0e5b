"""`flowtape replay` and `flowtape report` as a person runs them, against real servers."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import databento
import pytest

from analytics.parity import DERIVED_TABLES, RAW_TABLES, fingerprints
from infra.warehouse import Warehouse
from tests.conftest import Servers

pytestmark = pytest.mark.slow


def flowtape(servers: Servers, database: str, cwd: Path, *args: str) -> str:
    env = {**os.environ, **servers.environment(), "CLICKHOUSE_DATABASE": database,
           "FLOWTAPE_DATA_DIR": str(cwd / ".flowtape")}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_replaying_the_opra_sample_stores_every_print_once_with_its_inference(
    servers: Servers, shared_data: Path, tmp_path: Path
) -> None:
    files = sorted(str(p) for p in (shared_data / "OPRA.PILLAR").glob("*.dbn.zst"))
    database = f"e2e_{uuid.uuid4().hex[:8]}"
    output = flowtape(servers, database, tmp_path, "replay", *files, "--run-id", "sample")
    assert "option prints" in output
    trades = databento.DBNStore.from_file(shared_data / "OPRA.PILLAR" / "test_data.tbbo.dbn.zst")
    expected = trades.to_df().reset_index()
    with Warehouse.connect(servers.clickhouse_url, database, create=False) as wh:
        stored = wh.rows(
            "SELECT publisher_id, price, size FROM option_prints WHERE run_id = 'sample' "
            "ORDER BY ts_recv, publisher_id"
        )
        assert len(stored) == len(expected) > 0
        assert sorted(stored) == sorted(
            (int(r.publisher_id), round(r.price * 1e9), int(r.size)) for r in expected.itertuples()
        )
        assert wh.scalar("SELECT count() FROM print_inference WHERE run_id = 'sample'") == len(
            expected
        )
        # a print belongs to at most one stored packet, and a lone single to none
        [(members, distinct)] = wh.rows(
            "SELECT count(), uniqExact(instrument_id, publisher_id, ts_event, sequence) "
            "FROM packet_prints WHERE run_id = 'sample'"
        )
        assert 0 < members == distinct <= len(expected)
        assert (
            wh.scalar(
                "SELECT count() FROM packet_prints LEFT ANTI JOIN print_inference "
                "USING (run_id, instrument_id, publisher_id, ts_event, sequence) "
                "WHERE run_id = 'sample'"
            )
            == 0
        )  # every member print has its inference row
        assert wh.scalar("SELECT count() FROM contracts WHERE run_id = 'sample'") > 0
        assert wh.scalar("SELECT status FROM runs FINAL WHERE run_id = 'sample'") == "done"
    report = flowtape(servers, database, tmp_path, "report", "sample", "--out", str(tmp_path))
    assert (tmp_path / "summary.parquet").exists(), report


def test_replaying_a_run_id_again_replaces_it(
    servers: Servers, shared_data: Path, tmp_path: Path
) -> None:
    files = [str(shared_data / "OPRA.PILLAR" / "test_data.trades.dbn.zst"),
             str(shared_data / "OPRA.PILLAR" / "test_data.definition.dbn.zst")]  # fmt: skip
    database = f"e2e_{uuid.uuid4().hex[:8]}"
    stored = []
    for shards in ("1", "2"):  # the second time in two engine processes: the same result
        flowtape(servers, database, tmp_path, "replay", *files, "--run-id", "again",
                 "--shards", shards)  # fmt: skip
        with Warehouse.connect(servers.clickhouse_url, database, create=False) as wh:
            stored.append(fingerprints(wh, "again", DERIVED_TABLES + RAW_TABLES))
    assert stored[0]["print_inference"][0] == stored[0]["option_prints"][0] > 0
    assert stored[1] == stored[0]
    runs = flowtape(servers, database, tmp_path, "runs", "--delete", "again")
    assert "again" not in runs


def test_a_historical_download_is_cached_as_dbn_and_replayed_without_the_network(
    servers: Servers, shared_data: Path, tmp_path: Path
) -> None:
    from ingest.databento.adapter import DatabentoHistoricalSource
    from ingest.databento.config import DatabentoHistoricalConfig

    cache = tmp_path / ".flowtape" / "databento"
    request = dict(dataset="OPRA.PILLAR", symbols=["SPY.OPT"], start="2025-02-20T14:30",
                   end="2025-02-20T14:31", download_dir=str(cache))  # fmt: skip
    for schema in ("tbbo", "definition"):  # as a download would have left them
        path = DatabentoHistoricalSource(DatabentoHistoricalConfig(schema=schema, **request)).path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((shared_data / "OPRA.PILLAR" / f"test_data.{schema}.dbn.zst").read_bytes())
    database = f"e2e_{uuid.uuid4().hex[:8]}"
    flowtape(
        servers, database, tmp_path, "replay", "--run-id", "downloaded",
        "--dataset", "OPRA.PILLAR", "--schema", "tbbo", "--schema", "definition",
        "--symbols", "SPY.OPT", "--from", "2025-02-20T14:30", "--to", "2025-02-20T14:31",
    )  # fmt: skip
    with Warehouse.connect(servers.clickhouse_url, database, create=False) as wh:
        assert wh.scalar("SELECT count() FROM option_prints WHERE run_id = 'downloaded'") > 0
        assert wh.scalar("SELECT count() FROM contracts WHERE run_id = 'downloaded'") > 0

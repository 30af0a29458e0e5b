"""`replay_session`, the replay use case, called without the command line."""

from __future__ import annotations

from pathlib import Path

import compute.flow as flow
from infra.runs import list_runs
from infra.warehouse import Warehouse
from replay.session import ReplayRequest, replay_session
from tests.conftest import Servers


def test_a_session_replayed_twice_under_one_run_id_is_stored_once_and_registered_done(
    servers: Servers, fresh_warehouse: Warehouse, shared_data: Path, tmp_path: Path
) -> None:
    opra = shared_data / "OPRA.PILLAR"
    request = ReplayRequest(paths=(opra / "test_data.definition.dbn.zst",
                                   opra / "test_data.tbbo.dbn.zst"))  # fmt: skip
    summaries = [
        replay_session(
            request,
            warehouse=fresh_warehouse,
            redis_url=servers.redis_url,
            config=flow.EngineConfig(),
            cache_dir=tmp_path,
            run_id="session",
        )  # fmt: skip
        for _ in range(2)
    ]
    assert summaries[0].prints == summaries[1].prints > 0
    stored = "SELECT count() FROM option_prints WHERE run_id = 'session'"
    assert fresh_warehouse.scalar(stored) == summaries[1].prints
    (run,) = list_runs(fresh_warehouse)
    assert (run["run_id"], run["kind"], run["status"]) == ("session", "replay", "done")

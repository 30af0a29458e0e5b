"""Where a command's servers come from: the servers `flowtape up` started and handed to its
children through the environment are `up`'s, not `external`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from infra.settings import Settings
from infra.stack import ServiceRecord, Stack

UP_NATS = "nats://127.0.0.1:41001"
UP_CLICKHOUSE = "http://127.0.0.1:41002"
OTHER_NATS = "nats://10.0.0.9:4222"


def record_up(data_dir: Path, *, owner_pid: int, owned: list[str]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "stack.json").write_text(
        json.dumps({
            "owner_pid": owner_pid,
            "urls": {"nats": UP_NATS, "clickhouse": UP_CLICKHOUSE},
            "owned": owned,
            "pids": {},
            "api_url": "http://127.0.0.1:41003",
            "services": [{"name": "api", "command": "api --port 41003", "pid": 7,
                          "state": "running", "restarts": 2}],
        })
    )  # fmt: skip


def stack(data_dir: Path, **environment: str) -> Stack:
    return Stack(Settings(_env_file=None, FLOWTAPE_DATA_DIR=data_dir, **environment))


def test_a_url_up_handed_to_its_child_is_reported_as_up(tmp_path: Path) -> None:
    record_up(tmp_path, owner_pid=os.getpid(), owned=["nats", "clickhouse"])
    child = stack(tmp_path, NATS_URL=UP_NATS, CLICKHOUSE_URL=UP_CLICKHOUSE)
    up = child.recorded_up()
    found = {c: child.locate(c, up) for c in ("nats", "clickhouse")}
    assert {c: (e.url, e.origin) for c, e in found.items() if e} == {
        "nats": (UP_NATS, "up"), "clickhouse": (UP_CLICKHOUSE, "up"),
    }  # fmt: skip


def test_a_configured_url_that_is_not_ups_own_server_is_external(tmp_path: Path) -> None:
    record_up(tmp_path, owner_pid=os.getpid(), owned=["clickhouse"])  # up's NATS was external
    same_as_up = stack(tmp_path, NATS_URL=UP_NATS)
    other = stack(tmp_path, NATS_URL=OTHER_NATS)
    assert same_as_up.locate("nats", same_as_up.recorded_up()).origin == "external"  # type: ignore[union-attr]
    assert other.locate("nats", other.recorded_up()).origin == "external"  # type: ignore[union-attr]


def test_without_configuration_a_command_finds_ups_servers(tmp_path: Path) -> None:
    record_up(tmp_path, owner_pid=os.getpid(), owned=["nats", "clickhouse"])
    command = stack(tmp_path)
    up = command.recorded_up()
    assert command.locate("nats", up).origin == "up"  # type: ignore[union-attr]
    assert command.locate("redis", up) is None
    assert up is not None and up.api_url == "http://127.0.0.1:41003"
    assert up.services == (ServiceRecord("api", "api --port 41003", 7, "running", 2),)


def test_the_record_of_an_up_that_is_gone_is_ignored(tmp_path: Path) -> None:
    record_up(tmp_path, owner_pid=2**22 + 1, owned=["nats", "clickhouse"])
    child = stack(tmp_path, NATS_URL=UP_NATS)
    assert child.recorded_up() is None
    assert child.locate("nats", None).origin == "external"  # type: ignore[union-attr]

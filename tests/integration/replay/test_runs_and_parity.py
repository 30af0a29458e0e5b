from analytics.parity import RAW_TABLES, fingerprints
from infra.runs import delete_run, list_runs, register_run
from infra.warehouse import Warehouse
from tests.kit.samples import one_of_each_event


def test_the_same_events_under_two_run_ids_have_equal_fingerprints(
    fresh_warehouse: Warehouse,
) -> None:
    fresh_warehouse.insert_events(one_of_each_event("a"), run_id="a", log_seq=1)
    fresh_warehouse.insert_events(one_of_each_event("b"), run_id="b", log_seq=7)
    assert fingerprints(fresh_warehouse, "a") == fingerprints(fresh_warehouse, "b")
    assert fingerprints(fresh_warehouse, "a", RAW_TABLES) == fingerprints(
        fresh_warehouse, "b", RAW_TABLES
    )
    assert fingerprints(fresh_warehouse, "a")["flow_packets"][0] == 1


def test_a_changed_or_repeated_row_changes_the_fingerprint(fresh_warehouse: Warehouse) -> None:
    events = one_of_each_event("a")
    fresh_warehouse.insert_events(events, run_id="a", log_seq=1)
    before = fingerprints(fresh_warehouse, "a")
    fresh_warehouse.insert_events(events[-1:], run_id="a", log_seq=2)  # a repeated row
    after = fingerprints(fresh_warehouse, "a")
    assert after["darkpool_events"] != before["darkpool_events"]
    assert {t: v for t, v in after.items() if t != "darkpool_events"} == {
        t: v for t, v in before.items() if t != "darkpool_events"
    }


def test_deleting_a_run_drops_its_partitions_and_leaves_other_runs(
    fresh_warehouse: Warehouse,
) -> None:
    for run in ("keep", "drop"):
        fresh_warehouse.insert_events(one_of_each_event(run), run_id=run, log_seq=1)
        register_run(fresh_warehouse, run, kind="replay", description="", params={},
                     status="done")  # fmt: skip
    kept = fingerprints(fresh_warehouse, "keep")
    assert delete_run(fresh_warehouse, "drop") == 14
    assert all(count == 0 for count, _ in fingerprints(fresh_warehouse, "drop").values())
    assert fingerprints(fresh_warehouse, "keep") == kept
    assert [r["run_id"] for r in list_runs(fresh_warehouse)] == ["keep"]


def test_registering_a_run_again_updates_its_status(fresh_warehouse: Warehouse) -> None:
    register_run(fresh_warehouse, "r1", kind="replay", description="d", params={"x": 1},
                 status="running")  # fmt: skip
    register_run(fresh_warehouse, "r1", kind="replay", description="d", params={"x": 1},
                 status="done")  # fmt: skip
    (run,) = list_runs(fresh_warehouse)
    assert (run["run_id"], run["status"]) == ("r1", "done")

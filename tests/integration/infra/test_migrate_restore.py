"""`migrate` recreates the tables and views its migrations created when one goes missing."""

from __future__ import annotations

from infra.migrate import available_migrations, migrate, schema_objects
from infra.warehouse import Warehouse
from schemas.events import Alert
from tests.kit.samples import one_of_each_event


def tables(warehouse: Warehouse) -> set[str]:
    return {
        str(row[0])
        for row in warehouse.rows(
            "SELECT name FROM system.tables WHERE database = {db:String}",
            {"db": warehouse.database},
        )
    }


def test_every_table_and_view_of_the_migrations_exists_after_migrate(
    fresh_warehouse: Warehouse,
) -> None:
    expected = {obj.name for obj in schema_objects(available_migrations())}
    assert {"alerts", "flow_daily_alerts_mv", "contract_volume_vs_oi"} <= expected
    assert expected <= tables(fresh_warehouse)


def test_a_dropped_alerts_table_is_back_after_migrate(fresh_warehouse: Warehouse) -> None:
    fresh_warehouse.command("DROP TABLE alerts")
    assert "alerts" not in tables(fresh_warehouse)
    assert migrate(fresh_warehouse) == []  # nothing new to apply, and yet
    assert "alerts" in tables(fresh_warehouse)
    alerts = [event for event in one_of_each_event() if isinstance(event, Alert)]
    fresh_warehouse.insert_events(alerts, run_id="live")
    assert fresh_warehouse.scalar("SELECT count() FROM alerts") == len(alerts) > 0
    # the view that counts alerts per day still reads the recreated table
    assert fresh_warehouse.scalar("SELECT sum(alerts) FROM flow_daily") == len(alerts)


def test_a_recreated_table_gets_the_columns_later_migrations_added(
    fresh_warehouse: Warehouse,
) -> None:
    fresh_warehouse.command("DROP TABLE option_quotes")
    fresh_warehouse.command("DROP VIEW contract_volume_vs_oi")
    migrate(fresh_warehouse)
    columns = {str(row[0]) for row in fresh_warehouse.rows("DESCRIBE TABLE option_quotes")}
    assert "sampled" in columns  # added by 0006 after 0001 created the table
    assert "contract_volume_vs_oi" in tables(fresh_warehouse)

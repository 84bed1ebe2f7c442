"""engine.database.tracking against a real server: the cheap change detector pollers use."""

from __future__ import annotations

import psycopg

from engine.database import runner, tracking
from tests.conftest import write_migration

SHOP = "CREATE TABLE shop (id int);\n-- ROLLBACK:\n-- DROP TABLE shop;\n"
ITEM = "CREATE TABLE item (id int);\n-- ROLLBACK:\n-- DROP TABLE item;\n"


def fingerprint(project) -> str | None:
    with psycopg.connect(project.database_url, autocommit=True) as conn:
        return tracking.fingerprint(conn, project)


def test_fingerprint_changes_exactly_when_a_tracking_row_does(project):
    assert fingerprint(project) == "absent"  # no schema, no table: nothing applied yet
    write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    runner.migrate(project)
    applied = fingerprint(project)
    assert applied not in (None, "absent")
    assert fingerprint(project) == applied  # stable while nothing changes

    write_migration(project, "2025-01-01_1000_create_item.sql", ITEM)
    runner.migrate(project)
    two = fingerprint(project)
    assert two != applied

    # A change that keeps the row count and the newest time (a repaired checksum) is still seen.
    with psycopg.connect(project.database_url, autocommit=True) as conn:
        conn.execute(f"UPDATE {tracking.table_sql(project)} SET checksum = 'x' "
                     "WHERE version = '2025-01-01_0900_create_shop'")
    assert fingerprint(project) not in (two, applied)


def test_fingerprint_of_a_table_without_pgshift_columns_defers_to_read_applied(project):
    with psycopg.connect(project.database_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA system")
        conn.execute("CREATE TABLE system.schema_migrations (version text PRIMARY KEY)")
    assert fingerprint(project) is None

"""Each migration starts from a pristine session, and the tracking row is written as the connecting role."""

from __future__ import annotations

import psycopg
import pytest

from engine.database import runner
from tests.conftest import write_migration

STAGING = ("CREATE TEMP TABLE staging (n int);\nINSERT INTO staging VALUES ({n});\n"
           "INSERT INTO loaded SELECT n FROM staging;\nPREPARE pick AS SELECT 1;\nLISTEN pgshift_test_{n};\n")


def loaded(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return sorted(r[0] for r in conn.execute("SELECT n FROM loaded"))


@pytest.mark.parametrize("dry_run", [False, True])
def test_two_files_with_the_same_temp_table_and_prepared_statement_apply_in_one_run(project, database_url,
                                                                                    dry_run):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE loaded (n int)")
    write_migration(project, "2025-01-01_1000_first.sql", STAGING.format(n=1))
    write_migration(project, "2025-01-02_1000_second.sql", STAGING.format(n=2))
    write_migration(project, "2025-01-03_1000_channels.sql",
                    "INSERT INTO loaded SELECT count(*) FROM pg_listening_channels();\n")
    result = runner.migrate(project, dry_run=dry_run)
    assert [a.version for a in result.applied] == ["2025-01-01_1000_first", "2025-01-02_1000_second",
                                                   "2025-01-03_1000_channels"]
    assert loaded(database_url) == ([] if dry_run else [0, 1, 2])


@pytest.fixture
def other_role(database_url):
    """A role the connecting superuser can SET ROLE to, with no access to the tracking schema."""
    from psycopg import conninfo
    role = "owner_" + conninfo.conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" NOLOGIN')
        conn.execute(f'GRANT CREATE ON SCHEMA public TO "{role}"')
        connecting = conn.execute("SELECT current_user").fetchone()[0]
    yield role, connecting
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP OWNED BY "{role}"')
        conn.execute(f'DROP ROLE "{role}"')


def tracking_roles(url: str) -> dict[str, tuple[str, str | None]]:
    with psycopg.connect(url) as conn:
        return {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT version, applied_by, migration_role FROM system.schema_migrations")}


def test_set_role_in_a_migration_does_not_reach_the_tracking_row(project, database_url, other_role):
    role, connecting = other_role
    write_migration(project, "2025-01-01_1000_session_role.sql",
                    f'SET ROLE "{role}";\nCREATE TABLE owned_a (id int);\n')
    write_migration(project, "2025-01-02_1000_local_role.sql",
                    f'SET LOCAL ROLE "{role}";\nCREATE TABLE owned_b (id int);\n')
    write_migration(project, "2025-01-03_1000_plain.sql", "CREATE TABLE plain (id int);\n")
    write_migration(project, "2025-01-04_1000_no_transaction.sql",
                    f'-- pgshift: no-transaction\nSET ROLE "{role}";\n'
                    "CREATE INDEX CONCURRENTLY owned_a_id ON owned_a (id);\n")
    runner.migrate(project)
    assert tracking_roles(database_url) == {
        "2025-01-01_1000_session_role": (connecting, role),
        "2025-01-02_1000_local_role": (connecting, role),
        "2025-01-03_1000_plain": (connecting, None),
        "2025-01-04_1000_no_transaction": (connecting, role),
    }
    with psycopg.connect(database_url) as conn:
        owners = dict(conn.execute("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'"))
    assert owners == {"owned_a": role, "owned_b": role, "plain": connecting}


def test_a_tracking_table_without_the_role_column_is_upgraded_and_keeps_its_rows(project, database_url):
    from engine.analysis import files
    from engine.database import tracking
    older = ", ".join(f"{name} {ddl}" for name, ddl in tracking.COLUMNS if name != "migration_role")
    old = files.read_migration(write_migration(project, "2024-12-31_1000_old.sql", "SELECT 1;\n"))
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA system; CREATE TABLE system.schema_migrations ({older})")
        conn.execute("INSERT INTO system.schema_migrations (version, checksum) VALUES (%s, %s)",
                     (old.version, old.checksum))
    write_migration(project, "2025-01-01_1000_plain.sql", "CREATE TABLE plain (id int);\n")
    assert [a.version for a in runner.migrate(project).applied] == ["2025-01-01_1000_plain"]
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT version, state, migration_role FROM system.schema_migrations "
                            "ORDER BY version").fetchall()
    assert rows == [("2024-12-31_1000_old", "applied", None), ("2025-01-01_1000_plain", "applied", None)]

"""The runner reports a migration applied only when the server confirmed its tracking row and COMMIT.

These tests call the runner below `migrate`'s file checks (which refuse a NUL byte up front): the runner must
hold on its own, because a file check can miss a case and nothing may ever be half-applied or misreported.
"""

from __future__ import annotations

import psycopg
import pytest

from engine.database import db, execution, runner, tracking
from engine.analysis import files as migration_files
from engine.errors import MigrationFailedError
from tests.conftest import write_migration

NUL_FILE = "CREATE TABLE before_nul (id int);\n-- a comment with a \x00 in it\nCREATE TABLE after_nul (id int);\n"


def apply_below_the_file_checks(settings, names: list[str]) -> list[str]:
    """Each file through the runner's own apply step, in one session, as one `migrate` run does."""
    result = runner.MigrateResult(database="test", dry_run=False)
    run = runner._RunState(runner._LockWait(settings, lambda e: None))
    with db.session(settings) as (conn, target):
        tracking.ensure_table(conn, settings)
        for name in names:
            migration = migration_files.read_migration(settings.migrations_dir / name)
            runner._refuse_unsendable(migration, result)
            if migration.no_transaction:
                milliseconds = runner._apply_no_transaction(conn, settings, migration, result, run.lock_wait)
            else:
                milliseconds = runner._apply_with_retries(conn, settings, migration, result, lambda e: None, run,
                                                          has_row=False)
            result.applied.append(runner.AppliedMigrationResult(migration.version, migration.path, milliseconds))
    return [a.version for a in result.applied]


def relations(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def tracked(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT version, state FROM system.schema_migrations").fetchall())


def test_a_script_cut_short_on_its_way_is_a_failure_and_nothing_of_it_stays(project, database_url, monkeypatch):
    """libpq stops sending at a NUL: the server gets the first statements, no tracking row and no COMMIT."""
    monkeypatch.setattr(execution, "unsendable_offset", lambda text: None)  # let the NUL reach libpq
    write_migration(project, "2025-01-01_1000_with_nul.sql", NUL_FILE)
    write_migration(project, "2025-01-02_1000_next.sql", "CREATE TABLE next_one (id int);\n")
    with pytest.raises(MigrationFailedError) as caught:
        apply_below_the_file_checks(project, ["2025-01-01_1000_with_nul.sql", "2025-01-02_1000_next.sql"])
    assert "never confirmed its tracking row" in caught.value.message
    assert tracked(database_url) == {}
    # The next migration (in the same session) must not commit what the cut-short one began.
    assert apply_below_the_file_checks(project, ["2025-01-02_1000_next.sql"]) == ["2025-01-02_1000_next"]
    assert relations(database_url) == {"next_one"}


def test_a_nul_byte_is_never_sent_and_nothing_runs(project, database_url):
    write_migration(project, "2025-01-01_1000_with_nul.sql", NUL_FILE)
    with pytest.raises(MigrationFailedError) as caught:
        apply_below_the_file_checks(project, ["2025-01-01_1000_with_nul.sql"])
    finding = caught.value.findings[0]
    assert "NUL" in finding.message and (finding.span.start.line, finding.span.start.column) == (1, 20)
    assert relations(database_url) == set() and tracked(database_url) == {}


def test_a_nul_byte_in_a_no_transaction_file_runs_none_of_its_statements(project, database_url):
    write_migration(project, "2025-01-01_1000_accounts.sql", "CREATE TABLE accounts (id int, name text);\n")
    write_migration(project, "2025-01-02_1000_indexes.sql",
                    "-- pgshift: no-transaction\nCREATE INDEX CONCURRENTLY accounts_id ON accounts (id);\n"
                    "-- \x00\nCREATE INDEX CONCURRENTLY accounts_name ON accounts (name);\n")
    with pytest.raises(MigrationFailedError):
        apply_below_the_file_checks(project, ["2025-01-01_1000_accounts.sql", "2025-01-02_1000_indexes.sql"])
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'accounts'").fetchone() == (0,)
    assert tracked(database_url) == {"2025-01-01_1000_accounts": "applied"}

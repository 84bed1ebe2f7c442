"""An index a no-transaction migration leaves INVALID is a failure with the way out, never "applied"."""

from __future__ import annotations

import psycopg
import pytest

from engine.database import repair, runner
from engine.errors import MigrationFailedError
from engine.database.records import AppliedMigration
from engine.database.status import State, drift_findings, list_migrations
from engine.analysis.files import read_migration
from tests.conftest import write_migration

TABLE = "CREATE TABLE accounts (id bigint, email text);\nINSERT INTO accounts VALUES (1, 'a'), (2, 'a');\n"
UNIQUE = "-- pgshift: no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS accounts_email ON accounts (email);\n"


def index_valid(url: str) -> bool | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('accounts_email')"
                           ).fetchone()
    return row[0] if row else None


def test_a_rerun_that_skips_an_invalid_index_fails_with_the_way_out(project, database_url):
    write_migration(project, "2025-01-01_1000_accounts.sql", TABLE)
    path = write_migration(project, "2025-01-02_1000_unique_email.sql", UNIQUE)
    with pytest.raises(MigrationFailedError) as caught:
        runner.migrate(project)  # duplicates: the build fails and leaves the index INVALID
    assert index_valid(database_url) is False
    assert "accounts_email is INVALID" in caught.value.help
    assert "DROP INDEX CONCURRENTLY accounts_email;" in caught.value.help
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE accounts SET email = 'b' WHERE id = 2")
    repair.apply_changes(project, repair.plan_repair(project, ["2025-01-02_1000_unique_email"]))
    # the re-run's IF NOT EXISTS skips the invalid index: every statement "succeeds"
    with pytest.raises(MigrationFailedError) as caught:
        runner.migrate(project)
    error = caught.value
    assert 'index accounts_email is INVALID' in error.message
    assert "DROP INDEX CONCURRENTLY accounts_email;" in error.help and "pgshift migrate" in error.help
    assert error.findings[0].code == "invalid-index" and error.findings[0].path == path
    assert error.findings[0].span.start.line == 1
    status = {m.version: m for m in list_migrations(project).migrations}["2025-01-02_1000_unique_email"]
    assert status.state is State.FAILED and "INVALID" in status.error
    # the editor's diagnostic comes from the same row
    with psycopg.connect(database_url) as conn:
        rows = {r[0]: AppliedMigration(*r) for r in conn.execute(
            "SELECT version, checksum, state, applied_at, execution_ms, applied_by, rollback_sql, statements_run, "
            "error FROM system.schema_migrations")}
    [finding] = drift_findings(read_migration(path), rows)
    assert finding.code == "migration-failed" and "accounts_email is INVALID" in finding.message
    # the way out works
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP INDEX CONCURRENTLY accounts_email")
    runner.migrate(project)
    assert index_valid(database_url) is True
    assert list_migrations(project).migrations[1].state is State.APPLIED

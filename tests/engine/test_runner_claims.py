"""A no-transaction migration is claimed under the migration lock: two runners never both start it."""

from __future__ import annotations

import psycopg
import pytest

from engine.database import runner
from engine.errors import MigrationFailedError
from tests.conftest import write_migration


def test_a_no_transaction_migration_another_runner_started_is_not_run_again(project, database_url):
    write_migration(project, "2025-01-01_1000_accounts.sql", "CREATE TABLE accounts (id int);\n")
    index = write_migration(project, "2025-01-02_1000_index.sql",
                            "-- pgshift: no-transaction\nCREATE INDEX CONCURRENTLY accounts_id ON accounts (id);\n")

    def other_runner_claims_it_first(event) -> None:
        """Between this run's plan and its claim, another pgshift records `running` and starts the build."""
        if isinstance(event, runner.Started) and event.path == index:
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute("INSERT INTO system.schema_migrations (version, checksum, state, statements_run) "
                             "VALUES ('2025-01-02_1000_index', 'x', 'running', 0)")

    with pytest.raises(MigrationFailedError) as caught:
        runner.migrate(project, on_event=other_runner_claims_it_first)
    assert "being run by another pgshift" in caught.value.message
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('accounts_id')").fetchone() == (None,)
        assert conn.execute("SELECT state, checksum FROM system.schema_migrations WHERE version = "
                            "'2025-01-02_1000_index'").fetchone() == ("running", "x")

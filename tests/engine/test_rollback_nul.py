"""A ROLLBACK block PostgreSQL cannot receive is refused before anything runs (issue 10, 1)."""

from __future__ import annotations

import psycopg
import pytest

from engine.database import runner
from engine.errors import RollbackError
from tests.conftest import write_migration

CREATE = "CREATE TABLE accounts (id bigint PRIMARY KEY);\n\n-- ROLLBACK:\n-- DROP TABLE accounts;\n"


def test_a_nul_byte_in_the_rollback_block_stops_rollback_with_its_place(project, database_url):
    path = write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    runner.migrate(project)
    path.write_text(CREATE.replace("DROP TABLE accounts;", "DROP TABLE accounts; -- \x00 then\n-- SELECT 1;"))
    with pytest.raises(RollbackError) as caught:
        runner.plan_rollback(project)
    assert "NUL byte" in caught.value.message
    [finding] = caught.value.findings
    assert (finding.path, finding.span.start.line, finding.span.start.column) == (path, 3, 27)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('accounts') IS NOT NULL").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM system.schema_migrations").fetchone()[0] == 1

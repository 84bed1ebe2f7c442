"""Each migration starts from a pristine session, and the tracking row is written as the connecting role."""

from __future__ import annotations

import psycopg
import pytest

from engine import runner
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

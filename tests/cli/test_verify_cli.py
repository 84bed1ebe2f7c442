"""`pgshift verify`: per-migration lines, located findings on stderr, exit 1 on failure, `--json`."""

from __future__ import annotations

import json

from server.cli.main import main
from tests.conftest import write_migration


def _cli(project, *args: str) -> int:
    return main(["-C", str(project.project_root), "--database-url", project.database_url, *args])


def test_verify_reports_each_migration_and_fails_with_located_findings(project, capsys):
    write_migration(project, "2024-01-01_1000_create_users.sql",
                    "CREATE TABLE users (id int);\n-- ROLLBACK:\n-- DROP TABLE users;\n")
    write_migration(project, "2024-01-02_1000_add_index.sql",
                    "CREATE INDEX users_id_idx ON users (id);\n-- ROLLBACK:\n-- SELECT 1;\n")
    assert _cli(project, "verify") == 1
    out, err = capsys.readouterr()
    assert "ok                 2024-01-01_1000_create_users" in out
    assert "FAILED (rollback)  2024-01-02_1000_add_index" in out
    assert ("migrations/2024-01-02_1000_add_index.sql:2:1: error[rollback-incomplete]: the rollback does not "
            "restore the schema: index public.users_id_idx still exists after the rollback") in err


def test_verify_passes_with_exit_0_and_json(project, capsys):
    write_migration(project, "2024-01-01_1000_create_users.sql",
                    "CREATE TABLE users (id int);\n-- ROLLBACK:\n-- DROP TABLE users;\n")
    assert _cli(project, "verify", "--json", "2024-01-01_1000_create_users") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["selection"] == "given"
    assert data["migrations"][0]["status"] == "ok"


def test_verify_reports_a_reapply_that_gives_another_schema(project, capsys):
    write_migration(project, "2024-01-01_1000_runs.sql", "CREATE TABLE runs (n int);\n-- ROLLBACK:\n-- DROP TABLE runs;\n")
    write_migration(project, "2024-01-02_1000_numbered.sql", """INSERT INTO runs VALUES (1);
DO $$ BEGIN EXECUTE format('CREATE TABLE part_%s (id int)', (SELECT count(*) FROM runs)); END $$;
-- ROLLBACK:
-- DO $$ BEGIN EXECUTE format('DROP TABLE part_%s', (SELECT count(*) FROM runs)); END $$;
""")
    assert _cli(project, "verify") == 1
    out, err = capsys.readouterr()
    assert "FAILED (reapply)   2024-01-02_1000_numbered" in out
    assert ("migrations/2024-01-02_1000_numbered.sql:3:1: error[reapply-differs]: running the migration again "
            "after its rollback gives a different schema: table public.part_2 exists after the reapply but not "
            "after the first run") in err


def test_a_function_restored_with_other_indentation_verifies_with_a_note(project, capsys):
    create = "CREATE OR REPLACE FUNCTION greet(who text) RETURNS text LANGUAGE sql AS $${}$$;"
    write_migration(project, "2024-01-01_1000_greet.sql",
                    create.format("\n    SELECT 'hello,  ' || who\n") + "\n-- ROLLBACK:\n-- DROP FUNCTION greet(text);\n")
    write_migration(project, "2024-01-02_1000_greet_louder.sql",
                    create.format("\n    SELECT 'HELLO,  ' || who\n") + "\n-- ROLLBACK:\n-- "
                    + create.format(" SELECT 'hello,  '\n--   || who ") + "\n")
    assert _cli(project, "verify", "2024-01-02") == 0
    out, err = capsys.readouterr()
    assert "ok                 2024-01-02_1000_greet_louder" in out and "All 1 migration(s) verified." in out
    assert ("migrations/2024-01-02_1000_greet_louder.sql:4:1: info[white-space-differs]: after the rollback, "
            "function public.greet(who text) definition differs from the original only in white space") in err

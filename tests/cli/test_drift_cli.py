"""`pgshift drift`: exit 0 without drift, 1 with it (each object named, placed in its migration), `--json`,
`--format markdown`, and 2 when the database cannot be reached."""

from __future__ import annotations

import json

import psycopg

from server.cli.main import main
from tests.conftest import write_migration

USERS = """CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
CREATE INDEX users_email_idx ON users (email);
-- ROLLBACK:
-- DROP TABLE users;
"""


def _cli(project, *args: str) -> int:
    return main(["-C", str(project.project_root), "--database-url", project.database_url, *args])


def _migrated(project, capsys) -> None:
    write_migration(project, "2024-01-01_1000_create_users.sql", USERS)
    assert _cli(project, "migrate") == 0
    capsys.readouterr()


def _by_hand(project, *statements: str) -> None:
    with psycopg.connect(project.database_url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def test_no_drift_exits_0(project, capsys):
    _migrated(project, capsys)
    assert _cli(project, "drift") == 0
    out, err = capsys.readouterr()
    assert out == "No drift: the database matches its 1 applied migration(s).\n"
    assert "replayed 1 applied migration(s) in a scratch database" in err


def test_drift_is_named_in_text_and_exits_1(project, capsys):
    _migrated(project, capsys)
    _by_hand(project, "ALTER TABLE users ADD COLUMN nickname text", "DROP INDEX users_email_idx")
    assert _cli(project, "drift") == 1
    out = capsys.readouterr().out
    assert ("migrations/2024-01-01_1000_create_users.sql:1:14: error[schema-drift]: column public.users.nickname "
            "exists in the database but no applied migration creates it\n") in out
    assert ("migrations/2024-01-01_1000_create_users.sql:2:1: error[schema-drift]: index public.users_email_idx is "
            "missing from the database (the applied migrations create it)") in out
    assert "Drift: 2 difference(s) between the database and its applied migrations.\n  help: " in out


def test_drift_as_json(project, capsys):
    _migrated(project, capsys)
    _by_hand(project, "ALTER TABLE users ALTER COLUMN email DROP NOT NULL")
    assert _cli(project, "drift", "--json") == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["applied"] == ["2024-01-01_1000_create_users"]
    assert data["drift"] == [{
        "kind": "column", "name": "public.users.email", "change": "changed", "attribute": "nullable",
        "expected": False, "live": True,
        "message": "column public.users.email: nullable is yes in the database, the applied migrations give no",
        "diff": [],
        "defined_in": {"version": "2024-01-01_1000_create_users",
                       "path": "migrations/2024-01-01_1000_create_users.sql", "line": 1, "column": 14}}]


def test_drift_as_markdown(project, capsys):
    _migrated(project, capsys)
    _by_hand(project, "COMMENT ON TABLE users IS 'people'")
    assert _cli(project, "drift", "--format", "markdown") == 1
    assert capsys.readouterr().out == (
        "# Schema drift\n\n1 difference(s) between the database and its 1 applied migration(s).\n\n"
        "| Object | Name | Drift | Last defined in |\n|---|---|---|---|\n"
        "| table | `public.users` | comment changed | `migrations/2024-01-01_1000_create_users.sql:1` |\n")


def test_an_unreachable_database_exits_2(project, capsys):
    write_migration(project, "2024-01-01_1000_create_users.sql", USERS)
    code = main(["-C", str(project.project_root), "--database-url",
                 "postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2", "drift"])
    assert code == 2
    err = capsys.readouterr().err
    assert "error[database-unavailable]" in err and "secret" not in err


def test_an_applied_file_that_no_longer_replays_stops_with_exit_2_and_says_where(project, capsys):
    _migrated(project, capsys)
    path = project.migrations_dir / "2024-01-01_1000_create_users.sql"
    path.write_text(USERS.replace("CREATE INDEX", "SELECT no_such_function();\nCREATE INDEX"), encoding="utf-8")
    assert _cli(project, "drift") == 2
    err = capsys.readouterr().err
    assert "migrations/2024-01-01_1000_create_users.sql:2:8: error[migration-failed]" in err
    assert "error[drift-failed]: cannot replay the applied migrations" in err
    with psycopg.connect(project.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'pgshift_verify_%'").fetchone() == (0,)


def test_migrate_check_drift_refuses_a_drifted_database_and_applies_nothing(project, capsys):
    _migrated(project, capsys)
    write_migration(project, "2024-01-02_1000_add_name.sql",
                    "ALTER TABLE users ADD COLUMN name text;\n-- ROLLBACK:\n-- ALTER TABLE users DROP COLUMN name;\n")
    _by_hand(project, "DROP INDEX users_email_idx")
    assert _cli(project, "migrate", "--check-drift") == 1
    err = capsys.readouterr().err
    assert ("migrations/2024-01-01_1000_create_users.sql:2:1: error[schema-drift]: index public.users_email_idx is "
            "missing from the database (the applied migrations create it)") in err
    assert ("error[database-drifted]: the database has drifted from its applied migrations (1 difference(s)); "
            "nothing was applied") in err
    assert _cli(project, "list", "--json") == 0
    assert [m["version"] for m in json.loads(capsys.readouterr().out)["migrations"] if m["state"] == "pending"] \
        == ["2024-01-02_1000_add_name"]
    _by_hand(project, "CREATE INDEX users_email_idx ON users (email)")
    assert _cli(project, "migrate", "--check-drift") == 0
    assert "Applied 1 migration(s)" in capsys.readouterr().out


def test_a_name_with_a_pipe_keeps_the_markdown_table_whole(project, capsys):
    _migrated(project, capsys)
    _by_hand(project, 'CREATE TABLE "a|b" (id int)')
    assert _cli(project, "drift", "--format", "markdown") == 1
    assert "| table | `public.a\\|b` | added by hand |  |\n" in capsys.readouterr().out

"""`pgshift trace`: a table per migration, the JSON shape of issue 12, Markdown, located errors and exit codes."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from engine.shadow.cache import TEMPLATE_PREFIX
from server.cli.main import main
from tests.conftest import write_migration


@pytest.fixture
def shadowed(project, server_url):
    """The project with `shadow_database_url` in its pyproject.toml; its shadow databases dropped afterwards."""
    (project.project_root / "pyproject.toml").write_text(
        f'[tool.pgshift]\nshadow_database_url = "{server_url}"\n', encoding="utf-8")
    write_migration(project, "2024-01-01_1000_create_t.sql",
                    f"-- {uuid.uuid4()}\nCREATE TABLE t (id int PRIMARY KEY, v varchar(10));\n"
                    "-- ROLLBACK:\n-- DROP TABLE t;\n")
    yield project
    with psycopg.connect(server_url, autocommit=True) as conn:
        for (name,) in conn.execute("SELECT datname FROM pg_database WHERE left(datname, 15) = %s",
                                    (TEMPLATE_PREFIX,)).fetchall():
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _cli(project, *args: str) -> int:
    return main(["-C", str(project.project_root), "--database-url", project.database_url, "trace", *args])


CHANGE = """ALTER TABLE t ALTER COLUMN id TYPE bigint;
CREATE INDEX t_v_idx ON t (v);
-- ROLLBACK:
-- DROP INDEX t_v_idx;
-- ALTER TABLE t ALTER COLUMN id TYPE int;
"""


def test_text_shows_each_statement_with_its_locks_and_class(shadowed, capsys):
    write_migration(shadowed, "2024-01-02_1000_change.sql", CHANGE)
    assert _cli(shadowed) == 0  # both pending: the user's database has no tracking table
    out, err = capsys.readouterr()
    assert "every migration rolled back; your database is not touched" in err
    lines = out.splitlines()
    start = lines.index("migrations/2024-01-02_1000_change.sql")
    assert [" ".join(line.split()) for line in lines[start + 2: start + 7]] == [
        "1 rewrite ALTER TABLE t ALTER COLUMN id TYPE bigint "
        "public.t ShareLock (SHARE: blocks writes; reads go on)",
        "public.t AccessExclusiveLock (ACCESS EXCLUSIVE: blocks reads and writes)",
        "public.t_pkey AccessExclusiveLock (ACCESS EXCLUSIVE: blocks reads and writes)",
        "rewrites public.t",
        "2 scan CREATE INDEX t_v_idx ON t (v) no new lock on an existing relation (those taken above are held until COMMIT)"]
    assert "  rollback: restores the schema" in out


def test_json_has_the_shape_of_the_issue(shadowed, capsys):
    write_migration(shadowed, "2024-01-02_1000_change.sql", CHANGE)
    assert _cli(shadowed, "--json", "migrations/2024-01-02_1000_change.sql") == 0
    data = json.loads(capsys.readouterr().out)
    (migration,) = data["migrations"]
    assert (migration["version"], migration["path"]) == ("2024-01-02_1000_change",
                                                         "migrations/2024-01-02_1000_change.sql")
    first, second = migration["statements"]
    assert first == {"line": 1, "sql": "ALTER TABLE t ALTER COLUMN id TYPE bigint", "class": "rewrite",
                     "locks": [{"relation": "public.t", "mode": "ShareLock"},
                               {"relation": "public.t", "mode": "AccessExclusiveLock"},
                               {"relation": "public.t_pkey", "mode": "AccessExclusiveLock"}],
                     "rewrites": ["public.t"], "error": None, "reason": None}
    assert (second["line"], second["class"]) == (2, "scan")
    assert migration["rollback"] == {"restores_schema": True, "leftovers": [], "error": None}


def test_an_error_is_placed_and_exits_1_and_markdown_shows_it(shadowed, capsys):
    write_migration(shadowed, "2024-01-02_1000_bad.sql", "ALTER TABLE t\n  ADD COLUMN x no_such_type;\n")
    assert _cli(shadowed, "--format", "markdown", "2024-01-02") == 1
    out, err = capsys.readouterr()
    assert ('migrations/2024-01-02_1000_bad.sql:2:16: error[migration-failed]: type "no_such_type" does not exist '
            "(SQLSTATE 42704)") in err
    assert "### `migrations/2024-01-02_1000_bad.sql`" in out
    assert '| 1 | `ALTER TABLE t ADD COLUMN x no_such_type` | not traced |  | ERROR 2:16 type "no_such_type"' in out


def test_an_incomplete_rollback_exits_1(shadowed, capsys):
    write_migration(shadowed, "2024-01-02_1000_add.sql", "ALTER TABLE t ADD COLUMN note text;\n-- ROLLBACK:\n-- SELECT 1;\n")
    assert _cli(shadowed, "2024-01-02_1000_add") == 1
    out, _ = capsys.readouterr()
    assert ("rollback: does NOT restore the schema: column public.t.note still exists after the rollback") in out


def test_an_unknown_version_is_a_usage_error(shadowed, capsys):
    assert _cli(shadowed, "1999-01-01") == 2
    assert "error[usage]: no migration matches '1999-01-01'" in capsys.readouterr().err


def test_an_unreachable_shadow_server_exits_2_without_the_password(project, capsys):
    import socket
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (project.project_root / "pyproject.toml").write_text(
        f'[tool.pgshift]\nshadow_database_url = "postgresql://me:s3cret@127.0.0.1:{port}/postgres"\n',
        encoding="utf-8")
    write_migration(project, "2024-01-01_1000_create_t.sql", "CREATE TABLE t (id int);\n")
    assert _cli(project, "2024-01-01") == 2
    err = capsys.readouterr().err
    assert f"error[database-unavailable]: cannot connect to postgresql://me@127.0.0.1:{port}/postgres" in err
    assert "s3cret" not in err


def test_check_trace_adds_the_trace_to_the_static_findings(shadowed, server_url, capsys):
    write_migration(shadowed, "2024-01-02_1000_change.sql", CHANGE)
    write_migration(shadowed, "2024-01-03_1000_bad.sql", "UPDATE t SET v = gone;\n")
    args = ["-C", str(shadowed.project_root), "--database-url", shadowed.database_url, "check"]
    assert main(args + ["migrations/2024-01-02_1000_change.sql"]) == 0  # static: warnings only
    _, static = capsys.readouterr()
    assert "trace-" not in static
    assert main(args + ["--trace", "migrations/2024-01-02_1000_change.sql", "migrations/2024-01-03_1000_bad.sql"]) == 1
    _, err = capsys.readouterr()
    assert ("migrations/2024-01-02_1000_change.sql:1:1: warning[trace-rewrite]: rewrites public.t under ACCESS "
            "EXCLUSIVE (blocks reads and writes): traffic waits for the whole copy") in err
    assert ("migrations/2024-01-02_1000_change.sql:2:1: warning[trace-scan]: reads all of public.t under ACCESS "
            "EXCLUSIVE (blocks reads and writes): traffic waits for the whole read") in err
    assert ('migrations/2024-01-03_1000_bad.sql:1:18: error[migration-failed]: column "gone" does not exist '
            "(SQLSTATE 42703)") in err

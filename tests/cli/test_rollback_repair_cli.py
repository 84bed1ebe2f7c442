"""`rollback`, `repair` and `list` as a user meets them when something is unusual: an empty ROLLBACK block,
a missing applied file, a rollback racing a migrate, a lock held by someone else."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from server.cli import main

TABLE = "CREATE TABLE accounts (id bigint PRIMARY KEY, n int);\n-- ROLLBACK:\n-- DROP TABLE accounts;\n"
CHECK = "ALTER TABLE accounts ADD CONSTRAINT n_positive CHECK (n > 0) NOT VALID;\n-- ROLLBACK:\n-- ALTER TABLE accounts DROP CONSTRAINT n_positive;\n"
VALIDATE = "ALTER TABLE accounts VALIDATE CONSTRAINT n_positive;\n\n-- ROLLBACK:\n"


@pytest.fixture
def cli(tmp_path: Path, database_url: str, capsys):
    (tmp_path / "migrations").mkdir()

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["-C", str(tmp_path), "--database-url", database_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    run.root = tmp_path
    return run


def write(cli, name: str, text: str) -> Path:
    path = cli.root / "migrations" / name
    path.write_text(text)
    return path


def states(cli) -> dict[str, str]:
    code, out, _ = cli("--json", "list")
    return {m["version"]: m["state"] for m in json.loads(out)["migrations"]}


def test_an_empty_rollback_block_means_nothing_to_undo(cli):
    write(cli, "2025-01-01_1000_accounts.sql", TABLE)
    write(cli, "2025-01-02_1000_check.sql", CHECK)
    write(cli, "2025-01-03_1000_validate.sql", VALIDATE)
    assert cli("migrate")[0] == 0
    code, out, _ = cli("list")
    validate_line = next(line for line in out.splitlines() if "2025-01-03_1000_validate" in line)
    assert "rollback: yes" in validate_line
    code, out, _ = cli("rollback", "--list")
    assert "2025-01-03_1000_validate" in out.splitlines()[0] and "can roll back" in out.splitlines()[0]
    code, _, err = cli("rollback")  # no terminal, no --yes: it shows the plan and asks (refused)
    assert code == 1 and "nothing to undo" in err and "error[confirmation-required]" in err
    assert states(cli)["2025-01-03_1000_validate"] == "applied"
    code, out, err = cli("rollback", "--yes")
    assert code == 0, err
    assert "nothing to undo" in err and "rolled back 2025-01-03_1000_validate" in out
    assert states(cli)["2025-01-03_1000_validate"] == "pending"
    # and what is older can be rolled back past it
    code, out, err = cli("rollback", "--yes", "--steps", "2")
    assert code == 0, err
    assert set(states(cli).values()) == {"pending"}


def test_a_missing_marker_or_a_todo_placeholder_still_means_no_rollback(cli):
    write(cli, "2025-01-01_1000_accounts.sql", TABLE.split("-- ROLLBACK:")[0])
    write(cli, "2025-01-02_1000_other.sql", "CREATE TABLE other (id int);\n-- ROLLBACK:\n-- -- TODO: write the rollback\n")
    assert cli("migrate")[0] == 0
    code, _, err = cli("rollback", "--yes")
    assert code == 1 and "2025-01-02_1000_other has no rollback SQL" in err
    (cli.root / "migrations" / "2025-01-02_1000_other.sql").unlink()
    assert cli("mark", "2025-01-02_1000_other", "--pending", "--yes")[0] == 0
    code, _, err = cli("rollback", "--yes")
    assert code == 1 and "2025-01-01_1000_accounts has no rollback SQL" in err


def test_repair_of_a_missing_applied_file_says_how_to_resolve_it(cli):
    path = write(cli, "2025-01-01_1000_accounts.sql", TABLE)
    assert cli("migrate")[0] == 0
    path.unlink()
    code, out, err = cli("repair", "--yes")
    assert code == 1 and "Nothing to repair" not in out
    assert "error[applied-file-missing]: 2025-01-01_1000_accounts is applied but its file is missing" in err
    assert "restore the file" in err and "pgshift mark 2025-01-01_1000_accounts --pending" in err
    assert states(cli) == {"2025-01-01_1000_accounts": "missing"}


def test_a_retry_names_the_version_once(cli, database_url):
    (cli.root / "pyproject.toml").write_text('[tool.pgshift]\nlock_timeout = "200ms"\nlock_retries = 1\n')
    write(cli, "2025-01-01_1000_accounts.sql", TABLE)
    assert cli("migrate")[0] == 0
    write(cli, "2025-01-02_1000_column.sql", "ALTER TABLE accounts ADD COLUMN email text;\n")
    with psycopg.connect(database_url) as holder:
        holder.execute("SELECT * FROM accounts")  # ACCESS SHARE held across both attempts
        code, _, err = cli("migrate")
    version = "2025-01-02_1000_column"
    assert code == 1
    assert f"pgshift: {version}: gave up waiting for a lock (lock_timeout)" in err and "retry 1" in err
    assert f"{version}: {version}:" not in err


def test_a_failure_after_a_long_run_summarises_what_stayed_applied(cli):
    names = [f"2025-01-{day:02d}_1000_step.sql" for day in range(1, 13)]
    for name in names[:-1]:
        write(cli, name, f"CREATE TABLE t{name[8:10]} (id int);\n")
    write(cli, names[-1], "DO $$ BEGIN RAISE EXCEPTION 'boom' USING DETAIL = E'first line\\nsecond line'; END $$;\n")
    code, _, err = cli("migrate")
    assert code == 1
    summary = next(line for line in err.splitlines() if line.startswith("pgshift: error[migration-failed]"))
    assert "already applied in this run: 11 migrations: 2025-01-01_1000_step, 2025-01-02_1000_step, … (7 more) …, " \
           "2025-01-10_1000_step, 2025-01-11_1000_step" in summary
    assert "2025-01-05_1000_step" not in summary
    assert "boom (SQLSTATE P0001)\n  detail: first line\n          second line\n" in err


def test_a_run_killed_mid_statement_says_at_least_how_many_statements_ran(cli, database_url):
    import os
    import signal
    import subprocess
    import sys
    import time
    write(cli, "2025-01-01_1000_accounts.sql", TABLE)
    assert cli("migrate")[0] == 0
    write(cli, "2025-01-02_1000_index.sql", "-- pgshift: no-transaction\n"
                                            "CREATE INDEX CONCURRENTLY accounts_n ON accounts (n);\n"
                                            "SELECT pg_sleep(120);\n")
    pgshift = str(Path(sys.executable).with_name("pgshift"))
    process = subprocess.Popen([pgshift, "-C", str(cli.root), "--database-url", database_url, "migrate"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            backend = None
            while backend is None and time.monotonic() < deadline and process.poll() is None:
                row = conn.execute("SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(120)%'"
                                   ).fetchone()
                backend = row[0] if row else time.sleep(0.05)
            assert backend is not None, "the migration never reached its second statement"
            os.kill(process.pid, signal.SIGKILL)
            process.wait(30)
            conn.execute("SELECT pg_terminate_backend(%s)", (backend,))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
    code, out, _ = cli("list")
    line = next(line for line in out.splitlines() if "2025-01-02_1000_index" in line)
    assert line.startswith("RUNNING") and "at least 1 statement(s) had run" in line
    code, _, err = cli("repair")  # shows the change, then refuses without a terminal
    assert "forget the running run (at least 1 statement(s) had run" in err


def test_list_shows_an_applied_migration_whose_index_is_invalid(cli, database_url):
    write(cli, "2025-01-01_1000_accounts.sql", TABLE)
    assert cli("migrate")[0] == 0
    write(cli, "2025-01-02_1000_unique_n.sql",
          "-- pgshift: no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS accounts_n ON accounts (n);\n")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO accounts VALUES (1, 7), (2, 7)")
        with pytest.raises(psycopg.errors.UniqueViolation):  # built by hand, as before pgshift: left INVALID
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY accounts_n ON accounts (n)")
    assert cli("mark", "2025-01-02_1000_unique_n", "--applied", "--yes")[0] == 0
    code, out, _ = cli("list")
    line = next(line for line in out.splitlines() if "2025-01-02_1000_unique_n" in line)
    assert "BROKEN: index accounts_n is INVALID" in line and "DROP INDEX CONCURRENTLY accounts_n;" in line
    code, out, _ = cli("--json", "list")
    [entry] = [m for m in json.loads(out)["migrations"] if m["version"] == "2025-01-02_1000_unique_n"]
    assert entry["state"] == "applied" and "accounts_n is INVALID" in entry["error"]

"""The server goes away while `migrate` runs: which migration, whether it committed, exit 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

from tests.throwaway import fresh_database, throwaway_server, wait_for_query  # noqa: F401 - fixture

PGSHIFT = str(Path(sys.executable).with_name("pgshift"))
FIRST = "2025-01-01_1000_first"
SLOW = "2025-01-02_1000_slow"


def _project(tmp_path: Path) -> Path:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / f"{FIRST}.sql").write_text(
        "CREATE TABLE first (id int);\n\n-- ROLLBACK:\n-- DROP TABLE first;\n")
    (tmp_path / "migrations" / f"{SLOW}.sql").write_text(
        "SELECT pg_sleep(30);\nCREATE TABLE slow (id int);\n\n-- ROLLBACK:\n-- DROP TABLE slow;\n")
    return tmp_path


def _pgshift(project: Path, url: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([PGSHIFT, *args, "-C", str(project), "--database-url", url], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def test_a_fast_restart_mid_run_names_the_migration_says_it_did_not_commit_and_exits_2(tmp_path, throwaway_server):
    project = _project(tmp_path)
    url = fresh_database(throwaway_server, "restart")
    run = _pgshift(project, url, "migrate")
    wait_for_query(throwaway_server, "pg_sleep(30)")
    throwaway_server.restart_fast()
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert "error[connection-lost]" in stderr and f"while {SLOW} was running" in stderr
    # the server's own message, not psycopg's secondary "the connection is closed"
    assert "terminating connection due to administrator command" in stderr
    assert "the connection is closed" not in stderr
    assert "NOT committed" in stderr and f"committed before it in this run: {FIRST}" in stderr
    assert _tables(url) == {"first"}


def test_a_killed_postmaster_mid_run_says_commit_is_unknown_and_how_to_find_out(tmp_path, throwaway_server):
    project = _project(tmp_path)
    url = fresh_database(throwaway_server, "killed")
    run = _pgshift(project, url, "migrate")
    wait_for_query(throwaway_server, "pg_sleep(30)")
    throwaway_server.kill_postmaster()
    _, stderr = run.communicate(timeout=60)
    throwaway_server.stop()
    throwaway_server.start()
    assert run.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert f"while {SLOW} was running" in stderr and "server closed the connection unexpectedly" in stderr
    assert "whether it was committed is unknown" in stderr and f"`pgshift list` shows {SLOW}" in stderr
    # the way to find out that the message names works, and a plain re-run finishes the job
    listed = subprocess.run([PGSHIFT, "list", "-C", str(project), "--database-url", url], capture_output=True,
                            text=True, timeout=60)
    assert [line.split()[:2] for line in listed.stdout.splitlines()[:2]] == [["applied", FIRST], ["pending", SLOW]]



def test_a_restart_during_a_no_transaction_migration_says_what_stays_done_and_how_to_resolve_it(
        tmp_path, throwaway_server):
    (tmp_path / "migrations").mkdir()
    version = "2025-01-01_1000_no_transaction"
    (tmp_path / "migrations" / f"{version}.sql").write_text(
        "-- pgshift: no-transaction\nCREATE TABLE IF NOT EXISTS things (id int);\nSELECT pg_sleep(30);\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS things_id ON things (id);\n\n-- ROLLBACK:\n"
        "-- DROP INDEX CONCURRENTLY IF EXISTS things_id;\n")
    url = fresh_database(throwaway_server, "no_transaction_restart")
    run = _pgshift(tmp_path, url, "migrate")
    wait_for_query(throwaway_server, "pg_sleep(30)")
    throwaway_server.restart_fast()
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 2 and "Traceback" not in stderr, stderr
    assert f"while {version} was running" in stderr and "runs without a transaction" in stderr
    assert "the tracking row says running, 1 statement(s) finished" in stderr
    assert f"`pgshift repair {version}`" in stderr
    assert _tables(url) == {"things"}

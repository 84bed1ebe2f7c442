"""Crashes at random moments: `kill -9` of pgshift, a fast restart of the server. Afterwards, and after a plain
re-run, every migration's effect exists exactly when its tracking row says applied.

The moments come from a seeded random generator (PGSHIFT_FAULT_SEED, default 10), so a failure can be
replayed; the loops are bounded so the suite stays within CI's time.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.throwaway import fresh_database, throwaway_server, wait_for_query  # noqa: F401 - fixture

PGSHIFT = str(Path(sys.executable).with_name("pgshift"))
SEED = int(os.environ.get("PGSHIFT_FAULT_SEED", "10"))
KILLS = 10
RESTARTS = 3
MIGRATIONS = 8


def _project(root: Path) -> Path:
    """MIGRATIONS transactional files; each sleeps a little so that a random moment often falls inside one."""
    (root / "migrations").mkdir(parents=True)
    for number in range(MIGRATIONS):
        (root / "migrations" / f"2025-01-{number + 1:02d}_1000_step_{number}.sql").write_text(
            f"CREATE TABLE step_{number} (id int);\nSELECT pg_sleep(0.15);\n"
            f"ALTER TABLE step_{number} ADD COLUMN note text;\n\n-- ROLLBACK:\n-- DROP TABLE step_{number};\n")
    return root


def _start(project: Path, url: str) -> subprocess.Popen:
    return subprocess.Popen([PGSHIFT, "migrate", "-C", str(project), "--database-url", url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _mismatches(url: str) -> list[str]:
    """Where the schema and the tracking rows disagree: an effect without an applied row, or the reverse."""
    with psycopg.connect(url) as conn:
        # one snapshot for every query: a killed client's last script may still commit on the server meanwhile
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        done = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'note'")}
        created = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        rows = {}
        if conn.execute("SELECT to_regclass('system.schema_migrations')").fetchone()[0]:
            rows = dict(conn.execute("SELECT version, state FROM system.schema_migrations").fetchall())
    problems = [f"step_{n} is half there (table without its column)" for n in range(MIGRATIONS)
                if f"step_{n}" in created and f"step_{n}" not in done]
    for number in range(MIGRATIONS):
        version = f"2025-01-{number + 1:02d}_1000_step_{number}"
        applied = rows.get(version) == "applied"
        if applied != (f"step_{number}" in done):
            problems.append(f"{version}: row {rows.get(version)!r} but effect {'present' if not applied else 'absent'}")
    return problems


def _rerun_until_done(project: Path, url: str) -> subprocess.CompletedProcess:
    done = subprocess.run([PGSHIFT, "migrate", "-C", str(project), "--database-url", url], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return done


def test_kill_9_of_pgshift_at_random_moments_never_leaves_rows_and_schema_apart(tmp_path, throwaway_server):
    rng = random.Random(SEED)
    project = _project(tmp_path)
    started = time.monotonic()
    whole = _start(project, fresh_database(throwaway_server, "calibrate"))
    whole.communicate(timeout=120)
    assert whole.returncode == 0
    span = time.monotonic() - started  # how long one whole run takes here, start-up included
    interrupted = 0
    for attempt in range(KILLS):
        url = fresh_database(throwaway_server, f"kill_{attempt}")
        run = _start(project, url)
        time.sleep(rng.uniform(0, span))
        run.send_signal(signal.SIGKILL)
        run.communicate(timeout=60)
        interrupted += run.returncode == -signal.SIGKILL
        context = f"seed {SEED}, attempt {attempt}"
        assert _mismatches(url) == [], context  # right after the kill: a killed client's transaction is gone
        _rerun_until_done(project, url)
        assert _mismatches(url) == [], context
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM system.schema_migrations WHERE state = 'applied'"
                                ).fetchone() == (MIGRATIONS,), context
    assert interrupted >= KILLS // 3, f"only {interrupted} kills landed before the run ended (seed {SEED})"


def test_a_fast_restart_of_the_server_at_random_moments_is_recovered_by_a_plain_rerun(tmp_path, throwaway_server):
    rng = random.Random(SEED + 1)
    project = _project(tmp_path)
    for attempt in range(RESTARTS):
        url = fresh_database(throwaway_server, f"restart_{attempt}")
        run = _start(project, url)
        wait_for_query(throwaway_server, "pg_sleep(0.15)")  # the run has reached the server
        time.sleep(rng.uniform(0, 0.15 * MIGRATIONS))
        throwaway_server.restart_fast()
        _, stderr = run.communicate(timeout=120)
        context = f"seed {SEED + 1}, attempt {attempt}: {stderr}"
        assert "Traceback" not in stderr, context
        assert run.returncode in (0, 2), context
        if run.returncode == 2:
            assert "error[connection-lost]" in stderr and " was running: " in stderr, context
        throwaway_server.wait_ready()
        assert _mismatches(url) == [], context
        _rerun_until_done(project, url)
        assert _mismatches(url) == [], context


def test_a_no_transaction_migration_killed_between_statements_is_shown_as_interrupted_never_as_applied(
        tmp_path, throwaway_server):
    """Not guaranteed atomic (README: what is not guaranteed): its finished statements stay; it must say so."""
    (tmp_path / "migrations").mkdir()
    version = "2025-01-01_1000_index_concurrently"
    (tmp_path / "migrations" / f"{version}.sql").write_text(
        "-- pgshift: no-transaction\nCREATE TABLE IF NOT EXISTS things (id int);\nSELECT pg_sleep(30);\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS things_id ON things (id);\n\n-- ROLLBACK:\n"
        "-- DROP INDEX CONCURRENTLY IF EXISTS things_id;\n")
    url = fresh_database(throwaway_server, "no_transaction")
    run = _start(tmp_path, url)
    wait_for_query(throwaway_server, "pg_sleep(30)")
    run.send_signal(signal.SIGKILL)
    run.communicate(timeout=60)
    with psycopg.connect(url, autocommit=True) as conn:  # the sleep the killed client left behind
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' "
                     "AND pid <> pg_backend_pid()")
    listed = subprocess.run([PGSHIFT, "list", "-C", str(tmp_path), "--database-url", url], capture_output=True,
                            text=True, timeout=60)
    assert not listed.stdout.startswith("applied"), listed.stdout
    again = subprocess.run([PGSHIFT, "migrate", "-C", str(tmp_path), "--database-url", url], capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 1 and "interrupted part-way" in again.stderr
    assert f"pgshift repair {version}" in again.stderr

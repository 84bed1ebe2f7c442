"""pgshift behind a real PgBouncer, in transaction and in session pooling (issue 10, item 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

PGSHIFT = str(Path(sys.executable).with_name("pgshift"))
RUNNERS = 8
FILES = 12


def pgshift(project: Path, url: str, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("PG")}
    return subprocess.Popen([PGSHIFT, "--database-url", url, *args], cwd=project, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=180)
    return process.returncode, out, err


def tracking_rows(database_url: str) -> dict[str, str]:
    with psycopg.connect(database_url) as conn:
        return dict(conn.execute("SELECT version, state FROM system.schema_migrations").fetchall())


def test_concurrent_runners_through_pgbouncer_apply_each_migration_once(tmp_path, database_url, pgbouncer):
    (tmp_path / "migrations").mkdir()
    versions = [f"2025-01-{day:02d}_1000_step_{day}" for day in range(1, FILES + 1)]
    for day, version in enumerate(versions, 1):
        (tmp_path / "migrations" / f"{version}.sql").write_text(
            f"CREATE TABLE step_{day} (id int);\nINSERT INTO runs VALUES ({day});\nSELECT pg_sleep(0.02);\n")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE runs (step int)")
    url = pgbouncer.url(database_url)
    outcomes = [finish(p) for p in [pgshift(tmp_path, url, "migrate") for _ in range(RUNNERS)]]
    for code, out, err in outcomes:
        assert code == 0, err
        assert "Traceback" not in err
    with psycopg.connect(database_url) as conn:
        assert sorted(r[0] for r in conn.execute("SELECT step FROM runs")) == list(range(1, FILES + 1))
    assert tracking_rows(database_url) == {v: "applied" for v in versions}


def test_no_transaction_migration_and_its_rollback_through_pgbouncer(tmp_path, database_url, pgbouncer):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "2025-01-01_1000_accounts.sql").write_text(
        "CREATE TABLE accounts (id int, a int, b int, c int, d int, e int, f int);\n")
    columns = "abcdef"
    forward = "".join(f"CREATE INDEX CONCURRENTLY accounts_{c} ON accounts ({c});\n" for c in columns)
    backward = "".join(f"-- DROP INDEX CONCURRENTLY accounts_{c};\n" for c in columns)
    (tmp_path / "migrations" / "2025-01-02_1000_indexes.sql").write_text(
        f"-- pgshift: no-transaction\n{forward}\n-- ROLLBACK:\n{backward}")
    url = pgbouncer.url(database_url)
    code, out, err = finish(pgshift(tmp_path, url, "migrate"))
    assert code == 0, err
    with psycopg.connect(database_url) as conn:
        def indexes() -> int:
            return conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'accounts'").fetchone()[0]
        assert indexes() == 6
        assert tracking_rows(database_url)["2025-01-02_1000_indexes"] == "applied"
        code, out, err = finish(pgshift(tmp_path, url, "rollback", "--yes"))
        assert code == 0, err
        assert indexes() == 0
    assert "2025-01-02_1000_indexes" not in tracking_rows(database_url)


def test_each_migration_starts_from_a_pristine_session_through_pgbouncer(tmp_path, database_url, pgbouncer):
    (tmp_path / "migrations").mkdir()
    for n in (1, 2):
        (tmp_path / "migrations" / f"2025-01-0{n}_1000_load_{n}.sql").write_text(
            f"CREATE TEMP TABLE staging (n int);\nINSERT INTO staging VALUES ({n});\n"
            "INSERT INTO loaded SELECT n FROM staging;\nSET search_path = nowhere;\n")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE loaded (n int)")
    code, out, err = finish(pgshift(tmp_path, pgbouncer.url(database_url), "migrate"))
    assert code == 0, err
    with psycopg.connect(database_url) as conn:
        assert sorted(r[0] for r in conn.execute("SELECT n FROM loaded")) == [1, 2]

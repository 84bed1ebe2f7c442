"""Benchmark `pgshift check` on one ~35 MB migration (issue 10, 22): wall time and peak RSS, against psql
running the same file into a scratch database (the floor: parsing and sending it, plus executing it).

    .venv/bin/python bench/bench_check_big.py [--megabytes 35] [--source DIR]

Two files: ~290,000 one-line INSERTs, and one INSERT of ~600,000 rows (one huge statement). `--source DIR`
runs the `pgshift` of another checkout (e.g. `git archive OLD | tar -x -C DIR`) for a before/after comparison.
Uses the embedded PostgreSQL 18 (or PGSHIFT_BENCH_DSN) for psql. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_migrate import drop_database, fresh_database, psql_binary, server_url  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TABLE = "CREATE TABLE events (id bigint, name text, payload text);\n"


def many_inserts(megabytes: int) -> str:
    parts, size, i = [], 0, 0
    while size < megabytes * 1_000_000:
        line = f"INSERT INTO events (id, name, payload) VALUES ({i}, 'name {i}', 'Ümlaut payload {i} lorem ipsum');\n"
        parts.append(line)
        size += len(line)
        i += 1
    return "".join(parts)


def one_statement(megabytes: int) -> str:
    rows, size, i = [], 0, 0
    while size < megabytes * 1_000_000:
        row = f"({i}, 'name {i}', 'Ümlaut payload lorem ipsum')"
        rows.append(row)
        size += len(row) + 2
        i += 1
    return "INSERT INTO events (id, name, payload) VALUES\n" + ",\n".join(rows) + ";\n"


def run(command: list[str], env: dict | None = None, cwd: Path | None = None) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB (of that process alone, from wait4) and the exit code."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, process.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=35)
    parser.add_argument("--source", type=Path, default=ROOT, help="the checkout whose pgshift to run")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(args.source)}
    admin = server_url()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "migrations").mkdir()
        files = {"many INSERTs": many_inserts(args.megabytes), "one huge INSERT": one_statement(args.megabytes)}
        print(f"pgshift from {args.source}; load average {os.getloadavg()[0]:.1f}")
        for number, (label, body) in enumerate(files.items()):
            path = root / "migrations" / f"2025-01-01_120{number}_big.sql"
            path.write_text(TABLE + body + "-- ROLLBACK:\n-- DROP TABLE events;\n", encoding="utf-8")
            size = path.stat().st_size / 1_000_000
            seconds, peak, code = run([sys.executable, "-m", "server", "-C", str(root), "check", str(path)],
                                      env=env, cwd=root)
            print(f"{label} ({size:.1f} MB): pgshift check {seconds:6.2f} s, peak RSS {peak:6.0f} MB (exit {code})")
            url = fresh_database(admin)
            try:
                seconds, peak, code = run([psql_binary(), "-q", "-X", "-1", "-v", "ON_ERROR_STOP=1", "-d", url,
                                           "-f", str(path)])
            finally:
                drop_database(admin, url)
            print(f"{'':{len(label)}} {'':{len(f' ({size:.1f} MB)')}} psql -1 -f   {seconds:6.2f} s, "
                  f"peak RSS {peak:6.0f} MB (exit {code})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

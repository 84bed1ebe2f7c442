"""Benchmark `pgshift check`: a few hundred realistic migrations vs squawk, and check_text on a 5,000-statement file.

Run: .venv/bin/python bench/bench_check.py [--squawk PATH] [--files 300]
Targets: check on the set within 3x of squawk; check_text on the 5,000-statement file under 100 ms.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.config import Settings  # noqa: E402
from engine.analysis.lint import check, check_text  # noqa: E402

TEMPLATES = [
    ("create_{t}", "CREATE TABLE {t} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    name text NOT NULL,\n"
                   "    created_at timestamptz NOT NULL DEFAULT now()\n);\nCREATE INDEX {t}_name_idx ON {t} (name);\n"
                   "COMMENT ON TABLE {t} IS 'Ein Kommentar – mit Ümlauten';\n"
                   "-- ROLLBACK:\n-- DROP TABLE {t};\n"),
    ("add_note_to_{t}", "ALTER TABLE {t} ADD COLUMN note text;\n-- ROLLBACK:\n-- ALTER TABLE {t} DROP COLUMN note;\n"),
    ("index_{t}", "-- pgshift: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS {t}_created_idx ON {t} (created_at);\n"
                  "-- ROLLBACK:\n-- DROP INDEX CONCURRENTLY IF EXISTS {t}_created_idx;\n"),
    ("fk_{t}", "ALTER TABLE {t} ADD COLUMN owner_id bigint;\nALTER TABLE {t} ADD CONSTRAINT {t}_owner_fk FOREIGN KEY "
               "(owner_id) REFERENCES users (id);\n-- ROLLBACK:\n-- ALTER TABLE {t} DROP COLUMN owner_id;\n"),
    ("backfill_{t}", "UPDATE {t} SET name = lower(name) WHERE id < 1000;\n"
                     "CREATE OR REPLACE FUNCTION {t}_touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
                     "  NEW.name := trim(NEW.name);\n  RETURN NEW;\nEND;\n$$;\n"
                     "-- ROLLBACK:\n-- DROP FUNCTION {t}_touch();\n"),
    ("status_{t}", "ALTER TABLE {t} ADD COLUMN status text NOT NULL;\nALTER TABLE {t} ALTER COLUMN name TYPE varchar(200);\n"),
]


def generate(folder: Path, count: int) -> None:
    for i in range(count):
        name, body = TEMPLATES[i % len(TEMPLATES)]
        table = f"t{i // len(TEMPLATES)}"
        day, minute = 1 + (i // 1440) % 28, i % 1440
        path = folder / f"2024-01-{day:02d}_{minute // 60:02d}{minute % 60:02d}_{name.format(t=table)}.sql"
        path.write_text(body.format(t=table), encoding="utf-8")


def big_file(statements: int) -> str:
    parts = []
    for i in range(statements):
        k = i % 5
        if k == 0:
            parts.append(f"CREATE TABLE t{i} (id bigint PRIMARY KEY, name text NOT NULL DEFAULT 'x', "
                         "created_at timestamptz DEFAULT now());")
        elif k == 1:
            parts.append(f"ALTER TABLE t{i - 1} ADD COLUMN c{i} integer;")
        elif k == 2:
            parts.append(f"CREATE INDEX i{i} ON t{i - 2} (name);")
        elif k == 3:
            parts.append(f"UPDATE t{i - 3} SET name = 'ÿ' WHERE id = {i};")
        else:
            parts.append(f"COMMENT ON TABLE t{i - 4} IS 'hello world';")
    return "\n".join(parts) + "\n-- ROLLBACK:\n-- SELECT 1;\n"


def timed(function, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        out.append(time.perf_counter() - start)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--squawk", default=shutil.which("squawk") or "/tmp/squawk/node_modules/.bin/squawk")
    parser.add_argument("--files", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "migrations"
        folder.mkdir()
        generate(folder, args.files)
        settings = Settings(project_root=root, migrations_dir=folder)
        files = sorted(folder.glob("*.sql"))
        statements = sum(f.read_text().count(";") for f in files)

        # Each CLI run is a fresh process, so compare end-to-end: `pgshift check` vs `squawk` on the same files.
        pgshift_cli = [str(ROOT / ".venv" / "bin" / "pgshift"), "-C", str(root), "check"]
        ours = timed(lambda: subprocess.run(pgshift_cli, capture_output=True), 5)
        in_process = timed(lambda: check(settings), 5)  # warm cache after the first run
        print(f"set: {len(files)} files, ~{statements} statements")
        print(f"pgshift check (CLI, process):   median {statistics.median(ours) * 1000:.0f} ms")
        print(f"engine.analysis.lint.check (in-process): first {in_process[0] * 1000:.0f} ms, "
              f"warm median {statistics.median(in_process[1:]) * 1000:.0f} ms")
        squawk = Path(args.squawk)
        if squawk.exists():
            command = [str(squawk), *map(str, files)]
            theirs = timed(lambda: subprocess.run(command, capture_output=True), 5)
            ratio = statistics.median(ours) / statistics.median(theirs)
            print(f"squawk (CLI, process):          median {statistics.median(theirs) * 1000:.0f} ms "
                  f"({subprocess.run([str(squawk), '--version'], capture_output=True, text=True).stdout.strip()})")
            print(f"ratio pgshift/squawk: {ratio:.2f}x (target <= 3x)")
        else:
            print(f"squawk not found at {squawk}: install with `cd /tmp/squawk && npm install squawk-cli`")

    text = big_file(5000)
    path = Path("migrations/2024-01-01_0000_big.sql")
    cold = timed(lambda: check_text(path, text), 1)[0]
    # A keystroke: one statement changes, the rest come from the per-statement parse cache.
    edits = [text.replace("c1 integer", f"c1 bigint{'x' * n}", 1) for n in range(1, 16)]
    warm = [timed(lambda e=e: check_text(path, e), 1)[0] for e in edits]
    print(f"check_text, 5,000 statements: cold {cold * 1000:.0f} ms, after a one-statement edit median "
          f"{statistics.median(warm) * 1000:.0f} ms, best {min(warm) * 1000:.0f} ms (target < 100 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

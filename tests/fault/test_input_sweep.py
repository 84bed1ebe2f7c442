"""Bad input of every kind, through the real CLI: check, list and migrate say what and where, never a traceback,
and a refused migrate leaves the database exactly as it was (issue 10: the input sweep of the fault suite)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import psycopg
import pytest

PGSHIFT = str(Path(sys.executable).with_name("pgshift"))
GOOD = "2025-01-01_1000_create_accounts.sql"
GOOD_SQL = "CREATE TABLE accounts (id bigint PRIMARY KEY);\n\n-- ROLLBACK:\n-- DROP TABLE accounts;\n"


@dataclass(frozen=True)
class Case:
    """One bad entry in the migrations folder, and what `check` must say about it (`where` is path:line:col)."""

    name: str
    make: Callable[[Path], None]
    where: str
    says: str


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(data)


def _huge(folder: Path) -> None:
    rows = "".join(f"INSERT INTO accounts_log VALUES ({i}, 'Zeile {i}');\n" for i in range(60_000))
    text = f"CREATE TABLE accounts_log (id int, note text);\n{rows}INSERT INTO accounts_log VALUES (1, 'x';\n"
    (folder / "2025-01-02_1000_huge.sql").write_text(text + "-- ROLLBACK:\n-- DROP TABLE accounts_log;\n")


def _link(name: str, target: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).symlink_to(folder / target)


def _folder(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).mkdir()


NUL = "2025-01-02_1000_nul.sql"
CASES = [
    Case("nul-between-statements", _write(NUL, b"CREATE TABLE a (id int);\n-- x\x00y\nCREATE TABLE b (id int);\n"
                                               b"-- ROLLBACK:\n-- DROP TABLE b;\n-- DROP TABLE a;\n"),
         f"{NUL}:2:5", "NUL byte"),
    Case("nul-in-rollback", _write(NUL, b"CREATE TABLE a (id int);\n-- ROLLBACK:\n-- DROP TABLE a;\x00\n"),
         f"{NUL}:3:17", "NUL byte"),
    Case("control-byte-in-sql", _write("2025-01-02_1000_ctl.sql", b"CREATE TABLE a (id int);\nSELECT\x01 1;\n"
                                                                   b"-- ROLLBACK:\n-- DROP TABLE a;\n"),
         "2025-01-02_1000_ctl.sql:2:7", "syntax error"),
    Case("invalid-utf8", _write("2025-01-02_1000_latin1.sql", "CREATE TABLE a (note text DEFAULT 'café');\n"
                                .encode("latin-1") + b"-- ROLLBACK:\n-- DROP TABLE a;\n"),
         "2025-01-02_1000_latin1.sql:1:39", "not valid UTF-8"),
    Case("huge-file", _huge, "2025-01-02_1000_huge.sql:60002:", "syntax error"),
    Case("space-in-name", _write("2025-01-02_1000_has space.sql", b"SELECT 1;\n-- ROLLBACK:\n"),
         "2025-01-02_1000_has space.sql:1:1", "naming convention"),
    Case("unicode-name", _write("2025-01-02_1000_caf\u00e9.sql", b"SELECT 1;\n-- ROLLBACK:\n"),
         "2025-01-02_1000_caf\u00e9.sql:1:1", "naming convention"),
    Case("uppercase-name", _write("2025-01-02_1000_Add_Users.sql", b"SELECT 1;\n-- ROLLBACK:\n"),
         "2025-01-02_1000_Add_Users.sql:1:1", "naming convention"),
    Case("impossible-date", _write("2025-02-30_1000_feb_thirtieth.sql", b"SELECT 1;\n-- ROLLBACK:\n"),
         "2025-02-30_1000_feb_thirtieth.sql:1:1", "impossible date"),
    Case("dangling-symlink", _link("2025-01-02_1000_gone.sql", "nowhere.sql"),
         "2025-01-02_1000_gone.sql:1:1", "does not exist"),
    Case("symlink-to-folder", lambda f: (_folder("elsewhere")(f), _link("2025-01-02_1000_dir.sql", "elsewhere")(f)),
         "2025-01-02_1000_dir.sql:1:1", "a folder, not a migration file"),
    Case("folder-named-like-a-migration", _folder("2025-01-02_1000_folder.sql"),
         "2025-01-02_1000_folder.sql:1:1", "a folder, not a migration file"),
]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("PG")}


def _run(root: Path, database_url: str, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([PGSHIFT, "--database-url", database_url, *args], cwd=root, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    return done


def _schema(database_url: str) -> tuple:
    """What a migration could have changed: the user tables and the tracking rows."""
    with psycopg.connect(database_url) as conn:
        tables = conn.execute("SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = "
                              "'public'::regnamespace ORDER BY 1").fetchall()
        exists = conn.execute("SELECT to_regclass('system.schema_migrations') IS NOT NULL").fetchone()[0]
        rows = conn.execute("SELECT version, state FROM system.schema_migrations ORDER BY 1").fetchall() \
            if exists else []
    return tables, rows


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_named_with_its_place_and_nothing_runs(tmp_path, database_url, case):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / GOOD).write_text(GOOD_SQL)
    case.make(folder)
    before = _schema(database_url)

    checked = _run(tmp_path, database_url, "check")
    assert checked.returncode == 1
    assert f"migrations/{case.where}" in checked.stderr and case.says in checked.stderr, checked.stderr

    listed = _run(tmp_path, database_url, "list")
    assert listed.returncode == 0, listed.stderr
    assert Path(case.where.split(":")[0]).stem in listed.stdout + listed.stderr

    migrated = _run(tmp_path, database_url, "migrate")
    assert migrated.returncode == 1, migrated.stdout + migrated.stderr
    assert f"migrations/{case.where.split(':')[0]}" in migrated.stderr, migrated.stderr
    assert "nothing was run" in migrated.stderr
    assert _schema(database_url) == before  # not even the good migration before it: nothing half-applied


def test_file_problems_that_block_migrate_are_shown_by_list(tmp_path, database_url):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "2025-01-02_1000_folder.sql").mkdir()
    listed = _run(tmp_path, database_url, "list")
    assert "migrations/2025-01-02_1000_folder.sql:1:1: error[file-unreadable]" in listed.stderr
    assert "runs nothing" in listed.stderr


def test_a_symlink_to_a_file_is_an_ordinary_migration(tmp_path, database_url):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (tmp_path / "shared.sql").write_text(GOOD_SQL)
    (folder / GOOD).symlink_to(tmp_path / "shared.sql")
    assert _run(tmp_path, database_url, "check").returncode == 0
    migrated = _run(tmp_path, database_url, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert _schema(database_url) == ([("accounts",)], [(GOOD[:-4], "applied")])
    assert _run(tmp_path, database_url, "list").stdout.startswith("applied")

"""A bad setting stops every front end before anything touches the database (issue 10, items 10 and 11)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.cli.test_password_sweep import run

PGSHIFT = str(Path(sys.executable).with_name("pgshift"))
MIGRATION = "CREATE TABLE t (id int);\n\n-- ROLLBACK:\n-- DROP TABLE t;\n"


def project(root: Path, settings: str) -> Path:
    (root / "migrations").mkdir(exist_ok=True)
    (root / "migrations" / "2025-01-01_1000_t.sql").write_text(MIGRATION)
    (root / "pyproject.toml").write_text("[tool.pgshift]\n" + settings, encoding="utf-8")
    return root


def tracking_table_exists(database_url: str) -> bool:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT to_regclass('system.schema_migrations') IS NOT NULL").fetchone()[0]


def test_a_lock_timeout_postgresql_refuses_stops_migrate_before_the_database(tmp_path, database_url):
    root = project(tmp_path, 'lock_timeout = "99999999999999999999h"\n')
    code, out, err = run("-C", str(root), "--database-url", database_url, "migrate")
    assert code == 2 and out == ""
    assert f"error[config]: {root / 'pyproject.toml'}: lock_timeout '99999999999999999999h' is outside " \
           "PostgreSQL's range" in err
    assert not tracking_table_exists(database_url)


def test_allow_rollback_as_a_string_stops_the_mcp_server_with_the_reason(tmp_path, database_url):
    root = project(tmp_path, 'allow_rollback = "false"\n')
    done = subprocess.run([PGSHIFT, "--database-url", database_url, "mcp"], cwd=root, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert f"{root / 'pyproject.toml'}: allow_rollback must be true or false (without quotes), not a string " \
           "'false'" in done.stderr


def test_a_mistyped_migrations_dir_is_a_configuration_error(tmp_path, database_url):
    root = project(tmp_path, 'migrations_dir = "migraitons"\n')
    for command in ("migrate", "list", "check"):
        code, _, err = run("-C", str(root), "--database-url", database_url, command)
        assert code == 2, (command, err)
        assert (f"error[config]: the migrations folder {root / 'migraitons'} (migrations_dir in "
                f"{root / 'pyproject.toml'}) does not exist") in err
    assert not tracking_table_exists(database_url)
    code, _, err = run("-C", str(root), "--database-url", database_url, "--migrations-dir", "nope", "migrate")
    assert code == 2 and "(--migrations-dir) does not exist" in err


def test_init_creates_the_configured_folder_and_new_the_default_one(tmp_path):
    configured = tmp_path / "configured"
    configured.mkdir()
    (configured / "pyproject.toml").write_text('[tool.pgshift]\nmigrations_dir = "db/migrations"\n')
    code, _, err = run("-C", str(configured), "init", "--no-editor-extension")
    assert code == 0, err
    assert (configured / "db" / "migrations").is_dir()
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    code, out, err = run("-C", str(fresh), "new", "first table", "--sql", "CREATE TABLE a (id int)")
    assert code == 0, err
    assert len(list((fresh / "migrations").glob("*_first_table.sql"))) == 1


def test_the_readme_fresh_machine_command_still_works_in_the_repository(database_url):
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([PGSHIFT, "--database-url", database_url, "migrate"], cwd=repo, capture_output=True,
                          text=True, env={k: v for k, v in os.environ.items() if not k.startswith("PGSHIFT_")})
    assert done.returncode == 0, done.stderr

"""engine.database.backup against real servers: a dump with the table DDL that psql can restore, password hidden."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest

from engine.database.backup import BackupError, _command, backup, bundled_pg_dump, choose_pg_dump, pg_dump_version
from engine.config import load_settings


def test_backup_writes_a_timestamped_dump_with_the_tables(project):
    with psycopg.connect(project.database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.things (id bigint PRIMARY KEY, name text); "
                     "INSERT INTO things VALUES (1, 'kept')")
        database = conn.execute("SELECT current_database()").fetchone()[0]
    result = backup(project)
    assert result.path.parent == project.backup_dir
    assert result.path.name.startswith(f"{database}_") and result.path.suffix == ".sql"
    assert len(result.path.name) == len(f"{database}_YYYYMMDD_HHMMSS.sql")
    text = result.path.read_text(encoding="utf-8")
    assert result.bytes == result.path.stat().st_size > 0
    assert "CREATE TABLE public.things" in text
    assert "kept" in text
    assert not list(project.backup_dir.glob("*.partial"))


def test_the_dump_restores_with_psql(project, server_url):
    with psycopg.connect(project.database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.things (id bigint PRIMARY KEY); INSERT INTO things VALUES (7)")
    result = backup(project, output=Path("out/dump.sql"))
    assert result.path == project.project_root / "out" / "dump.sql"
    name = "r_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        restore_url = psycopg.conninfo.make_conninfo(server_url, dbname=name)
        psql = Path(str(bundled_pg_dump())).with_name("psql")
        subprocess.run([str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", restore_url, "-f", str(result.path)],
                       check=True, capture_output=True)
        with psycopg.connect(restore_url) as conn:
            assert conn.execute("SELECT id FROM things").fetchall() == [(7,)]
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_password_goes_in_the_environment_not_the_arguments(tmp_path):
    args, env = _command(Path("/bin/pg_dump"), "postgresql://app:s3cret@db.example:5433/shop", tmp_path / "x.sql")
    assert not any("s3cret" in arg for arg in args)
    assert env["PGPASSWORD"] == "s3cret"
    assert any(arg.startswith("--dbname=") and "db.example" in arg and "shop" in arg for arg in args)


def test_pg_dump_must_be_new_enough():
    bundled = pg_dump_version(bundled_pg_dump())
    assert bundled is not None and bundled.major >= 18
    assert choose_pg_dump(bundled.major).major >= bundled.major
    with pytest.raises(BackupError, match="no pg_dump of version 99"):
        choose_pg_dump(99)


def test_unreachable_database_is_reported_without_the_password(tmp_path):
    settings = load_settings(tmp_path, database_url="postgresql://u:hunter2@127.0.0.1:1/x", environ={})
    with pytest.raises(Exception) as info:
        backup(settings)
    assert "hunter2" not in str(info.value)


def test_a_pg_dump_that_fails_part_way_leaves_no_file_and_no_password(project, tmp_path):
    role = "r_" + uuid.uuid4().hex[:8]
    with psycopg.connect(project.database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE secret_stuff (id int)")
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'hunter2'")
    try:
        # The role connects (pg_dump starts writing) but may not read the table: pg_dump stops with an error.
        url = psycopg.conninfo.make_conninfo(project.database_url, user=role, password="hunter2")
        settings = load_settings(tmp_path, database_url=url, environ={})
        output = tmp_path / "dumps" / "x.sql"
        with pytest.raises(BackupError) as info:
            backup(settings, output)
        assert "permission denied" in str(info.value) and "hunter2" not in str(info.value)
        assert list((tmp_path / "dumps").iterdir()) == []
    finally:
        with psycopg.connect(project.database_url, autocommit=True) as conn:
            conn.execute(f"DROP ROLE {role}")

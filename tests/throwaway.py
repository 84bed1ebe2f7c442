"""A PostgreSQL server of a test's own, for the faults the shared one must not suffer (kill, restart, standby).

PostgreSQL 15's binaries run as the `postgres` user (tests run as root); the data, its socket and its log
live in a temporary folder owned by that user, removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

BIN = Path("/usr/lib/postgresql/15/bin")
USER = "postgres"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", USER, "--", *command] if os.geteuid() == 0 else list(command)


class ThrowawayServer:
    """One cluster: `start()`, `kill_postmaster()`, `restart_fast()`, `standby()`, `destroy()`."""

    def __init__(self, root: Path | None = None, *, port: int | None = None) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="pgshift-throwaway-"))
        self.root.chmod(0o777)
        self.data = self.root / "data"
        self.port = port or _free_port()
        self.standbys: list[ThrowawayServer] = []

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    def url_for(self, dbname: str, user: str = USER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def init(self) -> "ThrowawayServer":
        subprocess.run(_as_postgres(str(BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", USER,
                                    "--no-sync", "-E", "UTF8"), check=True, capture_output=True)
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.root}'\n"
                       "fsync = off\nshared_buffers = 16MB\nmax_wal_senders = 4\nwal_level = replica\n")
        return self

    def start(self) -> "ThrowawayServer":
        subprocess.run(_as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
                                    "-w", "-t", "30", "start"), check=True, capture_output=True)
        return self

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def kill_postmaster(self) -> None:
        """SIGKILL the postmaster: its backends notice and exit, as after a crash of the host's server."""
        pid = self.postmaster_pid()
        os.kill(pid, signal.SIGKILL)
        for _ in range(200):
            if not _alive(pid):
                break
            time.sleep(0.05)

    def restart_fast(self) -> None:
        subprocess.run(_as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
                                    "-w", "-t", "30", "-m", "fast", "restart"), check=True, capture_output=True)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(_as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-w", "-m", "immediate", "stop"),
                           capture_output=True)

    def standby(self) -> "ThrowawayServer":
        """A hot standby streaming from this server (pg_basebackup -R), started."""
        replica = ThrowawayServer()
        subprocess.run(_as_postgres(str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER,
                                    "-D", str(replica.data), "-R", "-X", "stream", "--no-sync", "-c", "fast"),
                       check=True, capture_output=True)
        with open(replica.data / "postgresql.conf", "a") as conf:
            conf.write(f"port = {replica.port}\nunix_socket_directories = '{replica.root}'\nhot_standby = on\n")
        self.standbys.append(replica)
        return replica.start()

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def destroy(self) -> None:
        for replica in self.standbys:
            replica.destroy()
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


import pytest  # noqa: E402 - the fixture below is for the test modules that import it


@pytest.fixture(scope="module")
def throwaway_server():
    """A server this module may kill, restart or make read-only; destroyed at the end of the module."""
    server = ThrowawayServer().init().start()
    yield server
    server.destroy()


def fresh_database(server: ThrowawayServer, name: str) -> str:
    """(Re-)create database `name` on `server`; its URL."""
    server.wait_ready()
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.url_for(name)


def wait_for_query(server: ThrowawayServer, fragment: str, timeout: float = 30) -> None:
    """Until a session other than ours runs a query containing `fragment`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(server.url, autocommit=True) as conn:
            if conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                            "AND query LIKE %s", (f"%{fragment}%",)).fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError(f"no session ran {fragment!r} within {timeout}s")

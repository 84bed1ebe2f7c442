"""Failures of the environment, told apart from failures of a migration's SQL.

A server that went away or a database that only reads is not something the user fixes in a file: these
helpers recognise psycopg's errors for them and turn them into the engine's own errors, saying what is known.
"""

from __future__ import annotations

import time

import psycopg
from psycopg import pq

from engine.errors import ConnectionLostError, PgshiftError, ReadOnlyDatabaseError
from engine.redaction import redact

READ_ONLY_SQLSTATE = "25006"
# The server's own word before it closes a session: admin_shutdown, crash_shutdown, cannot_connect_now.
SHUTDOWN_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
RESTART_PATIENCE_SECONDS = 5


def is_broken(conn: psycopg.Connection) -> bool:
    """The connection can no longer be used (the server closed it, or it was lost)."""
    return conn.closed or conn.pgconn.status == pq.ConnStatus.BAD


def lost_reason(error: BaseException) -> str:
    """The most telling line about a lost connection: the server's message when it sent one, else libpq's."""
    diag = getattr(error, "diag", None)
    primary = diag.message_primary if diag is not None else None
    if primary:
        return f"{primary} (SQLSTATE {diag.sqlstate})" if diag.sqlstate else primary
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return redact(text.removeprefix("consuming input failed: ").removeprefix("sending query failed: "))


def connection_lost(error: BaseException, conn: psycopg.Connection | None = None, *,
                    display: str = "the database") -> ConnectionLostError | None:
    """A ConnectionLostError when `error` means the session is gone; None for an ordinary SQL error."""
    if not isinstance(error, psycopg.Error):
        return None
    sqlstate = getattr(getattr(error, "diag", None), "sqlstate", None)
    gone = (sqlstate in SHUTDOWN_SQLSTATES or (conn is not None and is_broken(conn))
            or (isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError)) and sqlstate is None))
    if not gone:
        return None
    reason = lost_reason(error)
    return ConnectionLostError(f"lost the connection to {display}: {reason}", reason=reason,
                               help="check that the server is running, then run the command again; "
                                    "`pgshift list` shows what is applied")


def translate(error: BaseException, display: str) -> PgshiftError | None:
    """The engine error for an environment failure that escaped an operation, or None to let it through."""
    if isinstance(error, psycopg.Error) and getattr(error.diag, "sqlstate", None) == READ_ONLY_SQLSTATE:
        return read_only_error(display, "this command needs to write")
    return connection_lost(error, display=display)


def read_only_error(display: str, why: str, *, standby: bool = False) -> ReadOnlyDatabaseError:
    kind = ("it is a hot standby (pg_is_in_recovery() is true)" if standby
            else "transactions are read-only there (transaction_read_only is on)")
    remedy = ("connect to the primary server instead" if standby else
              "connect as a role, or to a database, where default_transaction_read_only is off "
              "(`ALTER DATABASE … SET default_transaction_read_only = off`), or to the primary server")
    return ReadOnlyDatabaseError(f"database is read-only: {display}: {kind}; {why}; nothing was changed",
                                 help=f"{remedy}; `pgshift list` works on a read-only database")


def read_only_state(conn: psycopg.Connection) -> tuple[bool, bool]:
    """(hot standby, read-only transactions): either means the database accepts no writes on this connection."""
    standby, read_only = conn.execute(
        "SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on'").fetchone()
    return bool(standby), bool(read_only)


def require_writable(conn: psycopg.Connection, display: str, what: str, *, why: str = "writes to it") -> None:
    """Refuse, before anything is planned or asked, to run `what` (a write) on a database that only reads."""
    standby, read_only = read_only_state(conn)
    if standby or read_only:
        raise read_only_error(display, f"`{what}` {why}", standby=bool(standby))


def recorded_state(settings, version: str, *, patience: float = 0) -> tuple[str | None, int | None] | None:
    """After a lost connection: the migration's tracking state as the server has it now, read on a new
    connection ((None, None) when it has no row); None when the server cannot be reached within `patience`
    seconds (a server that said it is shutting down is often restarting: worth a short wait)."""
    from engine.database import db, tracking
    deadline = time.monotonic() + patience
    while True:
        try:
            conn = db.connect(db.resolve_target(settings), timeout=2)
            break
        except PgshiftError:
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.25)
    try:
        rows = {r.version: r for r in tracking.read_applied(conn, settings)}
    except psycopg.Error:
        return None
    finally:
        conn.close()
    row = rows.get(version)
    return (row.state, row.statements_run) if row else (None, None)


def lost_during(lost: ConnectionLostError, settings, version: str, *, no_transaction: bool,
                applied: list[str]) -> ConnectionLostError:
    """Which migration was running when the server went away, and whether it is known to be committed."""
    kept = f"; committed before it in this run: {', '.join(applied)}" if applied else ""
    told = lost.reason.endswith(tuple(f"(SQLSTATE {code})" for code in SHUTDOWN_SQLSTATES))
    state = recorded_state(settings, version, patience=RESTART_PATIENCE_SECONDS if told else 0)
    if no_transaction:
        how = ("it runs without a transaction, so the statements that finished before the server went away "
               "stay done")
        if state is not None and state[0] is not None and state[0] != "applied":
            how += f" (the tracking row says {state[0]}, {state[1] or 0} statement(s) finished)"
        known = "it was completed (its tracking row says applied)" if state and state[0] == "applied" else how
        help_text = (f"`pgshift list` shows {version} as interrupted; check what it changed, make the file safe to "
                     f"re-run (IF NOT EXISTS) or undo it by hand, then `pgshift repair {version}` and migrate again")
    elif state is None:
        known = ("whether it was committed is unknown (it runs in one transaction: committed whole, or not at all; "
                 "the server could not be asked yet)")
        help_text = (f"when the server is back, `pgshift list` shows {version} as applied (it was committed) or "
                     "pending (it was rolled back: run `pgshift migrate` again)")
    elif state[0] == "applied":
        known = "it was committed (its tracking row says applied)"
        help_text = "run `pgshift migrate` again for the rest"
    else:
        known = "it was NOT committed: its transaction was rolled back, nothing of it remains"
        help_text = "run `pgshift migrate` again when the server is stable"
    message = f"lost the connection while {version} was running: {lost.reason}; {known}{kept}"
    return ConnectionLostError(message, reason=lost.reason, version=version, help=help_text)

"""Sending SQL text to the server in one round trip and finding out exactly which statement failed.

The simple query protocol runs a whole script in one message and answers with one result per statement,
stopping at the first error; counting the successful results tells which statement failed even when
PostgreSQL gives no error position.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import errors as pg_errors
from psycopg import generators, pq

from engine.database import environment
from engine.analysis import sql as sql_parser
from engine.analysis.files import MigrationFile
from engine.analysis.findings import LineIndex, Span


_FATAL_ERROR = pq.ExecStatus.FATAL_ERROR
_TUPLES_OK = pq.ExecStatus.TUPLES_OK
_COPY_STATES = frozenset({pq.ExecStatus.COPY_IN, pq.ExecStatus.COPY_OUT, pq.ExecStatus.COPY_BOTH})


@dataclass(frozen=True)
class ScriptOutcome:
    """`failed_index` counts statements from 0 in the script sent; `error` is psycopg's exception."""

    completed: int
    error: psycopg.Error | None = None
    last_value: str | None = None  # first column of the first row of the last statement that returned rows
    # Per completed statement, in order: the server's command tag ("INSERT 0 1", "COMMIT") and its first row.
    tags: tuple[str, ...] = ()
    first_rows: tuple[tuple[str | None, ...] | None, ...] = ()

    @property
    def failed_index(self) -> int | None:
        return self.completed if self.error is not None else None

    @property
    def position(self) -> int | None:
        """0-based character offset of the error in the script, when PostgreSQL reported one."""
        if self.error is None or not self.error.diag.statement_position:
            return None
        return int(self.error.diag.statement_position) - 1


def unsendable_offset(text: str) -> int | None:
    """Where `text` holds a character libpq cannot send (a NUL ends its C string: the rest never arrives)."""
    offset = text.find("\x00")
    return None if offset < 0 else offset


def run_script(conn: psycopg.Connection, script: str) -> ScriptOutcome:
    """Send `script` as one simple-protocol query; never raises for SQL errors, returns them.

    A lost connection is no SQL error: it raises ConnectionLostError with the server's own message. A script
    libpq would cut short is not sent at all: its first part would run and report success.
    """
    encoding = conn.info.encoding
    offset = unsendable_offset(script)
    if offset is not None:
        return ScriptOutcome(0, psycopg.DataError(
            f"the SQL holds a NUL character (offset {offset}); PostgreSQL cannot receive it, nothing was sent"))
    try:
        conn.pgconn.send_query(script.encode(encoding if encoding != "ascii" else "utf-8"))
        results = conn.wait(generators.execute(conn.pgconn))
    except psycopg.OperationalError as error:  # the server went away before answering: a lost connection
        raise _lost(error, conn) from None
    completed = 0
    last_value = None
    tags: list[str] = []
    rows: list[tuple[str | None, ...] | None] = []
    for result in results:
        status = result.status
        if status == _FATAL_ERROR:
            error = pg_errors.error_from_result(result, encoding=encoding)
            if environment.is_broken(conn):  # e.g. "terminating connection due to administrator command"
                raise _lost(error, conn)
            return ScriptOutcome(completed, error, tags=tuple(tags), first_rows=tuple(rows))
        if status in _COPY_STATES:
            return ScriptOutcome(completed, psycopg.NotSupportedError(
                "COPY ... FROM STDIN / TO STDOUT cannot run from a migration file"), tags=tuple(tags),
                first_rows=tuple(rows))
        row = None
        if status == _TUPLES_OK and result.ntuples and result.nfields:
            row = tuple(None if (v := result.get_value(0, column)) is None else bytes(v).decode(encoding)
                        for column in range(result.nfields))
            last_value = row[0]
        tags.append((result.command_status or b"").decode(encoding))
        rows.append(row)
        completed += 1
    return ScriptOutcome(completed, last_value=last_value, tags=tuple(tags), first_rows=tuple(rows))


def error_span(migration: MigrationFile, outcome: ScriptOutcome, sql_text: str, *, prefix_length: int = 0,
               prefix_statements: int = 0, text_offset: int = 0, rollback: bool = False) -> Span:
    """Where in the migration file PostgreSQL's error belongs.

    `sql_text` was sent after `prefix_length` characters holding `prefix_statements` statements, and starts at
    `text_offset` in the forward SQL (or, with `rollback`, in the uncommented rollback SQL). PostgreSQL's own
    position wins; without one, the failing statement (counted from the results) is the place.
    """
    to_span = migration.rollback_span if rollback else LineIndex(migration.text).span
    position = outcome.position
    if position is not None and prefix_length <= position < prefix_length + len(sql_text):
        offset = position - prefix_length + text_offset
        return to_span(offset, offset)
    index = (outcome.failed_index or 0) - prefix_statements
    statements = sql_parser.parse(sql_text).statements
    if 0 <= index < len(statements):
        return to_span(statements[index].start + text_offset, statements[index].end + text_offset)
    return Span.at(migration.marker_line or 0, 0) if rollback else Span.at(0, 0)


def describe(error: psycopg.Error) -> str:
    """PostgreSQL's primary message with its detail and hint, on one or a few lines."""
    diag = error.diag
    text = diag.message_primary or str(error).strip().splitlines()[0]
    if diag.sqlstate:
        text = f"{text} (SQLSTATE {diag.sqlstate})"
    if diag.message_detail:
        text += _labelled("detail", diag.message_detail)
    if diag.message_hint:
        text += _labelled("hint", diag.message_hint)
    return text


def _labelled(label: str, text: str) -> str:
    """`  label: first line`, with any further lines indented under the first (a DETAIL may hold many)."""
    lines = text.rstrip("\n").split("\n")
    under = "\n" + " " * (len(label) + 4)
    return f"\n  {label}: " + under.join(lines)


def _lost(error: psycopg.Error, conn: psycopg.Connection) -> Exception:
    return environment.connection_lost(error, conn) or error


def rollback_if_needed(conn: psycopg.Connection) -> None:
    if environment.is_broken(conn):  # nothing to roll back on a closed session; the server did it
        return
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        conn.execute("ROLLBACK")

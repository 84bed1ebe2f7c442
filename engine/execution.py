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


@dataclass(frozen=True)
class ScriptOutcome:
    """`failed_index` counts statements from 0 in the script sent; `error` is psycopg's exception."""

    completed: int
    error: psycopg.Error | None = None

    @property
    def failed_index(self) -> int | None:
        return self.completed if self.error is not None else None

    @property
    def position(self) -> int | None:
        """0-based character offset of the error in the script, when PostgreSQL reported one."""
        if self.error is None or not self.error.diag.statement_position:
            return None
        return int(self.error.diag.statement_position) - 1


def run_script(conn: psycopg.Connection, script: str) -> ScriptOutcome:
    """Send `script` as one simple-protocol query; never raises for SQL errors, returns them."""
    conn.pgconn.send_query(script.encode(conn.info.encoding if conn.info.encoding != "ascii" else "utf-8"))
    try:
        results = conn.wait(generators.execute(conn.pgconn))
    except psycopg.OperationalError:
        raise
    completed = 0
    for result in results:
        if result.status == pq.ExecStatus.FATAL_ERROR:
            return ScriptOutcome(completed, pg_errors.error_from_result(result, encoding=conn.info.encoding))
        if result.status in (pq.ExecStatus.COPY_IN, pq.ExecStatus.COPY_OUT, pq.ExecStatus.COPY_BOTH):
            return ScriptOutcome(completed, psycopg.NotSupportedError(
                "COPY ... FROM STDIN / TO STDOUT cannot run from a migration file"))
        completed += 1
    return ScriptOutcome(completed)


def describe(error: psycopg.Error) -> str:
    """PostgreSQL's primary message with its detail and hint, on one or a few lines."""
    diag = error.diag
    text = diag.message_primary or str(error).strip().splitlines()[0]
    if diag.sqlstate:
        text = f"{text} (SQLSTATE {diag.sqlstate})"
    if diag.message_detail:
        text += f"\n  detail: {diag.message_detail}"
    if diag.message_hint:
        text += f"\n  hint: {diag.message_hint}"
    return text


def rollback_if_needed(conn: psycopg.Connection) -> None:
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        conn.execute("ROLLBACK")

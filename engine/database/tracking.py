"""The one seam to `system.schema_migrations`: its DDL, its reads, and the SQL text of its writes.

Writes are returned as SQL text (with literals quoted here) so the runner can send a migration, its lock
and its tracking row to the server in a single round trip.
"""

from __future__ import annotations

import functools
import zlib

import psycopg
from psycopg import sql as pgsql

from engine.config import Settings
from engine.errors import ConfigError, DatabaseUnavailableError

from engine.database.records import APPLIED, FAILED, RUNNING, AppliedMigration  # noqa: F401 - re-exported

COLUMNS = (
    ("version", "text PRIMARY KEY"),
    ("checksum", "text NOT NULL"),
    ("state", "text NOT NULL DEFAULT 'applied'"),
    ("applied_at", "timestamptz NOT NULL DEFAULT now()"),
    ("execution_ms", "integer"),
    ("applied_by", "text NOT NULL DEFAULT current_user"),
    ("rollback_sql", "text"),
    ("statements_run", "integer"),
    ("error", "text"),
    # The role the migration's own SQL ended as (SET ROLE / SET SESSION AUTHORIZATION) when it differed from
    # applied_by, the connecting role the tracking row is always written as.
    ("migration_role", "text"),
)

# Run in the migration's transaction just before its tracking write: remember the role its SQL ended as, then
# write as the connecting role (LOCAL: a no-transaction migration's next statement keeps its own SET ROLE).
AS_CONNECTING_ROLE = (
    "SELECT set_config('pgshift.migration_role', current_user, true)",
    "SET LOCAL SESSION AUTHORIZATION DEFAULT",
    "SET LOCAL ROLE NONE",
)
_MIGRATION_ROLE = "NULLIF(NULLIF(current_setting('pgshift.migration_role', true), ''), current_user)"


def lock_key(settings: Settings) -> int:
    """A stable 64-bit advisory-lock key per tracking table, so two projects in one database don't collide."""
    return zlib.crc32(f"pgshift:{settings.tracking_table}".encode()) | (0x5067 << 32)


def table(settings: Settings) -> pgsql.Composed:
    return pgsql.Identifier(settings.tracking_schema, settings.tracking_name)


@functools.lru_cache(maxsize=16)
def _quoted_table(tracking_table: str) -> str:
    schema, name = tracking_table.split(".")
    return '"{}"."{}"'.format(schema.replace('"', '""'), name.replace('"', '""'))


def table_sql(settings: Settings) -> str:
    """The quoted table name as SQL text, for scripts built per migration (computed once per name)."""
    return _quoted_table(settings.tracking_table)


def literal(conn: psycopg.Connection, value: object) -> str:
    """A value as SQL text; strings go through libpq's own quoting (the runner quotes four per migration)."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return psycopg.pq.Escaping(conn.pgconn).escape_literal(value.encode(conn.info.encoding)).decode(
            conn.info.encoding)
    return pgsql.Literal(value).as_string(conn)


def table_exists(conn: psycopg.Connection, settings: Settings) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL",
                       (f'"{settings.tracking_schema}"."{settings.tracking_name}"',)).fetchone()
    return bool(row and row[0])


def ensure_table(conn: psycopg.Connection, settings: Settings) -> None:
    """Create the schema and table on first use, under the migration lock so two first runs don't race.

    Existing tables (e.g. from an older pgshift) get any missing columns added.
    """
    if table_exists(conn, settings):
        missing = _missing_columns(conn, settings)
        if not missing:
            return
        _refuse_foreign_table(settings, missing)
    column_defs = pgsql.SQL(", ").join(pgsql.SQL(f"{name} {ddl}") for name, ddl in COLUMNS)
    # CREATE SCHEMA IF NOT EXISTS checks CREATE on the database before it looks for the schema: a role given
    # only its own schema (the remedy below) must not be sent there.
    statements = [pgsql.SQL("SELECT pg_advisory_xact_lock({})").format(lock_key(settings))]
    if not _schema_exists(conn, settings):
        statements.append(pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(settings.tracking_schema)))
    statements.append(pgsql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(table(settings), column_defs))
    try:
        with conn.transaction():
            for statement in statements:
                conn.execute(statement)
            for name in _missing_columns(conn, settings):
                ddl = dict(COLUMNS)[name].replace(" PRIMARY KEY", "")
                if "NOT NULL" in ddl and "DEFAULT" not in ddl:
                    ddl = ddl.replace(" NOT NULL", "")
                conn.execute(pgsql.SQL(f"ALTER TABLE {{}} ADD COLUMN IF NOT EXISTS {name} {ddl}").format(table(settings)))
    except psycopg.errors.InsufficientPrivilege as exc:
        raise DatabaseUnavailableError(
            f"cannot create the tracking table {settings.tracking_table}: {exc.diag.message_primary}",
            help=_privilege_remedy(conn, settings)) from None


def _schema_exists(conn: psycopg.Connection, settings: Settings) -> bool:
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)",
                       (settings.tracking_schema,)).fetchone()
    return bool(row and row[0])


def _privilege_remedy(conn: psycopg.Connection, settings: Settings) -> str:
    """The exact SQL an administrator runs so that this role can keep its tracking table, or the way around."""
    role = pgsql.Identifier(conn.execute("SELECT current_user").fetchone()[0]).as_string(conn)
    schema = pgsql.Identifier(settings.tracking_schema).as_string(conn)
    if _schema_exists(conn, settings):
        grant = f"`GRANT USAGE, CREATE ON SCHEMA {schema} TO {role};`"
    else:
        grant = f"`CREATE SCHEMA {schema} AUTHORIZATION {role};`"
    return (f"as the database owner or a superuser run {grant} (or grant {role} CREATE on the database), "
            "then run pgshift again; or set tracking_table in [tool.pgshift] to a schema the role may create in")


def _refuse_foreign_table(settings: Settings, missing: list[str]) -> None:
    """A table of that name that pgshift did not create (e.g. the Node scripts' own) is never altered blindly."""
    if "version" in missing or "checksum" in missing:
        raise ConfigError(
            f"{settings.tracking_table} exists but was not created by pgshift (it has no "
            f"{' or '.join(c for c in ('version', 'checksum') if c in missing)} column); pgshift will not alter it",
            help="set tracking_table in [tool.pgshift] to a new name (e.g. system.pgshift_migrations), then adopt "
                 "the migrations already applied with `pgshift mark VERSION --applied` (docs: README, "
                 "'Adopting an existing database')")


def _missing_columns(conn: psycopg.Connection, settings: Settings) -> list[str]:
    rows = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
        (f'"{settings.tracking_schema}"."{settings.tracking_name}"',)).fetchall()
    present = {r[0] for r in rows}
    return [name for name, _ in COLUMNS if name not in present]


def read_applied(conn: psycopg.Connection, settings: Settings) -> list[AppliedMigration]:
    """Every tracking row, oldest version first; an absent table means nothing was ever applied.

    Only reads: a table from an older pgshift is read with the columns it has (`migrate` adds the rest), so
    `list`, the editor and a read-only MCP server never alter the database.
    """
    if not table_exists(conn, settings):
        return []
    names = [name for name, _ in COLUMNS]
    try:
        rows = conn.execute(_select(settings, names)).fetchall()
    except psycopg.errors.UndefinedColumn:
        missing = _missing_columns(conn, settings)
        _refuse_foreign_table(settings, missing)
        present = [name for name in names if name not in missing]
        defaults = {"state": APPLIED, "applied_by": ""}
        rows = [tuple(dict(zip(present, row)).get(name, defaults.get(name)) for name in names)
                for row in conn.execute(_select(settings, present)).fetchall()]
    return [AppliedMigration(*row) for row in rows]


def _select(settings: Settings, names: list[str]) -> pgsql.Composed:
    return pgsql.SQL("SELECT {} FROM {} ORDER BY version").format(
        pgsql.SQL(", ").join(pgsql.Identifier(name) for name in names), table(settings))


def fingerprint(conn: psycopg.Connection, settings: Settings) -> str | None:
    """A short digest of every tracking row, in one small query: equal digests mean nothing changed.

    For pollers (the language server re-reads state every few seconds): the rows travel only when this
    differs from the last one seen. "absent" when there is no table; None when the table lacks columns
    (an older pgshift's or another tool's): call `read_applied`, which deals with that.
    """
    query = pgsql.SQL(
        "SELECT count(*) || ':' || coalesce(max(applied_at)::text, '') || ':' || coalesce(md5(string_agg("
        "version || chr(31) || checksum || chr(31) || state || chr(31) || applied_at::text || chr(31) || "
        "coalesce(statements_run::text, '') || chr(31) || coalesce(error, '') || chr(31) || "
        "coalesce(md5(rollback_sql), ''), chr(30) ORDER BY version)), '') FROM {}").format(table(settings))
    try:
        row = conn.execute(query).fetchone()
    except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
        return "absent"
    except psycopg.errors.UndefinedColumn:
        return None
    return row[0] if row else None


SERVER_MEASURED_MS = "(extract(epoch FROM clock_timestamp() - now()) * 1000)::integer"


def record_applied_sql(conn: psycopg.Connection, settings: Settings, *, version: str, checksum: str,
                       rollback_sql: str | None, replace: bool = True, execution_ms: int | None = None) -> str:
    """The INSERT that marks a migration applied; its execution time is measured by the server itself
    (unless given: a migration without a transaction spans many).

    `replace` overwrites an existing row (a failed attempt, a repair); without it a row that appeared since
    the run began makes the INSERT fail, which is how the runner's cheap path re-checks the state.
    """
    upsert = ("ON CONFLICT (version) DO UPDATE SET checksum = EXCLUDED.checksum, state = 'applied', "
              "applied_at = EXCLUDED.applied_at, execution_ms = EXCLUDED.execution_ms, "
              "applied_by = EXCLUDED.applied_by, rollback_sql = EXCLUDED.rollback_sql, statements_run = NULL, "
              "error = NULL, migration_role = EXCLUDED.migration_role ") if replace else ""
    return (
        f"INSERT INTO {table_sql(settings)} "
        "(version, checksum, state, applied_at, execution_ms, applied_by, rollback_sql, statements_run, error, "
        f"migration_role) VALUES ({literal(conn, version)}, {literal(conn, checksum)}, 'applied', now(), "
        f"{SERVER_MEASURED_MS if execution_ms is None else int(execution_ms)}, current_user, "
        f"{literal(conn, rollback_sql)}, NULL, NULL, {_MIGRATION_ROLE}) {upsert}RETURNING version, execution_ms"
    )


def delete_sql(conn: psycopg.Connection, settings: Settings, version: str) -> str:
    return f"DELETE FROM {table_sql(settings)} WHERE version = {literal(conn, version)}"


LOCK_BUSY_MARK = "pgshift: migration lock busy"
STATE_CHANGED_MARK = "pgshift: state changed under the lock"
NEWER_APPLIED_MARK = "pgshift: applied after the plan: "
RUNNING_MARK = "pgshift: being run by another pgshift"


def guard_statements(conn: psycopg.Connection, settings: Settings, version: str, *, expect_applied: bool,
                     wait: bool, wait_slice_ms: int | None = None) -> list[str]:
    """Take the transaction-level migration lock, then re-check the row's state under it.

    A transaction-level lock is released at COMMIT/ROLLBACK, so it never leaks behind PgBouncer in
    transaction mode the way session advisory locks do. Plain SELECTs (no PL/pgSQL block to compile on every
    migration) that fail with a cast error carrying a marker: `LOCK_BUSY_MARK` when `wait` is false and the
    lock is taken, `STATE_CHANGED_MARK` when the row is no longer what this runner saw. With `wait_slice_ms`
    the wait for the lock gives up after that long (SQLSTATE 55P03), so the caller can say it still waits.
    """
    key = lock_key(settings)
    condition = "NOT EXISTS" if expect_applied else "EXISTS"
    check = (f"{condition} (SELECT 1 FROM {table_sql(settings)} WHERE version = {literal(conn, version)} "
             "AND state = 'applied')")
    if wait:
        sliced = [f"SELECT set_config('lock_timeout', '{int(wait_slice_ms)}ms', true)"] if wait_slice_ms else []
        return [*sliced, f"SELECT pg_advisory_xact_lock({key})",
                f"SELECT (CASE WHEN {check} THEN '{STATE_CHANGED_MARK}' ELSE '0' END)::int"]
    return [f"SELECT (CASE WHEN NOT pg_try_advisory_xact_lock({key}) THEN '{LOCK_BUSY_MARK}' "
            f"WHEN {check} THEN '{STATE_CHANGED_MARK}' ELSE '0' END)::int"]


def newer_applied_statement(conn: psycopg.Connection, settings: Settings, version: str) -> str:
    """Under the lock, before rolling `version` back: fail with `NEWER_APPLIED_MARK` and the versions when a
    newer migration is applied (or running) — a `migrate` that won the lock after the plan was made."""
    newer = (f"FROM {table_sql(settings)} WHERE version > {literal(conn, version)} "
             "AND state IN ('applied', 'running')")
    return (f"SELECT (CASE WHEN EXISTS (SELECT 1 {newer}) THEN '{NEWER_APPLIED_MARK}' || "
            f"(SELECT string_agg(version, ', ' ORDER BY version) {newer}) ELSE '0' END)::int")


def newer_applied(message: str) -> list[str]:
    """The versions a failed `newer_applied_statement` named (none when the message is another error)."""
    at = message.find(NEWER_APPLIED_MARK)
    if at < 0:
        return []
    return message[at + len(NEWER_APPLIED_MARK):].rstrip('"').split(", ")


def running_guard_statement(conn: psycopg.Connection, settings: Settings, version: str) -> str:
    """After the guard, under the lock: fails with `RUNNING_MARK` when another runner has started this
    migration without a transaction (its `running` row is committed; no lock spans its statements)."""
    return (f"SELECT (CASE WHEN EXISTS (SELECT 1 FROM {table_sql(settings)} WHERE version = {literal(conn, version)} "
            f"AND state = 'running') THEN '{RUNNING_MARK}' ELSE '0' END)::int")


def claim_statement(settings: Settings) -> str:
    """The migration lock without the state re-check, and `lock_timeout` for this transaction, in one statement.

    For a migration that had no tracking row when the run began: the plain INSERT of its row at the end of
    the same transaction is the re-check (the primary key refuses a second row), so the common case costs
    one cheap statement instead of a query of the table.
    """
    return (f"SELECT (CASE WHEN pg_try_advisory_xact_lock({lock_key(settings)}) THEN '0' "
            f"ELSE '{LOCK_BUSY_MARK}' END)::int, set_config('lock_timeout', '{settings.lock_timeout}', true)")


def is_tracking_row_conflict(error: psycopg.Error, settings: Settings) -> bool:
    """The INSERT of a tracking row met a row another runner wrote meanwhile."""
    diag = error.diag
    return (diag.sqlstate == "23505" and diag.table_name == settings.tracking_name
            and diag.schema_name == settings.tracking_schema)


def is_applied(conn: psycopg.Connection, settings: Settings, version: str) -> bool:
    row = conn.execute(f"SELECT state = 'applied' FROM {table_sql(settings)} WHERE version = %s",
                       (version,)).fetchone()
    return bool(row and row[0])


def guard_outcome(message: str) -> str | None:
    """'busy', 'changed' or None, from the error a guard statement raised."""
    if LOCK_BUSY_MARK in message:
        return "busy"
    if STATE_CHANGED_MARK in message:
        return "changed"
    if RUNNING_MARK in message:
        return "running"
    return None


def lock_holder(conn: psycopg.Connection, settings: Settings) -> str | None:
    """Who holds the migration lock, for the 'waiting for …' message."""
    key = lock_key(settings)
    row = conn.execute(
        "SELECT a.pid, a.application_name, a.usename, a.client_addr, now() - a.xact_start "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s AND l.objsubid = 1",
        ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF)).fetchone()
    if not row:
        return None
    pid, app, user, addr, age = row
    seconds = int(age.total_seconds()) if age else 0
    return f"pid {pid} ({app or 'unknown program'}, user {user}{f', from {addr}' if addr else ''}, for {seconds}s)"


def write_state_sql(conn: psycopg.Connection, settings: Settings, *, version: str, checksum: str, state: str,
                    statements_run: int | None = None, error: str | None = None,
                    rollback_sql: str | None = None) -> str:
    """The upsert of a non-transactional migration's progress row (running / failed), as SQL text."""
    values = ", ".join(literal(conn, v) for v in (version, checksum, state))
    rest = ", ".join(literal(conn, v) for v in (rollback_sql, statements_run, error))
    return (f"INSERT INTO {table_sql(settings)} (version, checksum, state, applied_at, applied_by, rollback_sql, "
            f"statements_run, error, migration_role) VALUES ({values}, now(), current_user, {rest}, "
            f"{_MIGRATION_ROLE}) ON CONFLICT (version) DO UPDATE SET checksum = EXCLUDED.checksum, "
            "state = EXCLUDED.state, statements_run = EXCLUDED.statements_run, error = EXCLUDED.error, "
            "rollback_sql = EXCLUDED.rollback_sql, migration_role = EXCLUDED.migration_role")


def write_state(conn: psycopg.Connection, settings: Settings, *, version: str, checksum: str, state: str,
                statements_run: int | None = None, error: str | None = None,
                rollback_sql: str | None = None) -> None:
    """Record a non-transactional migration's progress (running / failed) in its own small transaction."""
    conn.execute(write_state_sql(conn, settings, version=version, checksum=checksum, state=state,
                                 statements_run=statements_run, error=error, rollback_sql=rollback_sql))


def update_checksum(conn: psycopg.Connection, settings: Settings, version: str, checksum: str) -> int:
    cur = conn.execute(pgsql.SQL("UPDATE {} SET checksum = %s WHERE version = %s").format(table(settings)),
                       (checksum, version))
    return cur.rowcount


def delete_row(conn: psycopg.Connection, settings: Settings, version: str) -> int:
    return conn.execute(pgsql.SQL("DELETE FROM {} WHERE version = %s").format(table(settings)), (version,)).rowcount


def insert_applied(conn: psycopg.Connection, settings: Settings, version: str, checksum: str,
                   rollback_sql: str | None) -> None:
    """`pgshift mark --applied`: adopt an existing change without running it."""
    conn.execute(record_applied_sql(conn, settings, version=version, checksum=checksum, rollback_sql=rollback_sql)
                 .replace(SERVER_MEASURED_MS, "NULL"))

"""Trace a migration in the shadow: what PostgreSQL really locks, scans and rewrites, statement by statement.

The migration runs in one transaction that is always rolled back, in a database holding the schema after
the migrations before it. Before and after each statement, `pg_locks` (this backend's relation locks),
`pg_class.relfilenode` (a new file means the table was copied) and `pg_stat_xact_user_tables.seq_scan`
(a full read) are compared. The ROLLBACK block then runs in the same transaction, and the schema is
compared with the one before the migration, as `verify` does, without a second database.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import psycopg

from engine.database import db, execution
from engine.analysis import files as migration_files
from engine.analysis import sql as sql_parser
from engine.config import Settings
from engine.errors import MigrationFileError, UsageError
from engine.analysis.files import MigrationFile
from engine.analysis.findings import Finding, LineIndex, Severity, Span, relative_path
from engine.shadow.schema_diff import diff_schemas
from engine.shadow import locks as lock_words
from engine.shadow import cache
from engine.shadow.cache import Replay, ShadowServer, chain_keys, template_name
from engine.database.snapshot import Schema, read_schema

METADATA, SCAN, REWRITE, NOT_TRACED = "metadata", "scan", "rewrite", "not traced"

# Every user relation with its file, its full-scan counter and, for an index, its table.
_RELATIONS_SQL = """
SELECT c.oid, n.nspname || '.' || c.relname, c.relkind, c.relfilenode,
       coalesce(pg_catalog.pg_stat_get_xact_numscans(c.oid), 0), i.indrelid
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
WHERE n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema', 'pg_toast'])
  AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
  AND c.relkind IN ('r', 'p', 'm', 'i', 'I', 'S', 'v', 'f')
"""
_LOCKS_SQL = """
SELECT relation, mode FROM pg_catalog.pg_locks
WHERE pid = pg_catalog.pg_backend_pid() AND locktype = 'relation' AND granted
"""
_TABLE_KINDS = frozenset("rm")


@dataclass(frozen=True)
class Lock:
    relation: str  # schema-qualified
    mode: str  # as pg_locks names it, e.g. AccessExclusiveLock

    @property
    def blocks(self) -> str:
        return lock_words.blocks(self.mode)

    def to_dict(self) -> dict:
        return {"relation": self.relation, "mode": self.mode}


@dataclass(frozen=True)
class TraceError:
    """PostgreSQL's error placed in the file (`finding`), with the SQLSTATE for programs."""

    finding: Finding
    sqlstate: str | None = None

    def to_dict(self, root: Path | None = None) -> dict:
        data = self.finding.to_dict(root)
        return {"message": self.finding.message, "sqlstate": self.sqlstate, "path": data["path"],
                "line": data["line"], "column": data["column"]}


@dataclass(frozen=True)
class StatementTrace:
    line: int  # 1-based line of the statement's first token in the file
    sql: str
    kind: str  # metadata, scan, rewrite or not traced
    locks: tuple[Lock, ...] = ()
    rewrites: tuple[str, ...] = ()
    scans: tuple[str, ...] = ()
    error: TraceError | None = None
    reason: str | None = None  # why a statement was not traced
    span: Span | None = field(default=None, compare=False)  # where the statement is in the file

    def to_dict(self, root: Path | None = None) -> dict:
        return {"line": self.line, "sql": self.sql, "class": self.kind, "locks": [x.to_dict() for x in self.locks],
                "rewrites": list(self.rewrites), "error": self.error.to_dict(root) if self.error else None,
                "reason": self.reason}


@dataclass(frozen=True)
class RollbackTrace:
    """`restores_schema` is None when the rollback was not run (no block, or the forward SQL failed)."""

    restores_schema: bool | None
    leftovers: tuple[str, ...] = ()
    error: TraceError | None = None
    span: Span | None = field(default=None, compare=False)  # the ROLLBACK marker

    def to_dict(self, root: Path | None = None) -> dict:
        return {"restores_schema": self.restores_schema, "leftovers": list(self.leftovers),
                "error": self.error.to_dict(root) if self.error else None}


@dataclass(frozen=True)
class ShadowUse:
    """How the shadow for this migration was obtained: a cached template, or which files were replayed."""

    template: str
    reused: bool
    replayed: tuple[str, ...] = ()


@dataclass(frozen=True)
class MigrationTrace:
    version: str
    path: Path
    statements: tuple[StatementTrace, ...] = ()
    rollback: RollbackTrace = RollbackTrace(None)
    error: TraceError | None = None  # the migration could not be traced at all (a syntax error, a broken history)
    shadow: ShadowUse | None = None

    @property
    def ok(self) -> bool:
        return (self.error is None and all(s.error is None for s in self.statements)
                and self.rollback.error is None and self.rollback.restores_schema is not False)

    @property
    def findings(self) -> list[Finding]:
        """The problems, placed in the file: errors, and each thing an incomplete rollback leaves behind."""
        errors = [self.error, *(s.error for s in self.statements), self.rollback.error]
        found = [e.finding for e in errors if e is not None]
        found += [Finding("rollback-incomplete", Severity.ERROR, f"the rollback does not restore the schema: {left}",
                          self.path, self.rollback.span or Span.at(0, 0),
                          help="make the ROLLBACK block undo everything the forward SQL does")
                  for left in self.rollback.leftovers]
        return found

    def to_dict(self, root: Path | None = None) -> dict:
        return {"version": self.version, "path": relative_path(self.path, root),
                "statements": [s.to_dict(root) for s in self.statements], "rollback": self.rollback.to_dict(root),
                "error": self.error.to_dict(root) if self.error else None}


@dataclass(frozen=True)
class TraceResult:
    migrations: tuple[MigrationTrace, ...]
    shadow_server: str
    selection: str  # given, pending or last

    @property
    def ok(self) -> bool:
        return all(m.ok for m in self.migrations)

    def to_dict(self, root: Path | None = None) -> dict:
        return {"migrations": [m.to_dict(root) for m in self.migrations]}


# --------------------------------------------------------------------------------------------- one migration

@dataclass
class _Relation:
    name: str
    kind: str
    filenode: int
    scans: int
    table: int | None


def _relations(conn: psycopg.Connection) -> dict[int, _Relation]:
    return {oid: _Relation(name, kind, filenode, scans, table)
            for oid, name, kind, filenode, scans, table in conn.execute(_RELATIONS_SQL).fetchall()}


def _held_locks(conn: psycopg.Connection) -> set[tuple[int, str]]:
    return {(oid, mode) for oid, mode in conn.execute(_LOCKS_SQL).fetchall() if oid is not None}


# The schema of a history prefix never changes (its name is its content), so it is read once per process.
_SCHEMAS: dict[str, Schema] = {}
_SCHEMAS_KEPT = 32


def trace_migration(conn: psycopg.Connection, migration: MigrationFile, *,
                    prefix_key: str | None = None) -> MigrationTrace:
    """Trace one migration on `conn` (a shadow at the schema before it, idle); everything is rolled back.

    `prefix_key` (the chain key of the history before the migration) lets the schema read before it be reused.
    """
    parsed = sql_parser.parse(migration.forward_sql)
    index = LineIndex(migration.text)
    if parsed.error is not None:
        span = index.span(parsed.error.offset, parsed.error.offset)
        return MigrationTrace(migration.version, migration.path, error=TraceError(Finding(
            "syntax-error", Severity.ERROR, parsed.error.message, migration.path, span)))
    if migration.no_transaction:
        reason = ("not traced: the migration runs without a transaction (-- pgshift: no-transaction), so it "
                  "cannot be rolled back")
        return MigrationTrace(migration.version, migration.path, tuple(
            StatementTrace(index.position(s.start).line + 1, s.text, NOT_TRACED, reason=reason)
            for s in parsed.statements))
    statements: list[StatementTrace] = []
    autocommit = conn.autocommit
    # Not autocommit: psycopg opens the one transaction at the first query and read_schema reads in savepoints.
    conn.autocommit = False
    try:
        conn.execute("RESET ALL")
        # The same history on another server (shadow_database_url changed) may give another schema.
        prefix_key = f"{conn.info.host}:{conn.info.port}:{prefix_key}" if prefix_key else None
        before_schema = _SCHEMAS.get(prefix_key) if prefix_key else None
        if before_schema is None and migration.has_rollback:
            before_schema = read_schema(conn)
            if prefix_key:
                if len(_SCHEMAS) >= _SCHEMAS_KEPT:
                    _SCHEMAS.pop(next(iter(_SCHEMAS)))
                _SCHEMAS[prefix_key] = before_schema
        existing = _relations(conn)
        relations, held = existing, _held_locks(conn)
        failed = False
        for position, statement in enumerate(parsed.statements):
            line = index.position(statement.start).line + 1
            if failed:
                statements.append(StatementTrace(line, statement.text, NOT_TRACED,
                                                 reason="not traced: an earlier statement of the migration fails"))
                continue
            if statement.kind == "TransactionStmt":
                # COMMIT here would keep the migration in the shadow; the runner already wraps the file.
                statements.append(StatementTrace(line, statement.text, NOT_TRACED,
                                                 reason="not traced: transaction control inside a migration"))
                failed = True
                continue
            outcome = execution.run_script(conn, statement.text)
            if outcome.error is not None:
                span = execution.error_span(migration, outcome, statement.text, text_offset=statement.start)
                statements.append(StatementTrace(line, statement.text, NOT_TRACED, error=_error(
                    migration, outcome.error, span), reason="PostgreSQL rejected it",
                    span=index.span(statement.start, statement.end)))
                failed = True
                continue
            now, held_now = _relations(conn), _held_locks(conn)
            statements.append(replace(_classify(line, statement, existing, relations, now, held_now - held),
                                      span=index.span(statement.start, statement.end)))
            relations, held = now, held_now
        rollback = RollbackTrace(None) if failed or not migration.has_rollback else _trace_rollback(
            conn, migration, before_schema)
    finally:
        conn.rollback()
        conn.autocommit = autocommit
    return MigrationTrace(migration.version, migration.path, tuple(statements), rollback)


def _classify(line: int, statement, existing: dict[int, _Relation], before: dict[int, _Relation],
              after: dict[int, _Relation], taken: set[tuple[int, str]]) -> StatementTrace:
    """Locks on relations that existed before the migration; rewrite if a table's file changed, scan if read."""
    locks = sorted((Lock(existing[oid].name, mode) for oid, mode in taken if oid in existing),
                   key=lambda x: (x.relation, lock_words.strength(x.mode)))
    changed = {oid for oid, rel in before.items()
               if oid in existing and oid in after and after[oid].filenode != rel.filenode and rel.filenode}
    # TRUNCATE gives a table a new, empty file: nothing is copied.
    if statement.kind == "TruncateStmt":
        changed = set()
    tables = {oid for oid in changed if before[oid].kind in _TABLE_KINDS}
    rewrites = sorted(before[oid].name for oid in changed
                      if oid in tables or before[oid].table not in tables)
    scans = sorted(before[oid].name for oid, rel in before.items()
                   if oid in existing and oid in after and rel.kind in _TABLE_KINDS and after[oid].scans > rel.scans)
    kind = REWRITE if rewrites else SCAN if scans else METADATA
    return StatementTrace(line, statement.text, kind, tuple(locks), tuple(rewrites), tuple(scans))


def _trace_rollback(conn: psycopg.Connection, migration: MigrationFile, before_schema) -> RollbackTrace:
    assert migration.rollback_sql is not None
    outcome = execution.run_script(conn, migration.rollback_sql)
    if outcome.error is not None:
        span = execution.error_span(migration, outcome, migration.rollback_sql, rollback=True)
        return RollbackTrace(False, error=_error(migration, outcome.error, span, in_rollback=True))
    after = read_schema(conn)
    differences = diff_schemas(before_schema, after)
    leftovers = tuple(d.describe(added="still exists after the rollback",
                                 removed="is missing after the rollback (it existed before the migration)")
                      for d in differences)
    marker = Span.at(migration.marker_line or 0, 0, migration.marker_line or 0, len(migration_files.ROLLBACK_MARKER))
    return RollbackTrace(not leftovers, leftovers, span=marker)


def _error(migration: MigrationFile, error: psycopg.Error, span: Span, *, in_rollback: bool = False) -> TraceError:
    code = "rollback-failed" if in_rollback else "migration-failed"
    return TraceError(Finding(code, Severity.ERROR, execution.describe(error), migration.path, span),
                      error.diag.sqlstate)


# --------------------------------------------------------------------------------------------- the verb

SAVE_EACH_PREFIX_UP_TO = 5  # tracing a few migrations keeps the schema before each as a template


def trace(settings: Settings, versions: list[str] | None = None, *,
          on_progress: Callable[[MigrationTrace], None] | None = None) -> TraceResult:
    """Trace the given migrations (versions, file names, paths or unique prefixes) in the shadow.

    Without versions: the migrations not applied on the configured database (read only), or the newest
    when nothing is pending or the database cannot be reached.
    """
    from engine.shadow.verify import _connect_admin, _default_targets, _select

    files = migration_files.discover(settings.migrations_dir)
    if not files:
        raise UsageError(f"no migrations in {settings.migrations_dir}", help="create one with 'pgshift new'")
    if versions:
        targets, selection = _select(files, versions), "given"
    else:
        admin, _, _ = _connect_admin(settings)
        try:
            targets, selection = _default_targets(files, admin, settings)
        finally:
            if admin is not None:
                admin.close()
    last = max(files.index(t) for t in targets)
    broken = [f for m in files[: last + 1] for f in m.findings if f.severity is Severity.ERROR]
    if broken:
        raise MigrationFileError("migration files have format errors; nothing was traced", findings=broken,
                                 help="fix the files first ('pgshift check' lists the problems)")
    from engine.shadow.cache import ShadowError

    server = ShadowServer.open(settings)
    try:
        results = _trace_all(server, files, targets, on_progress)
        server.prune()
    except psycopg.Error as exc:
        # Not a migration's SQL (those become results) but the shadow server: creating, copying, dropping.
        raise ShadowError(f"the shadow database failed on {server.display}: {db.redact(str(exc).strip())}",
                          help="the role needs CREATEDB on the shadow server (shadow_database_url)") from exc
    finally:
        server.close()
    return TraceResult(tuple(results), server.display, selection)


def _trace_all(server: ShadowServer, files: list[MigrationFile], targets: list[MigrationFile],
               on_progress: Callable[[MigrationTrace], None] | None) -> list[MigrationTrace]:
    from engine.shadow.cache import ShadowError

    keys = chain_keys(files)
    save_each = len(targets) <= SAVE_EACH_PREFIX_UP_TO
    replay: Replay | None = None
    results: list[MigrationTrace] = []
    failure: TraceError | None = None
    try:
        for target in targets:
            k = files.index(target)
            if failure is None:
                try:
                    result, replay = _trace_at(server, files, keys, k, target, replay, save_each)
                except ShadowError as exc:
                    if replay is not None:
                        replay.discard()
                        replay = None
                    failure = _setup_error(exc)
            if failure is not None:
                result = MigrationTrace(target.version, target.path, error=failure)
            results.append(result)
            if on_progress:
                on_progress(result)
        if replay is not None:
            replay.finish()
            replay = None
    finally:
        if replay is not None:
            replay.discard()
    return results


def _trace_at(server: ShadowServer, files: list[MigrationFile], keys: list[str], k: int, target: MigrationFile,
              replay: Replay | None, save_each: bool) -> tuple[MigrationTrace, Replay | None]:
    """Trace files[k] on the schema after files[:k]: in the cached template, or in the replay going forward."""
    name = template_name(keys[k])
    if replay is None and server.exists(name):
        conn = server.connect(name, autocommit=True)
        try:
            result = trace_migration(conn, target, prefix_key=keys[k])
        finally:
            conn.close()
        server.touch(name)
        return _with_use(result, ShadowUse(name, True)), None
    replayed_before = 0
    if replay is not None and replay.k <= k:
        if save_each:
            replay.save()
        replayed_before = len(replay.replayed)
        replay.advance_to(k)
    else:
        if replay is not None:
            replay.finish()
        replay = Replay.start(server, files, keys, k, checkpoint_every=cache.CHECKPOINT_EVERY)
    if not save_each and replay.checkpoint_every and replay.k and replay.k % replay.checkpoint_every == 0:
        replay.save()  # tracing one migration after another: keep every N-th prefix, as a long replay does
    result = trace_migration(replay.conn, target, prefix_key=keys[k])
    replayed = tuple(replay.replayed[replayed_before:])
    return _with_use(result, ShadowUse(name, not replayed, replayed)), replay


def _with_use(result: MigrationTrace, use: ShadowUse) -> MigrationTrace:
    return replace(result, shadow=use)


def _setup_error(exc) -> TraceError:
    """An earlier migration fails in the shadow: the later ones cannot be traced; say where it fails."""
    if exc.findings:
        finding = exc.findings[0]
        name = finding.path.name if finding.path else "an earlier migration"
        return TraceError(Finding("shadow-failed", Severity.ERROR,
                                  f"not traced: the earlier migration {name} fails in the shadow: {finding.message}",
                                  finding.path, finding.span, help=exc.help))
    return TraceError(Finding("shadow-failed", Severity.ERROR, f"not traced: {exc.message}", None, help=exc.help))

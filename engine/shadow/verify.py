"""Prove migrations in a throw-away database: forward, rollback back to the same schema, forward again.

The scratch database (`pgshift_verify_<random>`) is created on the configured server when the role may
create databases (so the server's version and extensions are the ones that count), else on the embedded
PostgreSQL; it is dropped WITH (FORCE) afterwards whatever happens. The real database is only read (which
migrations are applied) and used to issue CREATE/DROP DATABASE; its data is never touched.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

import psycopg
from psycopg import conninfo, sql as pgsql

from engine.database import db, execution
from engine.analysis import files as migration_files
from engine.analysis import sql as sql_parser
from engine.config import Settings
from engine.errors import DatabaseUnavailableError, MigrationFileError, PgshiftError, UsageError
from engine.analysis.files import MigrationFile
from engine.analysis.findings import Finding, LineIndex, Severity, Span, relative_path
from engine.shadow.schema_diff import Difference, diff_schemas
from engine.database.snapshot import read_schema

SCRATCH_PREFIX = "pgshift_verify_"

OK = "ok"
FAILED = "failed"
NO_ROLLBACK = "no-rollback"  # the forward SQL was proven; there is no rollback to prove

FORWARD, ROLLBACK, REAPPLY, SETUP = "forward", "rollback", "reapply", "setup"

WHITE_SPACE_DIFFERS = "white-space-differs"  # a note on a verified migration, not a failure


@dataclass(frozen=True)
class MigrationVerification:
    """The verdict on one migration. `step` names where it failed; `findings` place the problem in the file."""

    version: str
    path: Path
    status: str
    step: str | None = None
    message: str = ""
    findings: tuple[Finding, ...] = ()
    differences: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == OK

    def to_dict(self, root: Path | None = None) -> dict:
        return {"version": self.version, "path": relative_path(self.path, root), "status": self.status, "ok": self.ok,
                "step": self.step, "message": self.message, "differences": list(self.differences),
                "findings": [f.to_dict(root) for f in self.findings]}


@dataclass(frozen=True)
class VerifyResult:
    migrations: tuple[MigrationVerification, ...]
    scratch_server: str  # where the scratch database lived, for people
    selection: str  # why these migrations: "given", "pending", "last"
    fallback_reason: str | None = None  # why the embedded PostgreSQL held it, when it did

    @property
    def ok(self) -> bool:
        return all(m.ok for m in self.migrations)

    @property
    def findings(self) -> list[Finding]:
        return [f for m in self.migrations for f in m.findings]

    def to_dict(self, root: Path | None = None) -> dict:
        return {"ok": self.ok, "scratch_server": self.scratch_server, "selection": self.selection,
                "fallback_reason": self.fallback_reason,
                "migrations": [m.to_dict(root) for m in self.migrations]}


class VerifyError(PgshiftError):
    code = "verify-failed"


OnProgress = Callable[[str, MigrationVerification | None], None]


# --------------------------------------------------------------------------------------------- the verb

def verify(settings: Settings, versions: list[str] | None = None, *,
           on_progress: OnProgress | None = None) -> VerifyResult:
    """Verify the given migrations (versions, file names or unique prefixes).

    Without versions: the migrations not yet applied on the configured database when it can be reached,
    or the newest migration when nothing is pending or the database cannot be reached.
    """
    files = migration_files.discover(settings.migrations_dir)
    if not files:
        raise UsageError(f"no migrations in {settings.migrations_dir}", help="create one with 'pgshift new'")

    admin, target, unreachable = _connect_admin(settings)
    try:
        if versions:
            targets, selection = _select(files, versions), "given"
        else:
            targets, selection = _default_targets(files, admin, settings)
        last = max(files.index(t) for t in targets)
        broken = [f for m in files[: last + 1] for f in m.findings if f.severity is Severity.ERROR]
        if broken:
            raise MigrationFileError("migration files have format errors; nothing was verified", findings=broken,
                                     help="fix the files first ('pgshift check' lists the problems)")
        fallback = _Fallback.no_database() if target is not None and target.embedded else None
        if admin is None:
            fallback = _Fallback.unreachable(unreachable or "the configured database could not be reached")
        elif not _may_create_database(admin):
            fallback = _Fallback.no_createdb(_current_user(admin), target.display if target else "the server")
            admin.close()
            admin, target = None, None
        try:
            with _server_for_scratch(settings, admin, target) as (server_conn, server_dsn, where):
                if fallback is not None:
                    fallback = replace(fallback, where=where)
                results = _verify_all(files, targets, server_conn, server_dsn, on_progress, fallback)
        except psycopg.Error as exc:
            # Not a migration's SQL (those become verdicts) but the scratch database itself: creating,
            # connecting, reading the catalog or dropping it.
            raise VerifyError(f"verification stopped: {db.redact(str(exc).strip())}",
                              help="check that the role may create and drop databases on the server") from exc
        return VerifyResult(tuple(results), where, selection, fallback.why if fallback is not None else None)
    finally:
        if admin is not None and not admin.closed:
            admin.close()


def _connect_admin(settings: Settings) -> tuple[psycopg.Connection | None, db.Target | None, str | None]:
    """The configured database, or None and why when it cannot be reached (verification can still run embedded)."""
    try:
        target = db.resolve_target(settings)
        return db.connect(target), target, None
    except DatabaseUnavailableError as exc:
        return None, None, str(exc)


@dataclass(frozen=True)
class _Fallback:
    """Why the scratch database is on an embedded PostgreSQL, and what to do when that server lacks something.

    Only an extension missing there needs it: everything else behaves the same on any server.
    """

    why: str
    remedy: str
    where: str = "embedded PostgreSQL"

    @classmethod
    def no_createdb(cls, role: str, server: str) -> "_Fallback":
        quoted = '"' + role.replace('"', '""') + '"' if role else "<role>"
        return cls(f"the role {quoted} may not create databases on {server}",
                   f"grant it CREATEDB (ALTER ROLE {quoted} CREATEDB) so that verify runs on that server, "
                   f"or verify against a server that has the extension (--database-url)")

    @classmethod
    def unreachable(cls, reason: str) -> "_Fallback":
        return cls(f"the configured database could not be reached ({reason})",
                   "make the configured server reachable (its role needs CREATEDB), or verify against a server "
                   "that has the extension (--database-url)")

    @classmethod
    def no_database(cls) -> "_Fallback":
        return cls("no database is configured",
                   "verify against a server that has the extension (--database-url or DATABASE_URL; "
                   "its role needs CREATEDB)")


def _current_user(conn: psycopg.Connection) -> str:
    row = conn.execute("SELECT current_user").fetchone()
    return str(row[0]) if row else ""


def _select(files: list[MigrationFile], wanted: list[str]) -> list[MigrationFile]:
    chosen: list[MigrationFile] = []
    for word in wanted:
        name = Path(word).name
        stem = name[:-4] if name.endswith(".sql") else name
        matches = [f for f in files if f.version == stem] or [f for f in files if f.version.startswith(stem)]
        if len(matches) != 1:
            known = ", ".join(f.version for f in files[-5:])
            raise UsageError(f"{'no' if not matches else 'more than one'} migration matches {word!r}",
                             help=f"give a version or file name, e.g. one of: {known}")
        if matches[0] not in chosen:
            chosen.append(matches[0])
    return sorted(chosen, key=lambda f: f.version)


def _default_targets(files: list[MigrationFile], admin: psycopg.Connection | None,
                     settings: Settings) -> tuple[list[MigrationFile], str]:
    if admin is not None:
        applied = _applied_versions(admin, settings)
        if applied is not None:
            pending = [f for f in files if f.version not in applied]
            if pending:
                return pending, "pending"
    return [files[-1]], "last"


def _applied_versions(conn: psycopg.Connection, settings: Settings) -> set[str] | None:
    """Versions with a tracking row, read-only (tracking.read_applied may upgrade the table); None if unreadable."""
    from engine.database import tracking

    try:
        if not tracking.table_exists(conn, settings):
            return set()
        query = pgsql.SQL("SELECT version FROM {}").format(tracking.table(settings))
        return {row[0] for row in conn.execute(query).fetchall()}
    except psycopg.Error:
        return None


def _may_create_database(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    return bool(row and row[0])


@contextlib.contextmanager
def _server_for_scratch(settings: Settings, admin: psycopg.Connection | None,
                        target: db.Target | None) -> Iterator[tuple[psycopg.Connection, str, str]]:
    """A connection to the server that will hold the scratch database: the configured one or the embedded one."""
    if admin is not None and target is not None:
        yield admin, target.dsn, target.display
        return
    folder = settings.embedded_dir or settings.project_root / ".pgshift"
    embedded = db.Target(db.start_embedded(folder), str(folder / "pgdata"), embedded=True)
    conn = db.connect(embedded)
    try:
        yield conn, embedded.dsn, f"embedded PostgreSQL in {folder / 'pgdata'}"
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------- the work

class _Scratch:
    """One scratch database and a connection to it; `close()` drops it, forcibly."""

    def __init__(self, server: psycopg.Connection, server_dsn: str) -> None:
        self.server = server
        self.name = SCRATCH_PREFIX + secrets.token_hex(6)
        server.execute(pgsql.SQL("CREATE DATABASE {} TEMPLATE template0").format(pgsql.Identifier(self.name)))
        try:
            self.conn = psycopg.connect(conninfo.make_conninfo(server_dsn, dbname=self.name), autocommit=True,
                                        connect_timeout=db.CONNECT_TIMEOUT_SECONDS,
                                        prepare_threshold=db.PREPARE_THRESHOLD,
                                        application_name=db.APPLICATION_NAME + " verify")
        except BaseException:  # a refused connection or Ctrl-C: the database just created must not stay
            self._drop()
            raise

    def close(self) -> None:
        try:
            self.conn.close()
        finally:
            self._drop()

    def _drop(self) -> None:
        self.server.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            pgsql.Identifier(self.name)))


@dataclass
class _Failure:
    step: str
    message: str
    findings: list[Finding] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)


def _verify_all(files: list[MigrationFile], targets: list[MigrationFile], server: psycopg.Connection,
                server_dsn: str, on_progress: OnProgress | None,
                fallback: _Fallback | None = None) -> list[MigrationVerification]:
    results: list[MigrationVerification] = []
    scratch: _Scratch | None = None
    applied_upto = -1  # index in `files` of the last migration applied in the scratch database
    try:
        for migration in targets:
            if on_progress:
                on_progress(migration.version, None)
            position = files.index(migration)
            if scratch is None:
                scratch, applied_upto = _Scratch(server, server_dsn), -1
            setup_failure = None
            for earlier in files[applied_upto + 1: position]:
                setup_failure = _apply(scratch.conn, earlier, FORWARD, fallback)
                if setup_failure:
                    setup_failure = _Failure(SETUP, f"cannot set up: the earlier migration {earlier.name} failed: "
                                                    f"{setup_failure.message}", setup_failure.findings)
                    break
                applied_upto = files.index(earlier)
            if setup_failure:
                result = _verdict(migration, FAILED, setup_failure)
            else:
                result = _verify_one(scratch.conn, migration, fallback)
            results.append(result)
            if on_progress:
                on_progress(migration.version, result)
            if result.status == FAILED:
                # The scratch database is in an unknown state now; the next target gets a fresh one.
                scratch.close()
                scratch = None
                if result.step == SETUP:
                    break
            else:
                applied_upto = position
        for migration in targets[len(results):]:
            results.append(MigrationVerification(migration.version, migration.path, FAILED, SETUP,
                                                 "not verified: an earlier migration fails"))
    finally:
        if scratch is not None:
            scratch.close()
    return results


def _verify_one(conn: psycopg.Connection, migration: MigrationFile,
                fallback: _Fallback | None = None) -> MigrationVerification:
    before = read_schema(conn)
    failure = _apply(conn, migration, FORWARD, fallback)
    if failure:
        return _verdict(migration, FAILED, failure)
    if migration.rollback_is_empty:
        marker = LineIndex(migration.text).line_span(migration.marker_line or 0)
        message = "rollback not verified: the ROLLBACK block is empty (nothing to undo)"
        return MigrationVerification(migration.version, migration.path, NO_ROLLBACK, ROLLBACK, message, (Finding(
            "empty-rollback", Severity.INFO, message, migration.path, marker,
            help="right for a migration that changes no definition (VALIDATE, SET); otherwise write the undo "
                 "SQL under '-- ROLLBACK:'"),))
    if not migration.has_rollback:
        return MigrationVerification(migration.version, migration.path, NO_ROLLBACK, ROLLBACK,
                                     "cannot verify rollback: no ROLLBACK block", (Finding(
                                         "missing-rollback", Severity.WARNING,
                                         "cannot verify rollback: no ROLLBACK block", migration.path,
                                         _end_of(migration),
                                         help="add '-- ROLLBACK:' and the commented SQL that undoes the migration"),))
    forward = read_schema(conn)
    failure = _apply(conn, migration, ROLLBACK)
    if failure:
        return _verdict(migration, FAILED, failure)
    differences, layout = _split_layout(diff_schemas(before, read_schema(conn)))
    if differences:
        return _verdict(migration, FAILED, _incomplete(migration, differences))
    notes = _layout_notes(migration, "after the rollback", "the original", layout)
    failure = _apply(conn, migration, REAPPLY)
    if failure:
        return _verdict(migration, FAILED, failure)
    # The rollback restored the schema, yet running the migration again can still land elsewhere: the
    # forward SQL may depend on data the rollback left behind, or on anything else outside the schema.
    differences, layout = _split_layout(diff_schemas(forward, read_schema(conn)))
    if differences:
        return _verdict(migration, FAILED, _drifted(migration, differences))
    notes += _layout_notes(migration, "after the reapply", "the first run's", layout)
    aside = f" ({len(notes)} definition(s) differ only in white space)" if notes else ""
    return MigrationVerification(migration.version, migration.path, OK, None,
                                 "forward, rollback and reapply succeeded; the rollback restores the schema "
                                 f"and the reapply gives the schema of the first run{aside}", tuple(notes))


def _verdict(migration: MigrationFile, status: str, failure: _Failure) -> MigrationVerification:
    return MigrationVerification(migration.version, migration.path, status, failure.step, failure.message,
                                 tuple(failure.findings), tuple(failure.differences))


def _end_of(migration: MigrationFile) -> Span:
    index = LineIndex(migration.text)
    return index.span(len(migration.text), len(migration.text))


def _split_layout(differences: list[Difference]) -> tuple[list[Difference], list[Difference]]:
    """The real differences, and those only in white space (a function body re-indented: the same function)."""
    return [d for d in differences if not d.white_space_only], [d for d in differences if d.white_space_only]


def _layout_notes(migration: MigrationFile, when: str, than: str, layout: list[Difference]) -> list[Finding]:
    """A note per definition that differs only in white space: worth knowing, not a failed verification."""
    return [Finding(WHITE_SPACE_DIFFERS, Severity.INFO,
                    f"{when}, {d.kind} {d.name} {d.attribute} differs from {than} only in white space "
                    f"(outside string literals)", migration.path, _marker(migration),
                    help="nothing to do: it behaves the same; copy the original text into the ROLLBACK block "
                         "to restore it exactly")
            for d in layout]


def _marker(migration: MigrationFile) -> Span:
    line = migration.marker_line or 0
    return Span.at(line, 0, line, len(migration_files.ROLLBACK_MARKER))


def _incomplete(migration: MigrationFile, differences: list[Difference]) -> _Failure:
    messages = [d.describe(added="still exists after the rollback",
                           removed="is missing after the rollback (it existed before the migration)")
                for d in differences]
    return _at_marker(migration, ROLLBACK, "rollback-incomplete", "the rollback does not restore the schema",
                      messages, "make the ROLLBACK block undo everything the forward SQL does")


def _drifted(migration: MigrationFile, differences: list[Difference]) -> _Failure:
    """The schema after forward, rollback, forward differs from the one after the first forward run."""
    messages = [d.describe(added="exists after the reapply but not after the first run",
                           removed="is missing after the reapply (the first run created it)")
                for d in differences]
    return _at_marker(migration, REAPPLY, "reapply-differs",
                      "running the migration again after its rollback gives a different schema", messages,
                      "make the forward SQL give the same schema every time, and the ROLLBACK block undo "
                      "what it depends on (data it inserts, for example)")


def _at_marker(migration: MigrationFile, step: str, code: str, what: str, messages: list[str],
               help_text: str) -> _Failure:
    """One finding per difference, placed on the ROLLBACK marker (the block that has to change, usually)."""
    findings = [Finding(code, Severity.ERROR, f"{what}: {m}", migration.path, _marker(migration), help=help_text)
                for m in messages]
    return _Failure(step, f"{what}: " + "; ".join(messages), findings, messages)


def _apply(conn: psycopg.Connection, migration: MigrationFile, step: str,
           fallback: _Fallback | None = None) -> _Failure | None:
    """Run the forward (or rollback) SQL as the runner would: one transaction, or statement by statement."""
    rollback = step == ROLLBACK
    sql_text = (migration.rollback_sql or "") if rollback else migration.forward_sql
    if migration.no_transaction:
        for statement in sql_parser.parse(sql_text).statements:
            outcome = execution.run_script(conn, statement.text)
            if outcome.error is not None:
                execution.rollback_if_needed(conn)
                span = execution.error_span(migration, outcome, statement.text, text_offset=statement.start,
                                            rollback=rollback)
                return _sql_failure(migration, step, outcome.error, span, fallback)
        return None
    conn.execute("BEGIN")
    outcome = execution.run_script(conn, sql_text)
    if outcome.error is None:
        conn.execute("COMMIT")
        return None
    execution.rollback_if_needed(conn)
    return _sql_failure(migration, step, outcome.error,
                        execution.error_span(migration, outcome, sql_text, rollback=rollback), fallback)


_UNAVAILABLE_EXTENSION_RE = re.compile(r'extension "(?P<name>[^"]+)" is not available'
                                       r'|could not open extension control file "(?:[^"]*/)?(?P<file>[^"/]+)\.control"')


def _unavailable_extension(error: psycopg.Error) -> str | None:
    """The extension CREATE EXTENSION could not find on the server (its control file is not installed)."""
    match = _UNAVAILABLE_EXTENSION_RE.search(error.diag.message_primary or str(error))
    return (match.group("name") or match.group("file")) if match else None


def _sql_failure(migration: MigrationFile, step: str, error: psycopg.Error, span: Span,
                 fallback: _Fallback | None = None) -> _Failure:
    """PostgreSQL's error, placed in the file, as the verdict of one step."""
    extension = _unavailable_extension(error) if fallback is not None else None
    if extension is not None and fallback is not None:
        # Not the migration's fault: the scratch server is not the one it will run on.
        text = (f'extension "{extension}" is not available on the server that held the scratch database, '
                f"the {fallback.where}: verify used it because {fallback.why}")
        finding = Finding("extension-unavailable", Severity.ERROR, text, migration.path, span,
                          help=fallback.remedy)
        line, col = span.start.line + 1, span.start.column + 1
        return _Failure(step, f"{migration.path.name}:{line}:{col}: {text}; {fallback.remedy}", [finding])
    what = {FORWARD: "the forward SQL", ROLLBACK: "the rollback SQL",
            REAPPLY: "the forward SQL, run again after the rollback,"}[step]
    description = execution.describe(error)
    code = {FORWARD: "migration-failed", ROLLBACK: "rollback-failed", REAPPLY: "reapply-failed"}[step]
    help_text = {FORWARD: None,
                 ROLLBACK: "fix the ROLLBACK block so that it runs after the forward SQL",
                 REAPPLY: "the rollback leaves something behind that the forward SQL cannot create again"}[step]
    finding = Finding(code, Severity.ERROR, f"{what} failed: {description}", migration.path, span, help=help_text)
    line, col = span.start.line + 1, span.start.column + 1
    return _Failure(step, f"{migration.path.name}:{line}:{col}: {what} failed: {description}", [finding])



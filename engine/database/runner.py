"""`migrate` and `rollback`: one transaction per migration, its tracking row written inside it.

Each transactional migration goes to the server as one message — BEGIN, the migration lock with
`lock_timeout`, the file's SQL, the tracking row, COMMIT — so the runner costs one round trip per file.
Success is reported only after COMMIT came back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import psycopg
from psycopg import pq

from engine.database import db, environment, execution, tracking
from engine.analysis import files as migration_files
from engine.analysis import sql as sql_parser
from engine.config import Settings
from engine.errors import (ChecksumMismatchError, ConnectionLostError, LintFailedError, LockTimeoutError, MigrationFailedError,
                           MigrationFileError, OutOfOrderError, RollbackError, UsageError)
from engine.analysis.findings import Finding, LineIndex, Severity, Span, relative_path
from engine.analysis.files import MigrationFile
from engine.database.status import MigrationStatus, State, applied_file_changed, applied_file_missing, merge

LOCK_NOT_AVAILABLE = "55P03"
# Each migration starts from a pristine session: a `SET search_path`, `SET ROLE`, TEMP table, prepared
# statement or LISTEN in one file must not reach the next one. This is DISCARD ALL spelt out, because DISCARD
# ALL refuses to run in a transaction block, and so in a multi-statement message
# (https://www.postgresql.org/docs/current/sql-discard.html). It is sent in each migration's own message,
# before BEGIN and after COMMIT: behind PgBouncer in transaction pooling that message is the only thing known
# to run on one server connection, and no state is left there for the pool's next client.
SESSION_RESET = ("RESET SESSION AUTHORIZATION;\nRESET ROLE;\nRESET ALL;\nCLOSE ALL;\nDEALLOCATE ALL;\nUNLISTEN *;\n"
                 "SELECT pg_advisory_unlock_all();\nDISCARD PLANS;\nDISCARD SEQUENCES;\nDISCARD TEMP")
SESSION_RESET_STATEMENTS = SESSION_RESET.count(";") + 1
AS_CONNECTING_ROLE = "".join(f"{s};\n" for s in tracking.AS_CONNECTING_ROLE)


# --- progress events (the CLI prints them, the LSP and MCP turn them into progress notifications) ---

@dataclass(frozen=True)
class Started:
    version: str
    path: Path
    no_transaction: bool


@dataclass(frozen=True)
class Applied:
    version: str
    path: Path
    milliseconds: int


@dataclass(frozen=True)
class Skipped:
    version: str
    reason: str


@dataclass(frozen=True)
class Waiting:
    reason: str


@dataclass(frozen=True)
class Retrying:
    version: str
    attempt: int
    reason: str


Event = Started | Applied | Skipped | Waiting | Retrying
OnEvent = Callable[[Event], None]


@dataclass(frozen=True)
class AppliedMigrationResult:
    version: str
    path: Path
    milliseconds: int


@dataclass
class MigrateResult:
    database: str
    dry_run: bool
    applied: list[AppliedMigrationResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self, root: Path | None = None) -> dict:
        return {
            "ok": True,
            "database": self.database,
            "dry_run": self.dry_run,
            "applied": [{"version": a.version, "path": relative_path(a.path, root), "milliseconds": a.milliseconds}
                        for a in self.applied],
            "skipped": self.skipped,
            "notes": self.notes,
        }


# --- planning (pure) ---

def preflight_errors(files: list[MigrationFile], pending: set[str], settings: Settings | None) -> list[Finding]:
    """Error-level format problems in any file, plus the analysis errors of pending files (applied files are
    history): what stops `migrate` before it runs anything."""
    from engine.analysis.lint import error_findings
    findings: list[Finding] = []
    for migration in files:
        if migration.version in pending:
            findings.extend(error_findings(migration, settings))
        else:
            findings.extend(f for f in migration.findings if f.severity is Severity.ERROR)
    return findings


def plan_migrate(statuses: list[MigrationStatus], files: list[MigrationFile], *, to: str | None = None,
                 allow_out_of_order: bool = False) -> list[MigrationFile]:
    """Which files to apply, in order; refuses changed or missing applied files and unapproved out-of-order."""
    changed = [s for s in statuses if s.state is State.CHANGED]
    missing = [s for s in statuses if s.state is State.MISSING]
    if changed or missing:
        findings = [applied_file_changed(s.version, s.path, s.applied_at) for s in changed]
        findings += [applied_file_missing(s.version) for s in missing]
        names = ", ".join(s.version for s in changed + missing)
        raise ChecksumMismatchError(f"refusing to migrate: applied migrations changed or missing: {names}",
                                    findings=findings, help="see each file's help above")
    running = [s for s in statuses if s.state is State.RUNNING]
    if running:
        names = ", ".join(s.version for s in running)
        raise MigrationFailedError(
            f"{names} is being run by another pgshift, or was interrupted part-way", version=running[0].version,
            help=f"if no other pgshift is running it, check what it changed, then `pgshift repair {running[0].version}`")

    by_version = {f.version: f for f in files}
    if to is not None and to not in by_version and not any(s.version == to for s in statuses):
        raise UsageError(f"--to {to}: no migration with that version", help="`pgshift list` shows the versions")
    todo = [s for s in statuses if s.state in (State.PENDING, State.FAILED) and (to is None or s.version <= to)]
    early = [s for s in todo if s.out_of_order]
    if early and not allow_out_of_order:
        findings = [Finding("out-of-order", Severity.ERROR,
                            f"{s.version} is pending but sorts before the newest applied migration", s.path,
                            help="rename it to a later timestamp (`pgshift new` picks one), or run with "
                                 "--allow-out-of-order if it is independent of the later ones") for s in early]
        raise OutOfOrderError(f"refusing to migrate: {len(early)} pending migration(s) would run out of order",
                              findings=findings, help="pass --allow-out-of-order to apply them anyway")
    return [by_version[s.version] for s in todo]


# --- migrate ---

def migrate(settings: Settings, *, dry_run: bool = False, to: str | None = None, allow_out_of_order: bool = False,
            on_event: OnEvent | None = None) -> MigrateResult:
    """Apply pending migrations in order, each in its own transaction; stop at the first failure."""
    emit = on_event or (lambda event: None)
    files = migration_files.discover(settings.migrations_dir)
    with db.session(settings) as (conn, target):
        environment.require_writable(conn, target.display, "migrate --dry-run" if dry_run else "migrate",
                                     why="runs the SQL (and rolls it back)" if dry_run else "writes to it")
        if not dry_run:
            tracking.ensure_table(conn, settings)
        applied_rows = tracking.read_applied(conn, settings)
        statuses = merge(files, applied_rows)
        pending = {s.version for s in statuses if s.state in (State.PENDING, State.FAILED)}
        findings = preflight_errors(files, pending, settings)
        format_errors = [f for f in findings
                         if f.code in ("file-name", "file-encoding", "file-unreadable", "rollback-not-commented")]
        if format_errors:
            raise MigrationFileError(f"{len(format_errors)} migration file problem(s); nothing was run",
                                     findings=format_errors, help="fix or move the files above, then run again")
        if findings:
            raise LintFailedError(f"`pgshift check` found {len(findings)} error(s) in pending migrations; nothing was run",
                                  findings=findings, help="fix them, or suppress one with "
                                                        "`-- pgshift-ignore RULE: reason` on the line before it")
        todo = plan_migrate(statuses, files, to=to, allow_out_of_order=allow_out_of_order)
        result = MigrateResult(database=target.display, dry_run=dry_run)
        if dry_run:
            _dry_run(conn, settings, todo, result, emit)
            return result
        with_rows = {s.version for s in statuses if s.state is not State.PENDING}
        run = _RunState(_LockWait(settings, emit))
        for migration in todo:
            emit(Started(migration.version, migration.path, migration.no_transaction))
            _refuse_unsendable(migration, result)
            try:
                if migration.no_transaction:
                    milliseconds = _apply_no_transaction(conn, settings, migration, result, run.lock_wait)
                else:
                    milliseconds = _apply_with_retries(conn, settings, migration, result, emit, run,
                                                       has_row=migration.version in with_rows)
            except (ConnectionLostError, psycopg.OperationalError) as error:
                lost = error if isinstance(error, ConnectionLostError) else environment.connection_lost(error, conn)
                if lost is None:
                    raise
                raise environment.lost_during(lost, settings, migration.version,
                                              no_transaction=migration.no_transaction,
                                              applied=[a.version for a in result.applied]) from None
            if milliseconds is None:
                result.skipped.append(migration.version)
                emit(Skipped(migration.version, "applied meanwhile by another pgshift"))
                continue
            result.applied.append(AppliedMigrationResult(migration.version, migration.path, milliseconds))
            emit(Applied(migration.version, migration.path, milliseconds))
        return result


def lock_timeout_sql(settings: Settings, *, local: bool = True) -> str:
    return f"SET{' LOCAL' if local else ''} lock_timeout = '{settings.lock_timeout}'"


WAIT_REMINDER_SECONDS = 5.0  # a runner waiting for the migration lock says so once, then at most this often


@dataclass
class _LockWait:
    """Waiting for another pgshift's migration lock: said once with whom, then a reminder every few seconds,
    and given up after `lock_wait_timeout` (0: never) with a clear error instead of hanging forever."""

    settings: Settings
    emit: OnEvent
    since: float | None = None
    said_at: float | None = None

    def slice_ms(self) -> int:
        """How long the next blocking wait may take before the waiter speaks again (or gives up)."""
        limit = WAIT_REMINDER_SECONDS
        bound = self.settings.lock_wait_timeout
        if bound and self.since is not None:
            limit = min(limit, bound - (time.monotonic() - self.since))
        return max(int(limit * 1000), 1)

    def busy(self, conn: psycopg.Connection, doing: str) -> None:
        now = time.monotonic()
        if self.since is None:
            self.since = now
        waited = now - self.since
        bound = self.settings.lock_wait_timeout
        holder = tracking.lock_holder(conn, self.settings) or "lock holder unknown"
        if bound and waited >= bound:
            raise LockTimeoutError(
                f"gave up after waiting {waited:.0f}s for the migration lock ({doing}): another pgshift holds it: "
                f"{holder}", help="wait for it to finish and run again, or raise lock_wait_timeout in "
                                  "[tool.pgshift] (PGSHIFT_LOCK_WAIT_TIMEOUT; \"0\" waits forever)")
        if self.said_at is not None and now - self.said_at < WAIT_REMINDER_SECONDS:
            return
        limit = f"up to {bound:g}s" if bound else "no time limit"
        lead = "another pgshift" if self.said_at is None else f"still waiting ({waited:.0f}s): another pgshift"
        self.emit(Waiting(f"{lead} is migrating this database: {holder}; waiting for it ({limit})"))
        self.said_at = now

    def acquired(self) -> None:
        self.since = None


@dataclass
class _RunState:
    """What one `migrate` run has learnt: once another runner shows up, every migration re-checks up front."""

    lock_wait: _LockWait
    careful: bool = False


def _apply_with_retries(conn: psycopg.Connection, settings: Settings, migration: MigrationFile,
                        result: MigrateResult, emit: OnEvent, run: _RunState, *, has_row: bool) -> int | None:
    attempt = 0
    while True:
        try:
            return _apply_transactional(conn, settings, migration, result, emit, run, has_row=has_row)
        except LockTimeoutError as error:
            attempt += 1
            if attempt > settings.lock_retries:
                raise
            # The event carries the version already: the reason is the error without it.
            emit(Retrying(migration.version, attempt, error.message.removeprefix(f"{migration.version}: ")))
            time.sleep(min(2 ** attempt, 30))


def _guarded_prefix(conn: psycopg.Connection, settings: Settings, version: str, *, expect_applied: bool,
                    wait: bool, wait_slice_ms: int | None = None, checks: tuple[str, ...] = ()) -> tuple[str, int]:
    """BEGIN, the guard statements (and `checks`) and SET LOCAL lock_timeout, with how many statements that is."""
    guard = tracking.guard_statements(conn, settings, version, expect_applied=expect_applied, wait=wait,
                                      wait_slice_ms=wait_slice_ms)
    statements = ["BEGIN", *guard, *checks, lock_timeout_sql(settings)]
    return "".join(f"{s};\n" for s in statements), len(statements)


def _guard_verdict(outcome: execution.ScriptOutcome, prefix_statements: int) -> str | None:
    """'busy', 'changed', 'running' or 'newer' when the guard (not the migration) stopped the script."""
    index = outcome.failed_index
    if outcome.error is None or index is None or not 1 <= index < prefix_statements:
        return None
    if outcome.error.diag.sqlstate == LOCK_NOT_AVAILABLE:
        return "busy"  # the wait for the migration lock ran out its slice: still held by another pgshift
    message = outcome.error.diag.message_primary or ""
    if tracking.newer_applied(message):
        return "newer"
    return tracking.guard_outcome(message)


def _run_under_lock(conn: psycopg.Connection, settings: Settings, version: str, body: str, lock_wait: _LockWait,
                    doing: str, *, expect_applied: bool,
                    checks: tuple[str, ...] = (), reset: bool = False) -> tuple[execution.ScriptOutcome, str, int]:
    """The guarded prefix and `body` in one round trip, waiting (and saying so) while another pgshift holds
    the lock. Returns the outcome with the prefix and its statement count, for placing an error. `reset`
    starts the round trip with SESSION_RESET (a migration's own session state must start pristine)."""
    wait = False
    while True:
        prefix, prefix_statements = _guarded_prefix(
            conn, settings, version, expect_applied=expect_applied, wait=wait,
            wait_slice_ms=lock_wait.slice_ms() if wait else None, checks=checks)
        if reset:
            prefix, prefix_statements = f"{SESSION_RESET};\n{prefix}", prefix_statements + SESSION_RESET_STATEMENTS
        outcome = execution.run_script(conn, prefix + body)
        if outcome.error is not None and _guard_verdict(outcome, prefix_statements) == "busy":
            execution.rollback_if_needed(conn)
            lock_wait.busy(conn, doing)
            wait = True
            continue
        lock_wait.acquired()
        return outcome, prefix, prefix_statements


def _apply_transactional(conn: psycopg.Connection, settings: Settings, migration: MigrationFile,
                         result: MigrateResult, emit: OnEvent, run: _RunState, *, has_row: bool) -> int | None:
    """One round trip; None when another runner applied it first.

    A migration with no tracking row when the run began takes the lock and relies on the plain INSERT of its
    row to refuse a second application; anything else (a failed earlier attempt, a runner seen waiting or
    racing) re-checks the row under the lock before its SQL runs.
    """
    wait = False
    while True:
        careful = run.careful or has_row
        if careful:
            prefix, prefix_statements = _guarded_prefix(conn, settings, migration.version, expect_applied=False,
                                                        wait=wait,
                                                        wait_slice_ms=run.lock_wait.slice_ms() if wait else None)
        else:
            prefix, prefix_statements = f"BEGIN;\n{tracking.claim_statement(settings)};\n", 2
        prefix, prefix_statements = f"{SESSION_RESET};\n{prefix}", prefix_statements + SESSION_RESET_STATEMENTS
        record = tracking.record_applied_sql(conn, settings, version=migration.version, checksum=migration.checksum,
                                             rollback_sql=migration.rollback_sql, replace=has_row)
        script = f"{prefix}{migration.forward_sql}\n;\n{AS_CONNECTING_ROLE}{record};\nCOMMIT;\n{SESSION_RESET}"
        outcome = execution.run_script(conn, script)
        if outcome.error is None:
            run.lock_wait.acquired()
            # The server's own measure, as recorded in the tracking row and shown by `list`.
            return _confirmed(conn, migration, outcome, result, tail=SESSION_RESET_STATEMENTS)
        execution.rollback_if_needed(conn)
        verdict = _guard_verdict(outcome, prefix_statements)
        if verdict == "busy":
            run.lock_wait.busy(conn, f"to apply {migration.version}")
            run.careful = wait = True
            continue
        run.lock_wait.acquired()
        if verdict == "changed":
            run.careful = True
            return None
        if not careful and tracking.is_applied(conn, settings, migration.version):
            run.careful = True  # applied by another runner after this run began; what ran here was rolled back
            return None
        if tracking.is_tracking_row_conflict(outcome.error, settings):
            raise MigrationFailedError(
                f"{migration.version}: another pgshift recorded this migration while this one was applying it; "
                "this attempt was rolled back", version=migration.version,
                help="`pgshift list` shows its state now")
        span = execution.error_span(migration, outcome, migration.forward_sql, prefix_length=len(prefix),
                                    prefix_statements=prefix_statements)
        raise _failure(migration, outcome.error, span, result)


def summarise_versions(versions: list[str], *, ends: int = 2) -> str:
    """A few versions in full; a long run as its count with the first and last ones (a real project's run
    can hold a hundred names, and the error line must stay readable)."""
    if len(versions) <= 2 * ends + 1:
        return ", ".join(versions)
    return (f"{len(versions)} migrations: {', '.join(versions[:ends])}, … "
            f"({len(versions) - 2 * ends} more) …, {', '.join(versions[-ends:])}")


def _confirmed(conn: psycopg.Connection, migration: MigrationFile, outcome: execution.ScriptOutcome,
               result: MigrateResult, *, tail: int) -> int:
    """The recorded execution time, once the server has returned this migration's tracking row and COMMIT.

    Anything less (a script cut short on its way, a transaction still open) is a failure, rolled back here:
    "applied" is never inferred from the absence of an error. `tail` statements follow the COMMIT.
    """
    index = len(outcome.tags) - tail - 2
    row = outcome.first_rows[index] if index >= 0 else None
    if (index >= 0 and outcome.tags[index].startswith("INSERT") and outcome.tags[index + 1] == "COMMIT"
            and row is not None and row[0] == migration.version
            and conn.info.transaction_status == pq.TransactionStatus.IDLE):
        return int(row[1]) if row[1] is not None else 0
    execution.rollback_if_needed(conn)
    applied_versions = [a.version for a in result.applied]
    kept = f"; already applied in this run: {', '.join(applied_versions)}" if applied_versions else ""
    raise MigrationFailedError(
        f"{migration.version}: the server never confirmed its tracking row and COMMIT (it answered "
        f"{len(outcome.tags)} statement(s)); what ran of it was rolled back, it is not applied{kept}",
        version=migration.version, applied=applied_versions,
        help="the SQL may not have reached the server whole (e.g. a NUL byte in the file); run `pgshift check`, "
             "fix the file and run `pgshift migrate` again")


def _refuse_unsendable(migration: MigrationFile, result: MigrateResult) -> None:
    """Text libpq would cut short never goes to the server (the part before a NUL would run on its own)."""
    offset = execution.unsendable_offset(migration.text)
    if offset is None:
        return
    applied_versions = [a.version for a in result.applied]
    message = "the file holds a NUL character, which PostgreSQL cannot receive; nothing of it was sent"
    raise MigrationFailedError(
        f"{migration.version}: {message}", version=migration.version, applied=applied_versions,
        findings=[Finding("migration-failed", Severity.ERROR, message, migration.path,
                          LineIndex(migration.text).span(offset, offset + 1))],
        help="remove the NUL character (a binary or UTF-16 file?) and run `pgshift migrate` again")


def _failure(migration: MigrationFile, error: psycopg.Error, span: Span, result: MigrateResult, *,
             statements_run: int | None = None) -> Exception:
    """The PostgreSQL error at file:line:col of the migration, saying what stayed applied."""
    message = execution.describe(error)
    applied_versions = [a.version for a in result.applied]
    if error.diag.sqlstate == LOCK_NOT_AVAILABLE:
        return LockTimeoutError(
            f"{migration.version}: gave up waiting for a lock (lock_timeout): {message}", findings=[Finding("lock-timeout", Severity.ERROR, message, migration.path, span)],
            help="another session holds a conflicting lock (often a long transaction); retry when it is gone, or "
                 "raise lock_timeout / set lock_retries in [tool.pgshift]")
    kept = (f"; already applied in this run: {summarise_versions(applied_versions)}" if applied_versions else "")
    help_text = "fix the SQL and run `pgshift migrate` again"
    if statements_run is not None:
        help_text = (f"statements 1-{statements_run} ran and are NOT undone (no transaction); fix the file so it can "
                     f"be re-run (e.g. IF NOT EXISTS) and run `pgshift migrate` again, or undo them by hand and "
                     f"`pgshift repair {migration.version}`") if statements_run else help_text
    return MigrationFailedError(
        f"{migration.version} failed and was rolled back{kept}" if statements_run is None else
        f"{migration.version} failed at statement {statements_run + 1}; it ran without a transaction{kept}",
        version=migration.version, applied=applied_versions, statements_run=statements_run,
        findings=[Finding("migration-failed", Severity.ERROR, message, migration.path, span)], help=help_text)


def _apply_no_transaction(conn: psycopg.Connection, settings: Settings, migration: MigrationFile,
                          result: MigrateResult, lock_wait: _LockWait) -> int | None:
    """Statement by statement in autocommit, with a `running` row first so a crash is never silent.

    The `running` row is written in the transaction that holds the migration lock and re-checks the row, so
    two runners (also through PgBouncer, where no lock outlives a transaction) never both start it.
    """
    claim = tracking.write_state_sql(conn, settings, version=migration.version, checksum=migration.checksum,
                                     state=tracking.RUNNING, statements_run=0, rollback_sql=migration.rollback_sql)
    outcome, _, prefix_statements = _run_under_lock(
        conn, settings, migration.version, f"{claim};\nCOMMIT", lock_wait, f"to apply {migration.version}",
        expect_applied=False, checks=(tracking.running_guard_statement(conn, settings, migration.version),),
        reset=True)
    if outcome.error is not None:
        execution.rollback_if_needed(conn)
        verdict = _guard_verdict(outcome, prefix_statements)
        if verdict == "changed":
            return None
        if verdict == "running":
            raise MigrationFailedError(
                f"{migration.version} is being run by another pgshift (it runs without a transaction)",
                version=migration.version, applied=[a.version for a in result.applied],
                help="wait for the other run to finish and run `pgshift migrate` again; if no other pgshift is "
                     f"running it, check what it changed, then `pgshift repair {migration.version}`")
        raise MigrationFailedError(execution.describe(outcome.error), version=migration.version)
    statements = sql_parser.parse(migration.forward_sql).statements
    started = time.monotonic()
    for number, statement in enumerate(statements):
        try:
            conn.execute(lock_timeout_sql(settings, local=False))
            outcome = execution.run_script(conn, statement.text)
        finally:
            if not environment.is_broken(conn):  # else the server's own message must not be hidden
                conn.execute("RESET lock_timeout")
        if outcome.error is not None:
            execution.rollback_if_needed(conn)
            span = execution.error_span(migration, outcome, statement.text, text_offset=statement.start)
            failure = _failure(migration, outcome.error, span, result, statements_run=number)
            _write_progress(conn, settings, migration, tracking.FAILED, number, execution.describe(outcome.error))
            execution.run_script(conn, SESSION_RESET)
            raise _with_invalid_indexes(conn, migration, failure)
        _write_progress(conn, settings, migration, tracking.RUNNING, number + 1)
    milliseconds = int((time.monotonic() - started) * 1000)
    _refuse_invalid_indexes(conn, settings, migration, result, len(statements))
    record = tracking.record_applied_sql(conn, settings, version=migration.version, checksum=migration.checksum,
                                         rollback_sql=migration.rollback_sql, execution_ms=milliseconds)
    outcome = execution.run_script(conn, f"BEGIN;\n{AS_CONNECTING_ROLE}{record};\nCOMMIT;\n{SESSION_RESET}")
    if outcome.error is not None:
        execution.rollback_if_needed(conn)
        raise MigrationFailedError(
            f"{migration.version}: every statement ran, but recording it as applied failed: "
            f"{execution.describe(outcome.error)}", version=migration.version,
            applied=[a.version for a in result.applied],
            help=f"its row still says running; check the result, then `pgshift repair {migration.version}`")
    return _confirmed(conn, migration, outcome, result, tail=SESSION_RESET_STATEMENTS)


def _write_progress(conn: psycopg.Connection, settings: Settings, migration: MigrationFile, state: str,
                    statements_run: int, error: str | None = None) -> None:
    """A no-transaction migration's progress row, written as the connecting role whatever role its SQL set."""
    write = tracking.write_state_sql(conn, settings, version=migration.version, checksum=migration.checksum,
                                     state=state, statements_run=statements_run, error=error,
                                     rollback_sql=migration.rollback_sql)
    outcome = execution.run_script(conn, f"BEGIN;\n{AS_CONNECTING_ROLE}{write};\nCOMMIT")
    if outcome.error is not None:
        execution.rollback_if_needed(conn)
        raise MigrationFailedError(
            f"{migration.version}: recording its progress ({statements_run} statement(s) run) failed: "
            f"{execution.describe(outcome.error)}", version=migration.version,
            help=f"check what it changed, then `pgshift repair {migration.version}`")


def _refuse_invalid_indexes(conn: psycopg.Connection, settings: Settings, migration: MigrationFile,
                            result: MigrateResult, statements_run: int) -> None:
    """Every statement ran, yet an index it names may be INVALID (left by an interrupted earlier attempt and
    skipped by IF NOT EXISTS, or cancelled on the server): then it is not applied, but failed, with the way out."""
    from engine.database import index_health
    invalid = index_health.invalid_indexes(conn, index_health.created_indexes(migration.forward_sql))
    if not invalid:
        return
    message, help_text = index_health.describe_invalid(invalid, migration.version)
    _write_progress(conn, settings, migration, tracking.FAILED, statements_run, message)
    execution.run_script(conn, SESSION_RESET)
    applied_versions = [a.version for a in result.applied]
    raise MigrationFailedError(
        f"{migration.version} ran all {statements_run} statement(s) without a transaction but left {message}",
        version=migration.version, applied=applied_versions, statements_run=statements_run,
        findings=[Finding("invalid-index", Severity.ERROR, message, migration.path, _index_span(migration))],
        help=help_text)


def _with_invalid_indexes(conn: psycopg.Connection, migration: MigrationFile, failure: Exception) -> Exception:
    """A failed CREATE INDEX CONCURRENTLY leaves its index INVALID, and IF NOT EXISTS would skip it on the
    re-run the help suggests: say so, and how to drop it, first."""
    from engine.database import index_health
    invalid = index_health.invalid_indexes(conn, index_health.created_indexes(migration.forward_sql))
    if invalid and isinstance(failure, MigrationFailedError):
        message, help_text = index_health.describe_invalid(invalid, migration.version)
        failure.help = f"{message}; {help_text}"
    return failure


def _index_span(migration: MigrationFile) -> Span:
    """The first CREATE INDEX of the file, where the editor and the CLI place an invalid index."""
    from engine.analysis.findings import LineIndex
    for statement in sql_parser.parse(migration.forward_sql).statements:
        if statement.kind == "IndexStmt":
            return LineIndex(migration.text).span(statement.start, statement.end)
    return Span.at(0, 0)


def _dry_run(conn: psycopg.Connection, settings: Settings, todo: list[MigrationFile], result: MigrateResult,
             emit: OnEvent) -> None:
    """Run everything pending in one transaction that is always rolled back."""
    conn.execute("BEGIN")
    try:
        for migration in todo:
            if migration.no_transaction:
                result.notes.append(f"{migration.version}: not tried — it must run outside a transaction")
                emit(Skipped(migration.version, "runs without a transaction; a dry run cannot try it"))
                continue
            emit(Started(migration.version, migration.path, False))
            prefix = f"SAVEPOINT pgshift_dry_run;\n{lock_timeout_sql(settings)};\n"
            started = time.monotonic()
            outcome = execution.run_script(conn, f"{prefix}{migration.forward_sql}\n;\nRELEASE SAVEPOINT pgshift_dry_run;\n"
                                                 f"{SESSION_RESET}")
            if outcome.error is not None:
                span = execution.error_span(migration, outcome, migration.forward_sql, prefix_length=len(prefix),
                                            prefix_statements=2)
                raise _failure(migration, outcome.error, span, result)
            milliseconds = int((time.monotonic() - started) * 1000)
            result.applied.append(AppliedMigrationResult(migration.version, migration.path, milliseconds))
            emit(Applied(migration.version, migration.path, milliseconds))
    finally:
        execution.rollback_if_needed(conn)


# --- rollback ---

@dataclass(frozen=True)
class RollbackStep:
    version: str
    path: Path | None
    sql: str
    source: str  # "file" (the current ROLLBACK block) or "recorded" (as stored when applied)
    no_transaction: bool = False  # it holds a statement PostgreSQL refuses in a transaction block

    @property
    def is_empty(self) -> bool:
        """An empty ROLLBACK block: the migration changed nothing to undo (VALIDATE, SET)."""
        return not self.sql


@dataclass(frozen=True)
class RollbackPlan:
    database: str
    steps: tuple[RollbackStep, ...]

    def fingerprint(self) -> str:
        import hashlib
        digest = hashlib.sha256(self.database.encode())
        for step in self.steps:
            digest.update(b"\0" + step.version.encode() + b"\0" + step.sql.encode())
        return digest.hexdigest()

    def describe(self) -> str:
        """Exactly what will run, newest first, for the human who must confirm it (CLI, editor, assistant)."""
        lines = [f"Roll back {len(self.steps)} migration(s) on {self.database}?", ""]
        for number, step in enumerate(self.steps, 1):
            origin = "from the file's ROLLBACK block" if step.source == "file" else "as recorded when it was applied"
            how = ", statement by statement without a transaction" if step.no_transaction else ""
            if step.is_empty:
                lines.append(f"{number}. {step.version} ({origin}): nothing to undo (its ROLLBACK block is "
                             "empty); only its tracking row is removed")
            else:
                lines.append(f"{number}. {step.version} ({origin}{how}):")
                lines.extend(f"    {line}" for line in step.sql.splitlines())
            lines.append("")
        if any(step.no_transaction for step in self.steps):
            lines.append("Steps marked 'without a transaction' cannot be undone if they fail part-way; the others "
                         "run with the removal of their tracking row in one transaction.")
        else:
            lines.append("Each migration's rollback SQL and the removal of its tracking row run in one transaction.")
        return "\n".join(lines)

    def to_dict(self, root: Path | None = None) -> dict:
        return {"database": self.database,
                "steps": [{"version": s.version, "path": relative_path(s.path, root) if s.path else None, "sql": s.sql,
                           "source": s.source, "no_transaction": s.no_transaction} for s in self.steps]}


@dataclass
class RollbackResult:
    database: str
    rolled_back: list[str] = field(default_factory=list)


def plan_rollback(settings: Settings, *, steps: int = 1, to: str | None = None) -> RollbackPlan:
    """What `rollback` would run, newest first; refuses a migration with no rollback SQL."""
    if steps < 1:
        raise UsageError("--steps must be 1 or more")
    files = {f.version: f for f in migration_files.discover(settings.migrations_dir)}
    with db.session(settings) as (conn, target):
        environment.require_writable(conn, target.display, "rollback")
        all_rows = tracking.read_applied(conn, settings)
    rows = [r for r in all_rows if r.state == tracking.APPLIED]
    if not rows:
        raise RollbackError("nothing to roll back: no migration is applied", help=None)
    rows.sort(key=lambda r: r.version, reverse=True)
    if to is not None:
        if to not in {r.version for r in rows}:
            raise UsageError(f"--to {to}: that version is not applied", help="`pgshift rollback --list` shows them")
        chosen = [r for r in rows if r.version > to]
        if not chosen:
            raise RollbackError(f"nothing to roll back: {to} is the newest applied migration")
    else:
        chosen = rows[:steps]
    running = [r.version for r in all_rows if r.state == tracking.RUNNING and r.version > chosen[-1].version]
    if running:
        # The same re-check the rollback makes under the lock: nothing newer may be applied or under way.
        raise RollbackError(
            f"refusing to roll back: {', '.join(running)} is being run by another pgshift, or was interrupted "
            "part-way, and it is newer than what would be rolled back",
            help=f"if no other pgshift is running it, check what it changed, then `pgshift repair {running[0]}`")
    plan_steps = []
    for row in chosen:
        migration = files.get(row.version)
        if migration is not None and migration.has_rollback and "\x00" in migration.rollback_sql:
            raise RollbackError(f"{row.version}: its ROLLBACK block holds a NUL byte, which PostgreSQL cannot "
                                "receive; nothing was rolled back",
                                findings=[f for f in migration.findings if f.code == "file-encoding"],
                                help="delete the NUL byte(s) from the file (`pgshift check` shows where), then "
                                     "roll back again")
        if migration is not None and migration.has_rollback:
            sql, source = migration.rollback_sql.strip(), "file"
        elif migration is not None and migration.rollback_is_empty:
            sql, source = "", "file"  # an empty block: nothing to undo, only the tracking row goes
        elif row.rollback_sql and migration_files.strip_sql_comments(row.rollback_sql).strip():
            sql, source = row.rollback_sql.strip(), "recorded"
        elif migration is None and row.rollback_sql is not None and migration_files.is_empty_rollback(row.rollback_sql):
            sql, source = "", "recorded"
        else:
            sql = source = None
        if sql is not None:
            plan_steps.append(RollbackStep(row.version, migration.path if migration else None, sql, source,
                                           _needs_no_transaction(sql, settings.target_version)))
        else:
            raise RollbackError(
                f"{row.version} has no rollback SQL, so it cannot be rolled back automatically",
                help="add a `-- ROLLBACK:` block to the file (its checksum ignores that block), or undo the change "
                     f"with a new migration; `pgshift mark {row.version} --pending` only edits the tracking table")
    return RollbackPlan(target.display, tuple(plan_steps))


def rollback(settings: Settings, plan: RollbackPlan, *, on_event: OnEvent | None = None) -> RollbackResult:
    """Run a reviewed plan: each step's rollback SQL and the removal of its row in one transaction.

    The caller has obtained the human's confirmation for exactly this plan.
    """
    emit = on_event or (lambda event: None)
    result = RollbackResult(plan.database)
    files = {f.version: f for f in migration_files.discover(settings.migrations_dir)}
    lock_wait = _LockWait(settings, emit)
    with db.session(settings) as (conn, target):
        for step in plan.steps:
            migration = files.get(step.version)
            emit(Started(step.version, step.path or Path(step.version), step.no_transaction))
            if step.no_transaction:
                started = time.monotonic()
                _rollback_without_transaction(conn, settings, step, result, lock_wait)
                result.rolled_back.append(step.version)
                emit(Applied(step.version, step.path or Path(step.version),
                             int((time.monotonic() - started) * 1000)))
                continue
            body = f"{step.sql}\n;\n{tracking.delete_sql(conn, settings, step.version)};\nCOMMIT;\n{SESSION_RESET}"
            started = time.monotonic()
            outcome, prefix, prefix_statements = _run_under_lock(
                conn, settings, step.version, body, lock_wait, f"to roll back {step.version}", expect_applied=True,
                checks=(tracking.newer_applied_statement(conn, settings, step.version),))
            if outcome.error is not None:
                execution.rollback_if_needed(conn)
                _refuse_changed_plan(step, outcome, prefix_statements, result)
                done = f"; already rolled back: {summarise_versions(result.rolled_back)}" if result.rolled_back else ""
                findings = []
                if migration is not None and step.source == "file" and migration.rollback_sql:
                    findings.append(Finding("rollback-failed", Severity.ERROR, execution.describe(outcome.error),
                                            migration.path,
                                            _rollback_error_span(migration, outcome, step, len(prefix),
                                                                 prefix_statements)))
                raise RollbackError(
                    f"rollback of {step.version} failed and was undone; the migration stays applied{done}: "
                    f"{execution.describe(outcome.error)}", findings=findings,
                    help="fix the ROLLBACK block and try again")
            result.rolled_back.append(step.version)
            emit(Applied(step.version, step.path or Path(step.version), int((time.monotonic() - started) * 1000)))
    return result


def _needs_no_transaction(sql: str, target_version: int) -> bool:
    """A rollback such as DROP INDEX CONCURRENTLY must run statement by statement, as its migration did."""
    from engine.analysis.rules._support import needs_no_transaction
    script = sql_parser.analyse(sql)
    return any(needs_no_transaction(statement, target_version) for statement in script.statements)


def _refuse_changed_plan(step: RollbackStep, outcome: execution.ScriptOutcome, prefix_statements: int,
                        result: RollbackResult) -> None:
    """Under the lock the plan is re-checked: its step must still be applied and still the newest applied
    migration, or rolling it back would leave a hole under what another pgshift applied meanwhile."""
    done = f"; already rolled back: {summarise_versions(result.rolled_back)}" if result.rolled_back else ""
    verdict = _guard_verdict(outcome, prefix_statements)
    if verdict == "changed":
        raise RollbackError(f"{step.version} is no longer applied (changed by someone else){done}")
    if verdict == "newer":
        newer = tracking.newer_applied(outcome.error.diag.message_primary or "")
        nothing = "" if result.rolled_back else "; nothing was rolled back"
        raise RollbackError(
            f"refusing to roll back {step.version}: {', '.join(newer)} {'is' if len(newer) == 1 else 'are'} now "
            f"applied after it (another pgshift migrated since this rollback was planned), so rolling it back "
            f"would leave a hole under newer migrations{nothing}{done}",
            help="`pgshift rollback --list` shows what is applied now; run `pgshift rollback` again to review a "
                 "new plan")


def _rollback_without_transaction(conn: psycopg.Connection, settings: Settings, step: RollbackStep,
                                  result: RollbackResult, lock_wait: _LockWait) -> None:
    """Check the row under the lock, run the statements one by one, then remove the row."""
    outcome, _, prefix_statements = _run_under_lock(
        conn, settings, step.version, "COMMIT", lock_wait, f"to roll back {step.version}", expect_applied=True,
        checks=(tracking.newer_applied_statement(conn, settings, step.version),))
    done = f"; already rolled back: {summarise_versions(result.rolled_back)}" if result.rolled_back else ""
    if outcome.error is not None:
        execution.rollback_if_needed(conn)
        _refuse_changed_plan(step, outcome, prefix_statements, result)
        raise RollbackError(execution.describe(outcome.error))
    statements = sql_parser.parse(step.sql).statements
    for number, statement in enumerate(statements):
        conn.execute(lock_timeout_sql(settings, local=False))
        outcome = execution.run_script(conn, statement.text)
        if outcome.error is not None:
            execution.rollback_if_needed(conn)
            execution.run_script(conn, SESSION_RESET)
            ran = f"statements 1-{number} ran and are NOT undone; " if number else ""
            raise RollbackError(
                f"rollback of {step.version} failed at statement {number + 1} (it runs without a transaction); "
                f"{ran}the migration stays recorded as applied{done}: {execution.describe(outcome.error)}",
                help="fix the ROLLBACK block so it can be re-run (IF EXISTS), then roll back again")
    execution.run_script(conn, SESSION_RESET)
    conn.execute(tracking.delete_sql(conn, settings, step.version))


def _rollback_error_span(migration: MigrationFile, outcome: execution.ScriptOutcome, step: RollbackStep,
                         prefix_length: int, prefix_statements: int) -> Span:
    """The step's SQL is the ROLLBACK block stripped; place the error back in the block's commented lines."""
    block = migration.rollback_sql or ""
    return execution.error_span(migration, outcome, step.sql, prefix_length=prefix_length,
                                prefix_statements=prefix_statements, text_offset=block.index(step.sql),
                                rollback=True)

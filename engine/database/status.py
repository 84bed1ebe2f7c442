"""What state every migration is in: files on disk merged with the tracking rows (`pgshift list`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Mapping

from engine.analysis import files as migration_files
from engine.config import Settings
from engine.analysis.files import MigrationFile
from engine.analysis.findings import FILE_START, Finding, Severity, Span
from engine.database.records import APPLIED, FAILED, RUNNING, AppliedMigration


class State(str, enum.Enum):
    APPLIED = "applied"
    PENDING = "pending"
    CHANGED = "changed"          # applied, but the file's forward SQL differs from what ran
    MISSING = "missing"          # applied, but the file is gone
    FAILED = "failed"            # a no-transaction migration stopped part-way
    RUNNING = "running"          # a no-transaction migration is running now, or was interrupted


@dataclass(frozen=True)
class MigrationStatus:
    version: str
    state: State
    path: Path | None
    applied_at: datetime | None = None
    execution_ms: int | None = None
    applied_by: str | None = None
    has_rollback: bool = False
    out_of_order: bool = False
    statements_run: int | None = None
    error: str | None = None
    recorded_checksum: str | None = None
    file_checksum: str | None = None
    migration_role: str | None = None

    def to_dict(self, root: Path | None = None) -> dict:
        """Plain data; `root` should be resolved once by the caller (paths are shown relative to it)."""
        path = self.path
        if path is not None and root is not None:
            try:
                path = path.relative_to(root)
            except ValueError:
                pass
        return {
            "version": self.version,
            "state": self.state.value,
            "path": str(path) if path else None,
            "applied_at": self.applied_at.isoformat() if self.applied_at else None,
            "execution_ms": self.execution_ms,
            "applied_by": self.applied_by,
            "rollback_available": self.has_rollback,
            "out_of_order": self.out_of_order,
            "statements_run": self.statements_run,
            "error": self.error,
            "migration_role": self.migration_role,
        }


@dataclass(frozen=True)
class StatusReport:
    migrations: tuple[MigrationStatus, ...]
    database: str
    problems: tuple[Finding, ...] = ()  # file problems that stop `migrate` (a folder named *.sql, a NUL byte, …)

    def by_state(self, *states: State) -> list[MigrationStatus]:
        return [m for m in self.migrations if m.state in states]

    @property
    def pending(self) -> list[MigrationStatus]:
        return self.by_state(State.PENDING)


def merge(files: list[MigrationFile], applied: list[AppliedMigration]) -> list[MigrationStatus]:
    """Pure: one status per version, files and rows joined by version, sorted by version."""
    rows = {row.version: row for row in applied}
    newest_applied = max((row.version for row in applied if row.state == APPLIED), default=None)
    result: list[MigrationStatus] = []
    for migration in files:
        row = rows.pop(migration.version, None)
        if row is None:
            result.append(MigrationStatus(
                migration.version, State.PENDING, migration.path,
                has_rollback=migration.has_rollback or migration.rollback_is_empty,
                out_of_order=newest_applied is not None and migration.version < newest_applied,
                file_checksum=migration.checksum))
            continue
        state = {FAILED: State.FAILED, RUNNING: State.RUNNING}.get(row.state)
        if state is None:
            state = State.APPLIED if migration.matches(row.checksum) else State.CHANGED
        result.append(MigrationStatus(
            migration.version, state, migration.path, row.applied_at, row.execution_ms, row.applied_by,
            has_rollback=migration.has_rollback or migration.rollback_is_empty or _recorded_rollback(row),
            statements_run=row.statements_run, error=row.error, recorded_checksum=row.checksum,
            file_checksum=migration.checksum, migration_role=row.migration_role))
    for row in rows.values():
        result.append(MigrationStatus(
            row.version, State.MISSING, None, row.applied_at, row.execution_ms, row.applied_by,
            has_rollback=_recorded_rollback(row) or _recorded_empty_rollback(row), recorded_checksum=row.checksum,
            statements_run=row.statements_run, error=row.error, migration_role=row.migration_role))
    return sorted(result, key=lambda s: s.version)


def applied_file_changed(version: str, path: Path | None, applied_at: datetime | None,
                         span: Span = FILE_START) -> Finding:
    """The one wording for an edited applied migration, in the editor, `migrate` and MCP alike."""
    when = f"applied on {applied_at:%Y-%m-%d %H:%M}" if applied_at else "applied"
    return Finding(
        "applied-file-changed", Severity.ERROR,
        f"{when}; never edit an applied migration — write a new one",
        path, span,
        help=f"restore the applied text (e.g. git checkout) and put the change in a new migration; the ROLLBACK "
             f"block may be edited, the forward SQL may not (if the edit is cosmetic and reviewed: "
             f"`pgshift repair {version}`)")


def statements_ran(state: str, statements_run: int | None) -> str:
    """What is known of a no-transaction run's progress. A `running` row counts the statements whose end
    pgshift recorded; if pgshift was killed, the next one may have finished on the server too."""
    count = statements_run or 0
    if state == RUNNING:
        return (f"at least {count} statement(s) had run (pgshift stopped during statement {count + 1}, which may "
                "have finished on the server too: check the schema)")
    return f"{count} statement(s) had run"


def applied_file_missing(version: str) -> Finding:
    """The one wording for an applied migration whose file is gone, in `migrate` and `repair` alike."""
    return Finding("applied-file-missing", Severity.ERROR,
                   f"{version} is applied but its file is missing from the migrations folder", None,
                   help=f"restore the file (e.g. git checkout), or `pgshift mark {version} --pending` if the change "
                        "was undone by hand")


def drift_findings(migration: MigrationFile, rows: Mapping[str, AppliedMigration]) -> list[Finding]:
    """What the database says about one file being edited: changed since applied, failed, or out of order."""
    first_line = Span.at(0, 0, 0, len(migration.text.split("\n", 1)[0].rstrip("\r")))
    row = rows.get(migration.version)
    if row is not None and row.state == APPLIED:
        if migration.matches(row.checksum):
            return []
        return [applied_file_changed(migration.version, migration.path, row.applied_at, first_line)]
    if row is not None and row.state in (FAILED, RUNNING):
        return [Finding(
            "migration-failed", Severity.ERROR,
            f"this migration did not complete; {statements_ran(row.state, row.statements_run)}: "
            f"{row.error or 'interrupted'}",
            migration.path, first_line, help=f"check what it changed, then `pgshift repair {migration.version}`")]
    newest = max((v for v, r in rows.items() if r.state == APPLIED), default=None)
    if row is None and newest is not None and migration.version < newest:
        return [Finding(
            "out-of-order", Severity.WARNING,
            f"pending, but sorts before the newest applied migration {newest}: it will run out of order",
            migration.path, first_line,
            help="rename it to a timestamp after the newest applied migration (pgshift new makes one), or run "
                 "`pgshift migrate --allow-out-of-order` if the order really does not matter")]
    return []


def _recorded_rollback(row: AppliedMigration) -> bool:
    return bool(row.rollback_sql and migration_files.strip_sql_comments(row.rollback_sql).strip())


def _recorded_empty_rollback(row: AppliedMigration) -> bool:
    """Applied with an empty ROLLBACK block (NULL means it had none): rolling back only removes the row."""
    return row.rollback_sql is not None and migration_files.is_empty_rollback(row.rollback_sql)


def list_migrations(settings: Settings, *, files: list[MigrationFile] | None = None) -> StatusReport:
    """The `list` verb: read the folder and the tracking table (without creating it). A fleet passes the folder
    it read once as `files`, instead of every target reading and parsing it again."""
    from engine.database import db, tracking

    files = migration_files.discover(settings.migrations_dir) if files is None else files
    with db.session(settings) as (conn, target):
        applied = tracking.read_applied(conn, settings)
        statuses = _with_invalid_indexes(conn, merge(files, applied), files)
    return StatusReport(tuple(statuses), target.display, file_problems(files, settings))


def _with_invalid_indexes(conn, statuses: list[MigrationStatus], files: list[MigrationFile]) -> list[MigrationStatus]:
    """An applied no-transaction migration whose index is INVALID (applied by an older pgshift, or broken
    since) carries that as its error, so `list` shows it; one catalog query for all of them."""
    from dataclasses import replace

    from engine.database import index_health
    by_version = {f.version: f for f in files}
    named = {s.version: index_health.created_indexes(by_version[s.version].forward_sql) for s in statuses
             if s.state is State.APPLIED and by_version[s.version].no_transaction}
    invalid = index_health.invalid_index_names(conn, sorted({n for names in named.values() for n in names}))
    if not invalid:
        return statuses
    result = []
    for status in statuses:
        broken = [invalid[n] for n in named.get(status.version, []) if n in invalid]
        if broken:
            message, help_text = index_health.describe_invalid(broken, status.version)
            status = replace(status, error=f"{message}; {help_text}")
        result.append(status)
    return result


# The file problems that make `migrate` refuse to run anything (engine.database.runner checks the same codes).
BLOCKING_FILE_CODES = ("file-name", "file-encoding", "file-unreadable", "rollback-not-commented")


def file_problems(files: list[MigrationFile], settings: Settings) -> tuple[Finding, ...]:
    """Error-level format problems of the folder's files, as configured: why `migrate` would run nothing."""
    from engine.analysis.lint import rule_levels
    levels = rule_levels(settings)
    return tuple(f for m in files for f in m.findings
                 if f.code in BLOCKING_FILE_CODES and levels.get(f.code, f.severity) is Severity.ERROR)

"""`repair` and `mark`: deliberate, reviewed edits of the tracking table — never of the schema."""

from __future__ import annotations

from dataclasses import dataclass

from engine.database import db, environment, tracking
from engine.analysis import files as migration_files
from engine.config import Settings
from engine.errors import ChecksumMismatchError, UsageError
from engine.database.status import State, applied_file_missing, merge, statements_ran


@dataclass(frozen=True)
class TrackingChange:
    """One row-level change, described for the confirmation prompt before it is made."""

    version: str
    action: str  # accept-checksum | clear-failed | mark-applied | mark-pending
    description: str
    checksum: str | None = None
    rollback_sql: str | None = None

    def to_dict(self) -> dict:
        return {"version": self.version, "action": self.action, "description": self.description}


def plan_repair(settings: Settings, versions: list[str] | None = None) -> list[TrackingChange]:
    """Accept reviewed checksums of changed files; clear failed or interrupted runs back to pending."""
    files = migration_files.discover(settings.migrations_dir)
    with db.session(settings) as (conn, target):
        environment.require_writable(conn, target.display, "repair")
        statuses = merge(files, tracking.read_applied(conn, settings))
    known = {s.version for s in statuses}
    for version in versions or []:
        if version not in known:
            raise UsageError(f"{version}: no such migration", help="`pgshift list` shows the versions")
    changes = []
    for status in statuses:
        if versions and status.version not in versions:
            continue
        if status.state is State.CHANGED:
            changes.append(TrackingChange(
                status.version, "accept-checksum",
                f"{status.version}: record the file's current checksum ({status.file_checksum}) in place of "
                f"{status.recorded_checksum}; the changed SQL is NOT run",
                checksum=status.file_checksum))
        elif status.state in (State.FAILED, State.RUNNING):
            ran = statements_ran(status.state.value, status.statements_run)
            changes.append(TrackingChange(
                status.version, "clear-failed",
                f"{status.version}: forget the {status.state.value} run ({ran}); it becomes "
                "pending and `migrate` runs the whole file again"))
    missing = [s for s in statuses if s.state is State.MISSING and (not versions or s.version in versions)]
    if missing and not changes:
        # Nothing here can be repaired by editing a row: the file must come back, or the row go deliberately.
        names = ", ".join(s.version for s in missing)
        raise ChecksumMismatchError(f"cannot repair: applied migration file(s) missing: {names}",
                                    findings=[applied_file_missing(s.version) for s in missing],
                                    help="restore each file, or `pgshift mark VERSION --pending` if its change "
                                         "was undone by hand")
    return changes


def plan_mark(settings: Settings, versions: list[str], *, applied: bool) -> list[TrackingChange]:
    """One change per version, read from one look at the folder and the tracking table."""
    files = {f.version: f for f in migration_files.discover(settings.migrations_dir)}
    with db.session(settings) as (conn, target):
        environment.require_writable(conn, target.display, "mark")
        rows = {r.version: r for r in tracking.read_applied(conn, settings)}
    return [_mark(version, files, rows, applied) for version in versions]


def _mark(version: str, files: dict, rows: dict, applied: bool) -> TrackingChange:
    if applied:
        migration = files.get(version)
        if migration is None:
            raise UsageError(f"{version}: no migration file with that version",
                             help="`pgshift list` shows the versions")
        if version in rows and rows[version].state == tracking.APPLIED:
            raise UsageError(f"{version} is already marked applied")
        return TrackingChange(version, "mark-applied",
                              f"{version}: record it as applied WITHOUT running it (the schema must already match)",
                              checksum=migration.checksum, rollback_sql=migration.rollback_sql)
    if version not in rows:
        raise UsageError(f"{version} is not recorded as applied; nothing to mark pending")
    return TrackingChange(version, "mark-pending",
                          f"{version}: delete its tracking row WITHOUT running its rollback; `migrate` will run it "
                          "again")


def apply_changes(settings: Settings, changes: list[TrackingChange]) -> list[TrackingChange]:
    """Make the reviewed changes in one transaction, under the migration lock."""
    with db.session(settings) as (conn, _):
        tracking.ensure_table(conn, settings)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (tracking.lock_key(settings),))
            for change in changes:
                if change.action == "accept-checksum":
                    tracking.update_checksum(conn, settings, change.version, change.checksum or "")
                elif change.action in ("clear-failed", "mark-pending"):
                    tracking.delete_row(conn, settings, change.version)
                elif change.action == "mark-applied":
                    tracking.insert_applied(conn, settings, change.version, change.checksum or "",
                                            change.rollback_sql)
    return changes

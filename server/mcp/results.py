"""Typed tool results: the output schemas the assistant sees, built from the engine's results."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from engine.redaction import redact
from engine.analysis.findings import Finding, Severity
from engine.database.status import MigrationStatus, State, StatusReport


class FindingResult(BaseModel):
    """One problem, 1-based line and column as `path:line:col` prints it."""

    code: str
    severity: str
    message: str
    path: str | None = None
    line: int
    column: int
    end_line: int
    end_column: int
    help: str | None = None
    fix: str | None = Field(None, description="title of an automatic fix, when one exists")
    docs: str | None = None

    @classmethod
    def of(cls, finding: Finding, root: Path) -> "FindingResult":
        data = finding.to_dict(root)
        data["message"] = redact(data["message"])
        if data.get("help"):
            data["help"] = redact(data["help"])
        return cls(**data)


def findings_of(findings: list[Finding], root: Path) -> list[FindingResult]:
    return [FindingResult.of(f, root) for f in sorted(findings, key=Finding.sort_key)]


def count(findings: list[Finding], severity: Severity) -> int:
    return sum(1 for f in findings if f.severity is severity)


class MigrationResult(BaseModel):
    version: str
    state: Literal["applied", "pending", "changed", "missing", "failed", "running"]
    path: str | None = None
    applied_at: str | None = None
    execution_ms: int | None = None
    applied_by: str | None = None
    rollback_available: bool = False
    out_of_order: bool = False
    statements_run: int | None = None
    error: str | None = None

    @classmethod
    def of(cls, status: MigrationStatus, root: Path, folders: dict[Path, str] | None = None) -> "MigrationResult":
        data = status.to_dict()
        if status.path is not None:
            # Resolving every path costs two syscalls a file; the migrations share one folder, resolve it once.
            folders = {} if folders is None else folders
            parent = status.path.parent
            if parent not in folders:
                folders[parent] = _relative(parent, root)
            data["path"] = f"{folders[parent]}/{status.path.name}" if folders[parent] != "." else status.path.name
        if data.get("error"):
            data["error"] = redact(data["error"])
        return cls(**data)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


class ListMigrationsResult(BaseModel):
    database: str
    migrations: list[MigrationResult]
    counts: dict[str, int] = Field(description="how many migrations are in each state")
    summary: str

    @classmethod
    def of(cls, report: StatusReport, root: Path) -> "ListMigrationsResult":
        counts = {state.value: len(report.by_state(state)) for state in State if report.by_state(state)}
        pending = counts.get("pending", 0)
        summary = (f"{len(report.migrations)} migration(s): {pending} pending" if report.migrations
                   else "No migrations yet: create one with new_migration.")
        trouble = [s for s in ("changed", "missing", "failed", "running") if counts.get(s)]
        if trouble:
            summary += "; needs attention: " + ", ".join(f"{counts[s]} {s}" for s in trouble)
        folders: dict[Path, str] = {}
        return cls(database=redact(report.database), migrations=[MigrationResult.of(m, root, folders)
                                                                 for m in report.migrations],
                   counts=counts, summary=summary)


class NewMigrationResult(BaseModel):
    path: str = Field(description="the new file, relative to the project root")
    version: str
    text: str = Field(description="the file as written: forward SQL, then the commented-out ROLLBACK block")
    findings: list[FindingResult]
    rollback_inferred: bool = Field(description="true when the ROLLBACK block was inferred from the forward SQL")
    summary: str


class CheckResult(BaseModel):
    path: str | None = Field(None, description="the file checked; null when SQL text was checked")
    ok: bool = Field(description="true when there is no error-level finding (migrate would not be stopped)")
    errors: int
    warnings: int
    findings: list[FindingResult]
    summary: str


class AppliedResult(BaseModel):
    version: str
    path: str
    milliseconds: int


class PlannedMigrationResult(BaseModel):
    version: str
    path: str
    sql: str = Field(description="the forward SQL that will run")
    data_loss: list[str] = Field(default_factory=list, description="data-loss findings, 'line N: message'")


class MigrateResult(BaseModel):
    status: Literal["applied", "dry_run", "confirmation_required"] = "applied"
    database: str
    dry_run: bool
    applied: list[AppliedResult] = Field(description="applied (or, in a dry run, tried and rolled back), in order")
    skipped: list[str]
    notes: list[str]
    planned: list[PlannedMigrationResult] = Field(
        default_factory=list, description="with status confirmation_required: what would run, in order")
    confirmation_token: str | None = Field(
        None, description="only where the project enables tokens: pass back ONLY after the user explicitly said yes")
    expires_in_seconds: int | None = None
    summary: str


class VerificationResult(BaseModel):
    version: str
    path: str
    status: str = Field(description="ok, failed, or no-rollback (forward proven, no rollback to prove)")
    ok: bool
    step: str | None = Field(None, description="where it failed: setup, forward, rollback or reapply")
    message: str = ""
    differences: list[str] = Field(default_factory=list,
                                   description="how the schema after rollback differs from before the migration")
    findings: list[FindingResult] = Field(default_factory=list)


class VerifyResult(BaseModel):
    ok: bool
    scratch_server: str = Field(description="where the scratch database lived (dropped afterwards)")
    migrations: list[VerificationResult]
    summary: str


class RollbackStepResult(BaseModel):
    version: str
    path: str | None = None
    sql: str = Field(description="the exact SQL that will run (or ran) to undo this migration")
    source: str = Field(description="'file' (the file's ROLLBACK block) or 'recorded' (stored when applied)")


class RollbackResult(BaseModel):
    status: Literal["confirmation_required", "rolled_back"]
    database: str
    plan: list[RollbackStepResult] = Field(description="newest first, exactly what runs")
    rolled_back: list[str] = Field(default_factory=list)
    confirmation_token: str | None = Field(
        None, description="pass back as confirmation_token ONLY after the user explicitly said yes to this plan")
    expires_in_seconds: int | None = None
    summary: str


class SnapshotResult(BaseModel):
    path: str
    changed: bool = Field(description="true when DATABASE.md was rewritten with a different schema")
    text: str
    summary: str


class BackupResult(BaseModel):
    path: str = Field(description="the plain-SQL dump, relative to the project root when inside it")
    bytes: int
    seconds: float
    database: str
    pg_dump: str = Field(description="the pg_dump binary used and its version")
    summary: str


class HistoryEntry(BaseModel):
    version: str
    role: Literal["creates", "alters", "drops", "mentions"]
    rollback: bool = Field(description="true when it is named in the migration's ROLLBACK block")
    path: str
    line: int
    column: int


class HistoryResult(BaseModel):
    relation: str
    references: list[HistoryEntry] = Field(description="in version order")
    summary: str


class ErrorResult(BaseModel):
    """What a failed call carries in structuredContent (isError is true)."""

    ok: Literal[False] = False
    code: str
    message: str
    help: str | None = None
    findings: list[FindingResult] = Field(default_factory=list)

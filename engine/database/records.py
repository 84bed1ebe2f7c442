"""What a tracking row says, as plain data: importable without the database driver (the editor's start-up)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

APPLIED, FAILED, RUNNING = "applied", "failed", "running"


@dataclass(frozen=True)
class AppliedMigration:
    """One tracking row: what the database believes about a migration."""

    version: str
    checksum: str
    state: str
    applied_at: datetime
    execution_ms: int | None
    applied_by: str
    rollback_sql: str | None
    statements_run: int | None
    error: str | None
    migration_role: str | None = None  # the role the migration's SQL ran as, where not applied_by

"""The human gate for a real `migrate` through MCP: which runs need a person's yes, and what they are shown.

A migrate asks first (by elicitation, like rollback) when it would change a database other than the embedded
development one, or apply a migration with a data-loss finding (`mcp_confirm_migrate` in [tool.pgshift] says
which). The plan is computed from the files and the tracking table; its fingerprint binds the answer to the
exact SQL and database that were shown.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from engine.analysis import files as migration_files
from engine.database import status
from engine.config import Settings
from engine.database.status import State

# The rules whose finding means rows or objects go away for good.
DATA_LOSS_CODES = frozenset({"ban-drop-column", "ban-drop-table", "ban-drop-schema", "ban-drop-database",
                             "ban-truncate", "require-where"})


class ConfirmMigrate(BaseModel):
    """The form shown to the user (a single checkbox they must tick)."""

    confirm: bool = Field(title="Apply now?",
                          description="Tick to run exactly the SQL shown above on this database")


@dataclass(frozen=True)
class PendingStep:
    version: str
    path: Path
    sql: str
    checksum: str
    data_loss: tuple[str, ...]  # "line N: message" for each data-loss finding


@dataclass(frozen=True)
class MigratePlan:
    database: str
    embedded: bool
    steps: tuple[PendingStep, ...]

    @property
    def last_version(self) -> str | None:
        return self.steps[-1].version if self.steps else None

    @property
    def loses_data(self) -> bool:
        return any(step.data_loss for step in self.steps)

    def fingerprint(self) -> str:
        digest = hashlib.sha256(self.database.encode())
        for step in self.steps:
            digest.update(f"\0{step.version}\0{step.checksum}".encode())
        return digest.hexdigest()

    def needs_confirmation(self, mode: str) -> bool:
        if not self.steps or mode == "never":
            return False
        if mode == "always":
            return True
        if mode == "data-loss":
            return self.loses_data
        return self.loses_data or not self.embedded

    def describe(self, root: Path) -> str:
        """The question: the database, why it is asked, and each migration's exact forward SQL, in order."""
        why = [] if self.embedded else ["it is not the embedded development database"]
        if self.loses_data:
            why.append("a migration deletes data")
        lines = [f"Apply {len(self.steps)} migration(s) to {self.database}?"]
        if why:
            lines.append("Asked because " + " and ".join(why) + ".")
        for step in self.steps:
            lines += ["", f"-- {step.version} ({_relative(step.path, root)})"]
            lines += [f"-- DATA LOSS: {loss}" for loss in step.data_loss]
            lines.append(step.sql.strip() or "-- (no SQL)")
        return "\n".join(lines)


def plan_migrate(settings: Settings, to: str | None) -> MigratePlan:
    """What a real migrate would run now (pending and failed migrations up to `to`), without running it."""
    report = status.list_migrations(settings)
    steps: list[PendingStep] = []
    for entry in report.by_state(State.PENDING, State.FAILED):
        if entry.path is None or (to is not None and entry.version > to):
            continue
        migration = migration_files.read_migration(entry.path)
        steps.append(PendingStep(entry.version, entry.path, migration.forward_sql, migration.checksum,
                                 data_loss_findings(settings, migration)))
    return MigratePlan(report.database, settings.uses_embedded_database, tuple(steps))


def data_loss_findings(settings: Settings, migration: migration_files.MigrationFile) -> tuple[str, ...]:
    """Data-loss findings, whatever the ignore comments and rule levels say.

    The assistant can write `-- pgshift-ignore ban-drop-table` itself, so the gate does not let one silence
    it: the text is checked with the ignore comments neutralised and the rules at their default levels.
    """
    from engine.analysis.lint import check_text
    unsilenced = migration.text.replace("pgshift-ignore", "pgshift-noted")
    found = check_text(migration.path, unsilenced, settings.with_overrides(rules={}))
    return tuple(f"line {f.span.start.line + 1}: {f.message}" if f.span else f.message
                 for f in found if f.code in DATA_LOSS_CODES)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)

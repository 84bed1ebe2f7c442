"""What the engine says about one document: its own findings plus what the database knows about it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from engine.config import Settings
from engine.files import parse_migration
from engine.findings import Finding, Severity, Span

if TYPE_CHECKING:
    from engine.tracking import AppliedMigration

# engine.tracking's states, written here so the language server answers `initialize` without importing psycopg
APPLIED, FAILED, RUNNING = "applied", "failed", "running"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatabaseView:
    """The tracking rows as last read, by version; `newest_applied` orders out-of-order checks."""

    rows: Mapping[str, AppliedMigration]

    @property
    def newest_applied(self) -> str | None:
        return max((v for v, r in self.rows.items() if r.state == APPLIED), default=None)


def file_findings(path: Path, text: str, settings: Settings) -> list[Finding]:
    """Every engine finding for the text (lint when it is installed, else the file format alone).

    Never raises: an engine bug must cost the user a rule, not the language server.
    """
    try:
        from engine.lint import check_text
    except ImportError:
        check_text = None
    if check_text is not None:
        try:
            return list(check_text(path, text, settings))
        except Exception:  # noqa: BLE001 - keep the format checks when a rule crashes
            log.exception("engine.lint.check_text failed on %s; falling back to format checks", path)
    return list(parse_migration(path, text).findings)


def database_findings(path: Path, text: str, view: DatabaseView | None) -> list[Finding]:
    """`applied-file-changed` for an edited applied migration, `out-of-order` for a late pending one."""
    if view is None:
        return []
    migration = parse_migration(path, text)
    first_line = Span.at(0, 0, 0, len(migration.text.split("\n", 1)[0].rstrip("\r")))
    row = view.rows.get(migration.version)
    if row is not None and row.state == APPLIED:
        if row.checksum == migration.checksum:
            return []
        return [Finding(
            "applied-file-changed", Severity.ERROR,
            f"applied on {row.applied_at:%Y-%m-%d %H:%M}; never edit an applied migration — write a new one",
            path, first_line,
            help="restore the applied text (e.g. git checkout) and put the change in a new migration; the "
                 "ROLLBACK block may be edited, the forward SQL may not")]
    if row is not None and row.state == FAILED:
        return [Finding(
            "migration-failed", Severity.ERROR,
            f"this migration failed part-way after {row.statements_run or 0} statement(s): {row.error or ''}".strip(),
            path, first_line, help=f"check what it changed, then `pgshift repair {migration.version}`")]
    newest = view.newest_applied
    if row is None and newest is not None and migration.version < newest:
        return [Finding(
            "out-of-order", Severity.WARNING,
            f"pending, but sorts before the newest applied migration {newest}: it will run out of order",
            path, first_line,
            help="rename it to a timestamp after the newest applied migration (pgshift new makes one), or "
                 "run `pgshift migrate --allow-out-of-order` if the order really does not matter")]
    return []

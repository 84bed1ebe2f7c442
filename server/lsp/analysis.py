"""What the engine says about one document: its own findings plus what the database knows about it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from engine.config import Settings
from engine.analysis.files import parse_migration
from engine.analysis.findings import Finding
from engine.database.records import APPLIED, AppliedMigration
from engine.database.status import drift_findings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatabaseView:
    """The tracking rows as last read, by version; `newest_applied` orders out-of-order checks."""

    rows: Mapping[str, AppliedMigration]

    @property
    def newest_applied(self) -> str | None:
        return max((v for v, r in self.rows.items() if r.state == APPLIED), default=None)


def file_findings(path: Path, text: str, settings: Settings) -> list[Finding]:
    """Every engine finding for the text (the file format alone if the analysis itself crashes).

    Never raises: an engine bug must cost the user a rule, not the language server.
    """
    from engine.analysis.lint import check_text  # pglast: imported on first use, after `initialize` was answered
    try:
        return list(check_text(path, text, settings))
    except Exception:  # noqa: BLE001 - keep the format checks when a rule crashes
        log.exception("engine.analysis.lint.check_text failed on %s; falling back to format checks", path)
    return list(parse_migration(path, text).findings)


def database_findings(path: Path, text: str, view: DatabaseView | None) -> list[Finding]:
    """`applied-file-changed`, `migration-failed` or `out-of-order` for the document, as the engine words them."""
    if view is None:
        return []
    return drift_findings(parse_migration(path, text), view.rows)

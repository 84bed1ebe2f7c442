"""CodeLens on a migration's first line: its state in the database, and the action that fits it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from engine.files import parse_migration
from engine.records import APPLIED, FAILED, RUNNING
from server.lsp.analysis import DatabaseView
from server.lsp.project import uri_to_path

if TYPE_CHECKING:
    from server.lsp.server import PgshiftLanguageServer

FIRST_LINE = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))


def _lens(title: str, command: str = "", arguments: list | None = None) -> types.CodeLens:
    # An empty command makes a lens that only informs (VS Code and Neovim show it, not clickable).
    return types.CodeLens(range=FIRST_LINE, command=types.Command(title=title, command=command,
                                                                 arguments=arguments))


def lenses_for(path: Path, text: str, view: DatabaseView | None, reachable: bool | None) -> list[types.CodeLens]:
    """Pure: the lenses for one document given the last database view."""
    if view is None:
        return [_lens("pgshift: database state unknown" if reachable is False else "pgshift: no database")]
    migration = parse_migration(path, text)
    row = view.rows.get(migration.version)
    version = migration.version
    if row is None:
        return [_lens("pending"), _lens("Apply pending", "pgshift.migrate"),
                _lens("Verify", "pgshift.verify", [version])]
    if row.state == FAILED:
        return [_lens(f"failed after {row.statements_run or 0} statement(s)"),
                _lens("Show status", "pgshift.list")]
    if row.state == RUNNING:
        return [_lens("running (or interrupted)"), _lens("Show status", "pgshift.list")]
    when = f"{row.applied_at:%Y-%m-%d %H:%M}"
    if row.state == APPLIED and row.checksum != migration.checksum:
        return [_lens(f"changed since applied on {when}"), _lens("Show status", "pgshift.list")]
    lenses = [_lens(f"applied {when}")]
    if version == view.newest_applied:
        lenses.append(_lens("Roll back", "pgshift.rollback", [{"steps": 1}]))
    return lenses


def register(ls: "PgshiftLanguageServer") -> None:
    @ls.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    def code_lens(ls: "PgshiftLanguageServer", params: types.CodeLensParams) -> list[types.CodeLens] | None:
        uri = params.text_document.uri
        path = uri_to_path(uri)
        document = ls.document(uri)
        if document is None or not ls.project.is_migration(path):
            return None
        return lenses_for(path, document.source, ls.database.view, ls.database.reachable)

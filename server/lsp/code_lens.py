"""CodeLens on a migration's first line: its state in the database, and the action that fits it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from engine.files import parse_migration
from engine.records import APPLIED, FAILED, RUNNING
from server.lsp.analysis import DatabaseView

if TYPE_CHECKING:
    from server.lsp.server import PgshiftLanguageServer

FIRST_LINE = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))


def _lens(title: str, command: str = "", arguments: list | None = None) -> types.CodeLens:
    # An empty command makes a lens that only informs (VS Code and Neovim show it, not clickable).
    return types.CodeLens(range=FIRST_LINE, command=types.Command(title=title, command=command,
                                                                 arguments=arguments))


def lenses_for(path: Path, text: str, view: DatabaseView | None, reachable: bool | None,
               uri: str | None = None) -> list[types.CodeLens]:
    """Pure: the lenses for one document given the last database view.

    Each command carries `{"uri": ...}` so that it runs on this document's project, not the workspace's.
    """
    if view is None:
        return [_lens("pgshift: database state unknown" if reachable is False else "pgshift: no database")]
    where = {"uri": uri} if uri else {}
    migration = parse_migration(path, text)
    row = view.rows.get(migration.version)
    version = migration.version
    status = _lens("Show status", "pgshift.list", [where])
    if row is None:
        return [_lens("pending"), _lens("Apply pending", "pgshift.migrate", [where]),
                _lens("Verify", "pgshift.verify", [version, where])]
    if row.state == FAILED:
        return [_lens(f"failed after {row.statements_run or 0} statement(s)"), status]
    if row.state == RUNNING:
        return [_lens("running (or interrupted)"), status]
    when = f"{row.applied_at:%Y-%m-%d %H:%M}"
    if row.state == APPLIED and not migration.matches(row.checksum):
        return [_lens(f"changed since applied on {when}"), status]
    lenses = [_lens(f"applied {when}")]
    if version == view.newest_applied:
        lenses.append(_lens("Roll back", "pgshift.rollback", [{"steps": 1, **where}]))
    return lenses


def register(ls: "PgshiftLanguageServer") -> None:
    @ls.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    async def code_lens(ls: "PgshiftLanguageServer", params: types.CodeLensParams) -> list[types.CodeLens] | None:
        uri = params.text_document.uri
        opened = await ls.open_migration(uri)
        if opened is None:
            return None
        live = opened.live
        return lenses_for(opened.path, opened.text, live.database.view, live.database.reachable, uri)

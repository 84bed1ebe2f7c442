"""CodeLens on a migration's first line: its state in the database, and the action that fits it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from engine.analysis.files import parse_migration
from engine.database.records import APPLIED, FAILED, RUNNING
from server.lsp.analysis import DatabaseView

if TYPE_CHECKING:
    from server.lsp.database import DatabaseStatus
    from server.lsp.server import PgshiftLanguageServer

FIRST_LINE = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))


def _lens(title: str, command: str, arguments: list) -> types.CodeLens:
    return types.CodeLens(range=FIRST_LINE, command=types.Command(title=title, command=command,
                                                                 arguments=arguments))


def lenses_for(path: Path, text: str, view: DatabaseView | None, status: "DatabaseStatus",
               uri: str | None = None) -> list[types.CodeLens]:
    """Pure: the lenses for one document given the last database view and how the last read went.

    Every lens runs a registered command (a Command naming nothing is no command: clicking it fails): the ones
    that state something run `pgshift.list`, whose answer (or error) says more. Each command carries
    `{"uri": ...}` so that it runs on this document's project, not the workspace's.
    """
    where = {"uri": uri} if uri else {}

    def info(title: str) -> types.CodeLens:
        return _lens(title, "pgshift.list", [where])

    if view is None:
        return [info(status.title())]
    migration = parse_migration(path, text)
    row = view.rows.get(migration.version)
    version = migration.version
    status_lens = info("Show status")
    if row is None:
        return [info("pending"), _lens("Apply pending", "pgshift.migrate", [where]),
                _lens("Verify", "pgshift.verify", [version, where])]
    if row.state == FAILED:
        return [info(f"failed after {row.statements_run or 0} statement(s)"), status_lens]
    if row.state == RUNNING:
        return [info("running (or interrupted)"), status_lens]
    when = f"{row.applied_at:%Y-%m-%d %H:%M}"
    if row.state == APPLIED and not migration.matches(row.checksum):
        return [info(f"changed since applied on {when}"), status_lens]
    lenses = [info(f"applied {when}")]
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
        return lenses_for(opened.path, opened.text, live.database.view, live.database.status, uri)

"""Go to definition and find references for tables, views and sequences across the project's migrations.

On `orders` in `ALTER TABLE orders ...`, definition jumps to the migration that created it; references list
every migration that names it (created, changed, used, dropped, in rollbacks too): the table's history.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from server.lsp.convert import from_position, split_lines, to_range
from server.lsp.project import path_to_uri

if TYPE_CHECKING:
    from engine.analysis.files import MigrationFile
    from engine.analysis.relations import RelationRef
    from server.lsp.server import OpenMigration, PgshiftLanguageServer


def project_migrations(ls: "PgshiftLanguageServer", opened: "OpenMigration",
                       current: "MigrationFile") -> dict[Path, "MigrationFile"]:
    """Every migration of the document's project by path, open documents as the editor has them (unsaved edits
    too); `current` is the document asked about, already parsed."""
    from engine.analysis.files import discover, parse_migration
    migrations = {m.path: m for m in discover(opened.live.project.settings.migrations_dir)}
    for path in list(migrations):
        document = ls.document(path_to_uri(path)) if path != current.path else None
        if document is not None:
            migrations[path] = parse_migration(path, ls.text_of(document))
    migrations[current.path] = current
    return migrations


def to_location(ref: "RelationRef", migrations: dict[Path, "MigrationFile"], encoding: str) -> types.Location:
    lines = split_lines(migrations[ref.path].text)
    return types.Location(uri=path_to_uri(ref.path), range=to_range(ref.span, lines, encoding))


def register(ls: "PgshiftLanguageServer") -> None:
    async def relation_under_cursor(params: types.TextDocumentPositionParams):
        """The open migration, parsed, and the relation named under the cursor (None when there is none)."""
        opened = await ls.open_migration(params.text_document.uri)
        if opened is None:
            return None, None, None
        from engine.analysis.files import parse_migration
        from engine.analysis.relations import relation_at
        current = parse_migration(opened.path, opened.text)
        at = from_position(params.position, split_lines(opened.text), ls.encoding)
        return opened, current, await asyncio.to_thread(relation_at, current, at)

    @ls.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(ls: "PgshiftLanguageServer", params: types.DefinitionParams) -> types.Location | None:
        opened, current, relation = await relation_under_cursor(params)
        if relation is None:
            return None

        def find() -> types.Location | None:
            from engine.analysis.relations import definition as find_definition
            migrations = project_migrations(ls, opened, current)
            found = find_definition(migrations.values(), relation, current.version)
            return to_location(found, migrations, ls.encoding) if found else None

        return await asyncio.to_thread(find)

    @ls.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(ls: "PgshiftLanguageServer", params: types.ReferenceParams) -> list[types.Location] | None:
        opened, current, relation = await relation_under_cursor(params)
        if relation is None:
            return None

        def find() -> list[types.Location]:
            from engine.analysis.relations import CREATES, references as find_references
            migrations = project_migrations(ls, opened, current)
            refs = find_references(migrations.values(), relation)
            if not params.context.include_declaration:
                refs = [r for r in refs if r.role != CREATES]
            return [to_location(r, migrations, ls.encoding) for r in refs]

        return await asyncio.to_thread(find)

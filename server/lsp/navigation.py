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
    from engine.files import MigrationFile
    from engine.relations import RelationRef
    from server.lsp.server import OpenMigration, PgshiftLanguageServer


def project_migrations(ls: "PgshiftLanguageServer", opened: "OpenMigration") -> list["MigrationFile"]:
    """Every migration of the document's project, open documents as the editor has them (unsaved edits too)."""
    from engine.files import discover, parse_migration
    migrations = {m.path: m for m in discover(opened.live.project.settings.migrations_dir)}
    for path in list(migrations):
        document = ls.document(path_to_uri(path))
        if document is not None:
            migrations[path] = parse_migration(path, ls.text_of(document))
    migrations[opened.path] = parse_migration(opened.path, opened.text)
    return list(migrations.values())


def to_location(ref: "RelationRef", texts: dict[Path, str], encoding: str) -> types.Location:
    return types.Location(uri=path_to_uri(ref.path), range=to_range(ref.span, split_lines(texts[ref.path]), encoding))


def register(ls: "PgshiftLanguageServer") -> None:
    async def relation_under_cursor(params: types.TextDocumentPositionParams):
        opened = await ls.open_migration(params.text_document.uri)
        if opened is None:
            return None, None
        from engine.files import parse_migration
        from engine.relations import relation_at
        at = from_position(params.position, split_lines(opened.text), ls.encoding)
        relation = await asyncio.to_thread(relation_at, parse_migration(opened.path, opened.text), at)
        return opened, relation

    @ls.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(ls: "PgshiftLanguageServer", params: types.DefinitionParams) -> types.Location | None:
        opened, relation = await relation_under_cursor(params)
        if relation is None:
            return None

        def find() -> types.Location | None:
            from engine.relations import definition as find_definition
            migrations = project_migrations(ls, opened)
            found = find_definition(migrations, relation, opened.path.stem)
            return to_location(found, {m.path: m.text for m in migrations}, ls.encoding) if found else None

        return await asyncio.to_thread(find)

    @ls.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(ls: "PgshiftLanguageServer", params: types.ReferenceParams) -> list[types.Location] | None:
        opened, relation = await relation_under_cursor(params)
        if relation is None:
            return None

        def find() -> list[types.Location]:
            from engine.relations import CREATES, references as find_references
            migrations = project_migrations(ls, opened)
            texts = {m.path: m.text for m in migrations}
            refs = find_references(migrations, relation)
            if not params.context.include_declaration:
                refs = [r for r in refs if r.role != CREATES]
            return [to_location(r, texts, ls.encoding) for r in refs]

        return await asyncio.to_thread(find)

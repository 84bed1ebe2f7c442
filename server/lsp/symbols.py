"""Document symbols: the engine's outline of a migration as the editor's outline, breadcrumbs and go-to-symbol."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Sequence

from lsprotocol import types

from server.lsp.convert import split_lines, to_range

if TYPE_CHECKING:
    from engine.analysis.outline import OutlineItem
    from server.lsp.server import PgshiftLanguageServer

K = types.SymbolKind
# What an editor's icon should suggest; anything else is a plain statement.
SYMBOL_KINDS = {
    "rollback": K.Namespace, "CreateStmt": K.Struct, "CreateForeignTableStmt": K.Struct, "AlterTableStmt": K.Field,
    "IndexStmt": K.Key, "ViewStmt": K.Interface, "CreateTableAsStmt": K.Interface, "CreateFunctionStmt": K.Function,
    "CreateTrigStmt": K.Event, "CreateEnumStmt": K.Enum, "AlterEnumStmt": K.Enum, "CompositeTypeStmt": K.Class,
    "CreateDomainStmt": K.TypeParameter, "CreateSeqStmt": K.Number, "CreateSchemaStmt": K.Module,
    "CreateExtensionStmt": K.Package, "InsertStmt": K.Operator, "UpdateStmt": K.Operator,
    "DeleteStmt": K.Operator, "DropStmt": K.Null,
}


def to_symbols(items: Sequence["OutlineItem"], lines: list[str], encoding: str) -> list[types.DocumentSymbol]:
    """Pure: outline items as nested DocumentSymbols; the selection is the item's first line."""
    symbols = []
    for item in items:
        whole = to_range(item.span, lines, encoding)
        first_line_end = (whole.end if whole.end.line == whole.start.line else
                          types.Position(line=whole.start.line,
                                         character=len(lines[whole.start.line]) if whole.start.line < len(lines)
                                         else 0))
        symbols.append(types.DocumentSymbol(
            name=item.name, kind=SYMBOL_KINDS.get(item.kind, K.Object), range=whole,
            selection_range=types.Range(start=whole.start, end=first_line_end),
            children=to_symbols(item.children, lines, encoding) or None))
    return symbols


def register(ls: "PgshiftLanguageServer") -> None:
    @ls.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbol(ls: "PgshiftLanguageServer",
                              params: types.DocumentSymbolParams) -> list[types.DocumentSymbol] | None:
        opened = await ls.open_migration(params.text_document.uri)
        if opened is None:
            return None

        def build() -> list[types.DocumentSymbol]:
            from engine.analysis.files import parse_migration
            from engine.analysis.outline import outline  # pglast: imported on first use, like the analysis
            items = outline(parse_migration(opened.path, opened.text))
            return to_symbols(items, split_lines(opened.text), ls.encoding)

        return await asyncio.to_thread(build)

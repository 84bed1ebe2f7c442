"""Document symbols: the editor's outline of a migration, rollback statements nested under ROLLBACK."""

from __future__ import annotations

from lsprotocol import types

from tests.lsp.conftest import open_document, write

TEXT = """CREATE TABLE orders (id bigint PRIMARY KEY, note text);
CREATE INDEX orders_note_idx ON orders (note);

-- ROLLBACK:
-- DROP INDEX orders_note_idx;
-- DROP TABLE orders;
"""


async def test_the_outline_names_each_statement_and_nests_the_rollback(client, project_dir):
    assert client.server_capabilities.document_symbol_provider
    uri = open_document(client, write(project_dir, "2025-03-01_1000_orders.sql", TEXT))
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert [(s.name, s.kind) for s in symbols] == [
        ("CREATE TABLE orders", types.SymbolKind.Struct),
        ("CREATE INDEX orders_note_idx ON orders", types.SymbolKind.Key),
        ("ROLLBACK", types.SymbolKind.Namespace),
    ]
    assert (symbols[1].range.start.line, symbols[1].range.end.character) == (1, 45)
    rollback = symbols[-1]
    assert [(c.name, c.range.start.line, c.range.start.character) for c in rollback.children] == [
        ("DROP INDEX orders_note_idx", 4, 3), ("DROP TABLE orders", 5, 3)]

    def at(position: types.Position) -> tuple[int, int]:
        return position.line, position.character

    assert all(at(s.range.start) <= at(s.selection_range.start) and at(s.selection_range.end) <= at(s.range.end)
               for s in [*symbols, *rollback.children])


async def test_a_file_that_is_not_a_migration_has_no_outline(client, project_dir):
    other = project_dir / "notes.sql"
    other.write_text("SELECT 1;\n", encoding="utf-8")
    uri = open_document(client, other)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert symbols is None

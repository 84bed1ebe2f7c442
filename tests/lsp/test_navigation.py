"""Go to definition and find references for a table across the migrations: where it was created, its history."""

from __future__ import annotations

from lsprotocol import types

from tests.lsp.conftest import open_document, write

CREATE = "CREATE TABLE orders (id bigint PRIMARY KEY);\n\n-- ROLLBACK:\n-- DROP TABLE orders;\n"
ALTER = "ALTER TABLE orders ADD COLUMN note text;\n\n-- ROLLBACK:\n-- ALTER TABLE orders DROP COLUMN note;\n"
INDEX = "CREATE INDEX orders_note_idx ON public.orders (note);\n\n-- ROLLBACK:\n-- DROP INDEX orders_note_idx;\n"


def at(uri: str, line: int, character: int) -> dict:
    return {"text_document": types.TextDocumentIdentifier(uri=uri),
            "position": types.Position(line=line, character=character)}


async def test_definition_jumps_to_the_migration_that_created_the_table(client, project_dir):
    created = write(project_dir, "2025-03-01_1000_create_orders.sql", CREATE)
    write(project_dir, "2025-03-02_1000_add_note.sql", ALTER)
    uri = open_document(client, write(project_dir, "2025-03-03_1000_index_note.sql", INDEX))
    found = await client.text_document_definition_async(types.DefinitionParams(**at(uri, 0, 40)))
    assert found.uri == created.as_uri()
    assert (found.range.start.line, found.range.start.character, found.range.end.character) == (0, 13, 19)
    assert await client.text_document_definition_async(types.DefinitionParams(**at(uri, 0, 3))) is None


async def test_references_list_the_table_s_history_across_files_and_rollbacks(client, project_dir):
    write(project_dir, "2025-03-01_1000_create_orders.sql", CREATE)
    write(project_dir, "2025-03-03_1000_index_note.sql", INDEX)
    uri = open_document(client, write(project_dir, "2025-03-02_1000_add_note.sql", ALTER))
    found = await client.text_document_references_async(types.ReferenceParams(
        **at(uri, 0, 14), context=types.ReferenceContext(include_declaration=True)))
    places = [(location.uri.rsplit("/", 1)[1], location.range.start.line) for location in found]
    assert places == [("2025-03-01_1000_create_orders.sql", 0), ("2025-03-01_1000_create_orders.sql", 3),
                      ("2025-03-02_1000_add_note.sql", 0), ("2025-03-02_1000_add_note.sql", 3),
                      ("2025-03-03_1000_index_note.sql", 0)]
    without = await client.text_document_references_async(types.ReferenceParams(
        **at(uri, 0, 14), context=types.ReferenceContext(include_declaration=False)))
    assert len(without) == len(found) - 1


async def test_unsaved_edits_of_open_documents_count(client, project_dir):
    write(project_dir, "2025-03-01_1000_create_orders.sql", "-- nothing yet\n")
    other = open_document(client, project_dir / "migrations" / "2025-03-01_1000_create_orders.sql", CREATE)
    uri = open_document(client, write(project_dir, "2025-03-02_1000_add_note.sql", ALTER))
    found = await client.text_document_definition_async(types.DefinitionParams(**at(uri, 0, 14)))
    assert found.uri == other

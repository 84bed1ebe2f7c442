"""Hover shows a rule's documentation where it fires and on the ids of a `-- pgshift-ignore` comment."""

from __future__ import annotations

from lsprotocol import types

from tests.lsp.conftest import codes, open_document, wait_for_diagnostics, write

TEXT = """CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);
-- pgshift-ignore require-concurrent-index-creation: orders is created empty by the release before
CREATE INDEX orders_id_idx ON orders (id);

-- ROLLBACK:
-- DROP INDEX orders_id_idx;
-- DROP INDEX orders_note_idx;
"""


async def hover(client, uri: str, line: int, character: int) -> types.Hover | None:
    return await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=character)))


async def test_hovering_a_finding_shows_its_rule_with_examples(client, project_dir):
    assert client.server_capabilities.hover_provider
    uri = open_document(client, write(project_dir, "2025-03-01_1000_indexes.sql", TEXT))
    shown = await hover(client, uri, 0, 20)
    assert shown is not None and shown.contents.kind == types.MarkupKind.Markdown
    text = shown.contents.value
    assert "### ban-concurrent-index-creation-in-transaction" in text
    assert "Instead of:" in text and "-- pgshift: no-transaction" in text


async def test_hovering_an_ignore_comment_explains_the_rule_it_silences(client, project_dir):
    uri = open_document(client, write(project_dir, "2025-03-01_1000_indexes.sql", TEXT))
    shown = await hover(client, uri, 1, 30)
    assert shown is not None
    assert shown.contents.value.startswith("### require-concurrent-index-creation")
    assert await hover(client, uri, 5, 5) is None  # a rollback line with nothing to say


async def test_hovering_a_finding_that_is_not_a_rule_explains_it_too(client, project_dir):
    """file-name and rollback-not-commented come from the file format, not from a rule: documented all the same."""
    path = write(project_dir, "add_note.sql", "ALTER TABLE orders ADD COLUMN note text;\n-- ROLLBACK:\n"
                                              "ALTER TABLE orders DROP COLUMN note;\n")
    uri = open_document(client, path)
    await wait_for_diagnostics(client, uri, lambda shown: {"file-name", "rollback-not-commented"} <= codes(shown))
    on_name = await hover(client, uri, 0, 0)
    on_rollback = await hover(client, uri, 2, 5)
    assert on_name is not None and "### file-name\n" in on_name.contents.value
    assert "YYYY-MM-DD_HHMM_description.sql" in on_name.contents.value
    assert on_rollback is not None and "### rollback-not-commented\n" in on_rollback.contents.value

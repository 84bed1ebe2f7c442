"""The editor shows what `check` shows for text PostgreSQL cannot receive, and honours ROLLBACK-block ignores."""

from __future__ import annotations

from lsprotocol import types

from tests.lsp.conftest import codes, open_document, wait_for_diagnostics, write

NAME = "2024-05-01_1200_create_users.sql"


async def test_a_nul_byte_is_an_error_at_its_place_in_the_editor(client, project_dir):
    path = write(project_dir, NAME, "CREATE TABLE t (id int);\n-- a\x00b\n-- ROLLBACK:\n-- DROP TABLE t;\n")
    uri = open_document(client, path)
    diagnostics = await wait_for_diagnostics(client, uri, lambda d: "file-encoding" in codes(d))
    [nul] = [d for d in diagnostics if d.code == "file-encoding"]
    assert nul.range.start == types.Position(line=1, character=4)
    assert nul.severity == types.DiagnosticSeverity.Error and "NUL byte" in nul.message


async def test_an_ignore_comment_in_the_rollback_block_silences_the_editor_too(client, project_dir):
    text = ("CREATE TABLE t (id int);\n-- ROLLBACK:\n-- pgshift-ignore psql-meta-command: restored by hand\n"
            "-- \\i undo.sql\n-- DROP TABLE t;\n")
    path = write(project_dir, NAME, text)
    uri = open_document(client, path)
    diagnostics = await wait_for_diagnostics(client, uri)
    assert "psql-meta-command" not in codes(diagnostics) and "syntax-error" not in codes(diagnostics)

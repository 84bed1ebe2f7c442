"""Diagnostics as an editor receives them: exact ranges, codes, links; on open, change and close; big files."""

from __future__ import annotations

from lsprotocol import types

from tests.lsp.conftest import (change_document, codes, next_diagnostics, open_document, start, stop,
                                wait_for_diagnostics, wait_for_shown, write)

GOOD_NAME = "2024-05-01_1200_create_users.sql"


async def test_format_findings_arrive_on_open_at_exact_utf16_ranges(client, project_dir):
    # Line 3 holds an emoji: two UTF-16 code units, one Python character. The range must count it twice.
    text = "CREATE TABLE users (id bigint PRIMARY KEY);\n-- ROLLBACK:\nDROP TABLE \"😀users\";\n"
    path = write(project_dir, "create users.sql", text)
    uri = open_document(client, path)

    diagnostics = await wait_for_diagnostics(client, uri, lambda d: "rollback-not-commented" in codes(d))

    not_commented = next(d for d in diagnostics if d.code == "rollback-not-commented")
    assert not_commented.range == types.Range(start=types.Position(line=2, character=0),
                                              end=types.Position(line=2, character=len('DROP TABLE "users";') + 2))
    assert not_commented.severity == types.DiagnosticSeverity.Error
    assert not_commented.source == "pgshift"
    assert not_commented.code_description.href.endswith("#rollback-not-commented")
    assert "help: comment the line out" in not_commented.message
    bad_name = next(d for d in diagnostics if d.code == "file-name")
    assert bad_name.range.start == types.Position(line=0, character=0)
    assert "2024" not in bad_name.message or "naming convention" in bad_name.message


async def test_negotiated_utf8_positions_count_bytes(project_dir, database_url):
    # Neovim 0.11 offers utf-8 first; the server must then send byte columns. It pulls its diagnostics.
    client = await start(project_dir, database_url, capabilities="neovim@v0.11.0")
    try:
        path = write(project_dir, GOOD_NAME, "SELECT 1;\n-- ROLLBACK:\nDROP TABLE \"é\";\n")
        uri = open_document(client, path)
        diagnostics = await wait_for_shown(client, uri, lambda d: "rollback-not-commented" in codes(d))
        finding = next(d for d in diagnostics if d.code == "rollback-not-commented")
        assert finding.range.end == types.Position(line=2, character=len('DROP TABLE "é";'.encode("utf-8")))
    finally:
        await stop(client)


async def test_change_republishes_and_close_clears(client, project_dir):
    path = write(project_dir, GOOD_NAME, "CREATE TABLE t (id int);\n-- ROLLBACK:\n-- DROP TABLE t;\n")
    uri = open_document(client, path)
    first = await wait_for_diagnostics(client, uri)
    assert "rollback-not-commented" not in codes(first)

    # Several quick edits: the last text wins, whatever was published in between.
    for version, extra in enumerate(["D", "DR", "DROP TABLE t;"], start=2):
        change_document(client, uri, f"CREATE TABLE t (id int);\n-- ROLLBACK:\n{extra}\n", version)
    final = await wait_for_diagnostics(
        client, uri, lambda d: any(x.code == "rollback-not-commented" and x.range.end.character == 13 for x in d))
    assert [d.range.start.line for d in final if d.code == "rollback-not-commented"] == [2]

    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    assert list(await next_diagnostics(client, uri)) == []


async def test_files_outside_the_migrations_folder_get_nothing(client, project_dir):
    other = project_dir / "scratch.sql"
    other.write_text("-- ROLLBACK:\nnot commented\n", encoding="utf-8")
    open_document(client, other)
    inside = write(project_dir, GOOD_NAME, "SELECT 1;\n")
    uri = open_document(client, inside)
    await wait_for_diagnostics(client, uri)  # the second document is answered...
    assert other.as_uri() not in client.diagnostics  # ...and the first never was


async def test_a_file_with_5000_statements_gets_diagnostics(client, project_dir):
    body = "".join(f"ALTER TABLE big ADD COLUMN c{i} integer;\n" for i in range(5000))
    text = "CREATE TABLE big (id bigint);\n" + body + "-- ROLLBACK:\nDROP TABLE big;\n"
    path = write(project_dir, GOOD_NAME, text)
    uri = open_document(client, path)
    diagnostics = await wait_for_diagnostics(client, uri, lambda d: "rollback-not-commented" in codes(d))
    finding = next(d for d in diagnostics if d.code == "rollback-not-commented")
    assert finding.range.start.line == 5002

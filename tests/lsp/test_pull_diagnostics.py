"""Pull diagnostics: a client that declares `textDocument/diagnostic` asks for them and is told when to ask
again; one that cannot be told gets pushes; one without pull support keeps getting pushes only."""

from __future__ import annotations

from collections import Counter

from lsprotocol import types

from engine.database import runner
from tests.lsp.conftest import (change_document, codes, next_diagnostics, open_document, pull, pulling_capabilities,
                                start, stop, wait_for_diagnostics, wait_for_shown, write)

CREATE = "CREATE TABLE accounts (id bigint PRIMARY KEY);\n-- ROLLBACK:\n-- DROP TABLE accounts;\n"
EDITED = "CREATE TABLE accounts (id bigint PRIMARY KEY, name text);\n-- ROLLBACK:\n-- DROP TABLE accounts;\n"
NAME = "2024-05-01_1200_create_accounts.sql"


def shown_once(diagnostics) -> bool:
    return all(n == 1 for n in Counter((d.code, d.range.start.line) for d in diagnostics).values())


async def test_a_pulling_client_gets_a_provider_and_answers_without_pushes(project_dir):
    # No database and the files written first: nothing changes under the document but its text.
    path = write(project_dir, NAME, CREATE + "DROP TABLE accounts;\n")
    scratch = project_dir / "scratch.sql"
    scratch.write_text("-- ROLLBACK:\nnot commented\n", encoding="utf-8")
    client = await start(project_dir, None, capabilities=pulling_capabilities())
    try:
        provider = client.server_capabilities.diagnostic_provider
        assert provider.identifier == "pgshift" and provider.inter_file_dependencies is False
        uri = open_document(client, path)

        first = await pull(client, uri)
        not_commented = next(d for d in first if d.code == "rollback-not-commented")
        assert not_commented.range.start == types.Position(line=3, character=0)
        # Asked again with nothing changed: "unchanged", and the editor keeps what it has.
        result_id = client.pulled[uri][0]
        report = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=result_id))
        assert report.kind == "unchanged" and report.result_id == result_id

        # An edit is answered on the next pull, for exactly the new text.
        change_document(client, uri, CREATE, 2)
        assert "rollback-not-commented" not in codes(await pull(client, uri))
        # A file outside the migrations folder gets an empty report.
        assert await pull(client, open_document(client, scratch)) == []
        assert client.diagnostics == {}  # nothing was pushed
    finally:
        await stop(client)


async def test_a_database_change_makes_a_pulling_client_pull_again(project_dir, settings, database_url):
    client = await start(project_dir, database_url, capabilities=pulling_capabilities())
    try:
        path = write(project_dir, NAME, CREATE)
        uri = open_document(client, path, EDITED)  # an unsaved edit of a pending file: fine so far
        assert "applied-file-changed" not in codes(await pull(client, uri))

        runner.migrate(settings)  # as `pgshift migrate` in a terminal: the server notices on its next poll

        shown = await wait_for_shown(client, uri, lambda d: "applied-file-changed" in codes(d))
        assert client.diagnostic_refresh_count >= 1
        assert uri not in client.diagnostics and shown_once(shown)  # pulled, never pushed
    finally:
        await stop(client)


async def test_a_client_that_pulls_but_cannot_refresh_gets_the_change_pushed_once(project_dir, settings,
                                                                                   database_url):
    # Neovim 0.11 pulls but does not take workspace/diagnostic/refresh.
    client = await start(project_dir, database_url, capabilities="neovim@v0.11.0")
    try:
        assert client.server_capabilities.diagnostic_provider.identifier == "pgshift"
        path = write(project_dir, NAME, CREATE)
        uri = open_document(client, path, EDITED)
        assert "applied-file-changed" not in codes(await pull(client, uri))

        runner.migrate(settings)

        pushed = await wait_for_diagnostics(client, uri, lambda d: "applied-file-changed" in codes(d))
        assert client.diagnostic_refresh_count == 0
        # What the editor shows, pulled and pushed together, holds each finding once.
        assert await pull(client, uri) == []
        assert shown_once(list(pushed) + client.pulled[uri][1])
        # From now on this document's edits are pushed too, and closing it clears them.
        change_document(client, uri, CREATE, 2)
        await wait_for_diagnostics(client, uri, lambda d: "applied-file-changed" not in codes(d))
        client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        assert list(await next_diagnostics(client, uri)) == []
    finally:
        await stop(client)


async def test_a_client_without_pull_support_is_offered_no_provider_and_gets_pushes(project_dir, database_url):
    client = await start(project_dir, database_url, capabilities="neovim@v0.9.1")
    try:
        assert client.server_capabilities.diagnostic_provider is None
        path = write(project_dir, NAME, CREATE + "DROP TABLE accounts;\n")
        uri = open_document(client, path)
        await wait_for_diagnostics(client, uri, lambda d: "rollback-not-commented" in codes(d))
    finally:
        await stop(client)

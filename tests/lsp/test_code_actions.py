"""Code actions as an editor applies them: rename, add the ROLLBACK block, suppress a rule, new migration."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import client_capabilities

from tests.lsp.conftest import (change_document, codes, open_document, start, stop, wait_for_diagnostics,
                                write)

EVERYTHING = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=10_000, character=0))


async def actions(client, uri: str, range_: types.Range = EVERYTHING, only=None) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=range_,
        context=types.CodeActionContext(diagnostics=[], only=only)))
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


def apply_text_edits(text: str, edits: list[types.TextEdit], newline: str = "\n") -> str:
    """Apply edits the way an editor does (ASCII test texts, so columns are characters)."""
    lines = text.split(newline)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)

    def at(position: types.Position) -> int:
        return offsets[position.line] + position.character if position.line < len(lines) else len(text)

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:at(edit.range.start)] + edit.new_text + text[at(edit.range.end):]
    return text


def edits_of(action: types.CodeAction) -> list[types.TextEdit]:
    change = action.edit.document_changes[0]
    assert isinstance(change, types.TextDocumentEdit)
    return list(change.edits)


async def test_a_badly_named_file_is_renamed_with_a_rename_file_change(client, project_dir):
    path = write(project_dir, "20240501120000_add users.sql", "SELECT 1;\n-- ROLLBACK:\n-- SELECT 1;\n")
    uri = open_document(client, path)
    await wait_for_diagnostics(client, uri, lambda d: "file-name" in codes(d))

    rename = next(a for a in await actions(client, uri) if a.title.startswith("Rename to"))

    assert rename.kind == types.CodeActionKind.QuickFix
    change = rename.edit.document_changes[0]
    assert isinstance(change, types.RenameFile)
    assert change.old_uri == uri
    assert change.new_uri == (project_dir / "migrations" / "2024-05-01_1200_add_users.sql").as_uri()


BAD_NAME, GOOD_NAME = "20240501120000_add users.sql", "2024-05-01_1200_add_users.sql"


async def test_neovim_gets_a_rename_file_change_so_its_buffer_follows(project_dir, database_url):
    # Neovim lists rename among its resource operations without declaring documentChanges: the client renames,
    # and moves its buffer to the new name, only when it gets the RenameFile change.
    client = await start(project_dir, database_url, capabilities="neovim@v0.7.0")
    try:
        path = write(project_dir, BAD_NAME, "SELECT 1;\n-- ROLLBACK:\n-- SELECT 1;\n")
        uri = open_document(client, path)
        await wait_for_diagnostics(client, uri, lambda d: "file-name" in codes(d))  # 0.7 does not pull
        rename = next(a for a in await actions(client, uri) if a.title.startswith("Rename to"))
        assert rename.command is None
        [change] = rename.edit.document_changes
        assert isinstance(change, types.RenameFile)
        assert (change.old_uri, change.new_uri) == (uri, (project_dir / "migrations" / GOOD_NAME).as_uri())
    finally:
        await stop(client)


def with_show_document(base: str) -> types.ClientCapabilities:
    capabilities = client_capabilities(base)
    capabilities.window = capabilities.window or types.WindowClientCapabilities()
    capabilities.window.show_document = types.ShowDocumentClientCapabilities(support=True)
    return capabilities


@pytest.mark.parametrize("shows_documents", [True, False], ids=["showDocument", "no showDocument"])
async def test_without_resource_operations_the_rename_command_renames_and_says_so(project_dir, database_url,
                                                                                   shows_documents):
    # eglot (Emacs 29) declares documentChanges but no resource operations, and no showDocument; newer eglot
    # versions show documents.
    capabilities = with_show_document("emacs") if shows_documents else "emacs"
    client = await start(project_dir, database_url, capabilities=capabilities)
    try:
        path = write(project_dir, BAD_NAME, "SELECT 1;\n-- ROLLBACK:\n-- SELECT 1;\n")
        uri = open_document(client, path)
        change_document(client, uri, "SELECT 2;\n-- ROLLBACK:\n-- SELECT 2;\n", 2)  # unsaved, and kept
        await wait_for_diagnostics(client, uri, lambda d: "file-name" in codes(d))
        rename = next(a for a in await actions(client, uri) if a.title.startswith("Rename to"))
        assert rename.edit is None and rename.command.command == "pgshift.renameFile"

        result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command=rename.command.command, arguments=rename.command.arguments))

        target = project_dir / "migrations" / GOOD_NAME
        assert result["ok"] and target.read_text(encoding="utf-8").startswith("SELECT 2;")
        assert not path.exists()
        said = client.messages[-1].message
        assert said.startswith(f"pgshift: renamed {BAD_NAME} to {GOOD_NAME}")
        assert "created" not in said
        assert f"Close {BAD_NAME} without saving it" in said
        if shows_documents:
            assert result["shown"] and client.shown_documents[-1].uri == target.as_uri()
            assert client.shown_documents[-1].take_focus
            assert "it is open now" in said
        else:
            assert not result["shown"] and client.shown_documents == []
            assert f"open {GOOD_NAME}" in said

        # The editor moves on to the new file: it has no file-name finding, and the old one is gone for good.
        client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        new_uri = open_document(client, target)
        assert "file-name" not in codes(await wait_for_diagnostics(client, new_uri))
        assert sorted(p.name for p in (project_dir / "migrations").iterdir()) == [GOOD_NAME]
    finally:
        await stop(client)


async def test_a_rename_onto_an_existing_file_changes_nothing(client, project_dir):
    path = write(project_dir, BAD_NAME, "SELECT 1;\n-- ROLLBACK:\n-- SELECT 1;\n")
    taken = write(project_dir, GOOD_NAME, "SELECT 3;\n-- ROLLBACK:\n-- SELECT 3;\n")

    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="pgshift.renameFile", arguments=[path.as_uri(), taken.as_uri()]))

    assert result == {"ok": False}
    assert f"{GOOD_NAME} exists already; nothing was changed" in client.messages[-1].message
    assert path.read_text(encoding="utf-8") == "SELECT 1;\n-- ROLLBACK:\n-- SELECT 1;\n"
    assert taken.read_text(encoding="utf-8") == "SELECT 3;\n-- ROLLBACK:\n-- SELECT 3;\n"


async def test_a_missing_rollback_block_is_added_with_the_inferred_inverse(client, project_dir):
    text = "CREATE TABLE invoices (id bigint PRIMARY KEY);\n"
    path = write(project_dir, "2024-05-01_1200_create_invoices.sql", text)
    uri = open_document(client, path)
    await wait_for_diagnostics(client, uri, lambda d: "missing-rollback" in codes(d))

    add = next(a for a in await actions(client, uri) if "ROLLBACK" in a.title)

    fixed = apply_text_edits(text, edits_of(add))
    assert fixed.startswith(text)
    assert "-- ROLLBACK:\n-- DROP TABLE invoices;" in fixed
    # The fixed text is clean of that finding.
    from engine.analysis.lint import check_text
    assert "missing-rollback" not in {f.code for f in check_text(path, fixed)}


async def test_a_rule_is_suppressed_on_the_line_before_its_statement(client, project_dir):
    text = ("-- pgshift: nothing special\nCREATE INDEX orders_customer\n    ON orders (customer_id);\n"
            "-- ROLLBACK:\n-- DROP INDEX orders_customer;\n")
    path = write(project_dir, "2024-05-01_1200_index_orders.sql", text)
    uri = open_document(client, path)
    diagnostics = await wait_for_diagnostics(client, uri, lambda d: any(x.range.start.line >= 1 for x in d))
    rule = next(d for d in diagnostics if d.code not in ("missing-rollback", "file-name"))

    suppress = next(a for a in await actions(client, uri, rule.range)
                    if a.title == f"Ignore {rule.code} for this statement")

    fixed = apply_text_edits(text, edits_of(suppress))
    assert fixed.split("\n")[1] == f"-- pgshift-ignore {rule.code}: <why this is safe here>"
    from engine.analysis.lint import check_text
    assert rule.code not in {f.code for f in check_text(path, fixed)}


async def test_new_migration_source_action_creates_and_fills_a_file(client, project_dir):
    existing = write(project_dir, "2024-05-01_1200_create_invoices.sql", "SELECT 1;\n-- ROLLBACK:\n-- SELECT 1;\n")
    uri = open_document(client, existing)

    new = next(a for a in await actions(client, uri, only=["source"]) if a.title == "New migration")

    create, fill = new.edit.document_changes
    assert isinstance(create, types.CreateFile) and create.uri.endswith("_new_migration.sql")
    assert fill.text_document.uri == create.uri
    assert "-- ROLLBACK:" in fill.edits[0].new_text
    assert new.command.command == "pgshift.open" and list(new.command.arguments) == [create.uri]


async def test_new_migration_command_writes_the_file_and_opens_it(client, project_dir):
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="pgshift.new", arguments=["add invoice due date"]))

    made = Path(result["path"])
    assert made.parent == project_dir / "migrations" and made.name.endswith("_add_invoice_due_date.sql")
    assert "-- ROLLBACK:" in made.read_text(encoding="utf-8")
    assert client.shown_documents[-1].uri == result["uri"]

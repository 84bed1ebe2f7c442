"""Commands from the editor: migrate updates lenses and diagnostics; rollback runs only when the user agrees."""

from __future__ import annotations

from lsprotocol import types
from pytest_lsp import LanguageClient

from engine.database import runner
from engine.database.status import State, list_migrations
from tests.lsp.conftest import READING, change_document, codes, open_document, wait_for_diagnostics, write

CREATE = "CREATE TABLE accounts (id bigint PRIMARY KEY);\n-- ROLLBACK:\n-- DROP TABLE accounts;\n"


async def lens_titles(client, uri: str) -> list[str]:
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    return [lens.command.title for lens in lenses or []]


async def test_migrate_command_applies_and_the_lens_and_diagnostics_follow(client, project_dir, settings):
    path = write(project_dir, "2024-05-01_1200_create_accounts.sql", CREATE)
    uri = open_document(client, path)
    await wait_for_diagnostics(client, uri)
    # The first database read may still be on its way: ask until the lens knows the state.
    titles = await lens_titles(client, uri)
    while titles[0] == READING:
        await wait_for_diagnostics(client, uri)
        titles = await lens_titles(client, uri)
    assert titles[:2] == ["pending", "Apply pending"]

    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="pgshift.migrate"))

    assert result["ok"] and [a["version"] for a in result["applied"]] == ["2024-05-01_1200_create_accounts"]
    assert list_migrations(settings).migrations[0].state is State.APPLIED
    titles = await lens_titles(client, uri)
    assert titles[0].startswith("applied 20") and titles[1] == "Roll back"
    assert client.code_lens_refreshes >= 1
    # Progress was reported while it ran.
    assert any(any(isinstance(v, types.WorkDoneProgressEnd) for v in values)
               for values in client.progress_reports.values())
    # Editing the now-applied file is an error straight away.
    change_document(client, uri, CREATE.replace("PRIMARY KEY", "PRIMARY KEY, name text"), 2)
    await wait_for_diagnostics(client, uri, lambda d: "applied-file-changed" in codes(d))


def answer_with(client, title: str | None) -> list[types.ShowMessageRequestParams]:
    asked: list[types.ShowMessageRequestParams] = []

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def show_message_request(client: LanguageClient, params: types.ShowMessageRequestParams):
        asked.append(params)
        return None if title is None else types.MessageActionItem(title=title)

    return asked


async def test_rollback_declined_changes_nothing(client, project_dir, settings):
    write(project_dir, "2024-05-01_1200_create_accounts.sql", CREATE)
    runner.migrate(settings)
    asked = answer_with(client, "Cancel")

    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="pgshift.rollback"))

    assert result["cancelled"] is True
    assert "2024-05-01_1200_create_accounts" in asked[0].message
    assert "DROP TABLE accounts;" in asked[0].message  # exactly what would run
    assert [a.title for a in asked[0].actions] == ["Roll back", "Cancel"]
    assert list_migrations(settings).migrations[0].state is State.APPLIED


async def test_rollback_accepted_rolls_back_and_the_lens_follows(client, project_dir, settings):
    path = write(project_dir, "2024-05-01_1200_create_accounts.sql", CREATE)
    runner.migrate(settings)
    uri = open_document(client, path)
    asked = answer_with(client, "Roll back")

    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="pgshift.rollback", arguments=[{"steps": 1}]))

    assert result == {"ok": True, "database": result["database"], "rolled_back": ["2024-05-01_1200_create_accounts"]}
    assert len(asked) == 1
    assert list_migrations(settings).migrations[0].state is State.PENDING
    assert (await lens_titles(client, uri))[0] == "pending"


async def test_list_returns_the_state_of_every_migration(client, project_dir, settings):
    write(project_dir, "2024-05-01_1200_create_accounts.sql", CREATE)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="pgshift.list"))
    assert [(m["version"], m["state"]) for m in result["migrations"]] == [("2024-05-01_1200_create_accounts",
                                                                           "pending")]

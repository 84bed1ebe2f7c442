"""Projects below the workspace root and multi-root workspaces: each document uses its own project's settings,
database state and commands."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from engine.database import runner
from engine.config import load_settings
from engine.database.status import State, list_migrations
from tests.lsp.conftest import (READING, change_document, codes, open_document, start, stop, wait_for_diagnostics,
                                wait_for_message)

CREATE = "CREATE TABLE accounts (id bigint PRIMARY KEY);\n-- ROLLBACK:\n-- DROP TABLE accounts;\n"
EDITED = "CREATE TABLE accounts (id bigint PRIMARY KEY, name text);\n-- ROLLBACK:\n-- DROP TABLE accounts;\n"
NAME = "2024-05-01_1200_create_accounts.sql"


def make_project(folder: Path, config: str) -> Path:
    """A pgshift project in `folder` (pgshift.toml holding `config`) with an empty migrations folder."""
    (folder / "migrations").mkdir(parents=True)
    (folder / "pgshift.toml").write_text(config, encoding="utf-8")
    return folder


async def lenses(client, uri: str) -> list[types.CodeLens]:
    return await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri))) or []


async def known_lenses(client, uri: str) -> list[types.CodeLens]:
    """The lenses once the document's project has read its database (asked again after each round trip)."""
    found = await lenses(client, uri)
    while found[0].command.title == READING:
        await wait_for_diagnostics(client, uri)
        found = await lenses(client, uri)
    return found


async def run(client, command: types.Command):
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command.command, arguments=command.arguments))


async def test_a_project_in_a_subfolder_of_the_workspace_is_found(tmp_path, database_url):
    # The Node layout: the repository root is opened, pgshift lives in backend/ with its own tracking table.
    backend = make_project(tmp_path / "backend", 'tracking_table = "app.schema_migrations"\n')
    backend_settings = load_settings(backend, database_url=database_url, environ={})
    client = await start(tmp_path, database_url)
    try:
        migration = backend / "migrations" / NAME
        migration.write_text(CREATE, encoding="utf-8")
        (backend / "migrations" / "archive").mkdir()
        archived = backend / "migrations" / "archive" / NAME
        archived.write_text("-- ROLLBACK:\nnot commented\n", encoding="utf-8")
        open_document(client, archived)
        uri = open_document(client, migration, CREATE + "DROP TABLE accounts;\n")

        diagnostics = await wait_for_diagnostics(client, uri, lambda d: "rollback-not-commented" in codes(d))
        assert next(d for d in diagnostics if d.code == "rollback-not-commented").range.start.line == 3
        assert archived.as_uri() not in client.diagnostics  # not directly in the migrations folder

        # Its database state is read with backend's settings (its tracking table, not the default one).
        runner.migrate(backend_settings)
        change_document(client, uri, EDITED, 2)
        await wait_for_diagnostics(client, uri, lambda d: "applied-file-changed" in codes(d))
        change_document(client, uri, CREATE, 3)
        found = await known_lenses(client, uri)
        assert found[0].command.title.startswith("applied 20")

        # Its lens commands run on backend: rolling back asks about backend's migration and removes it there.
        roll_back = next(lens.command for lens in found if lens.command.title == "Roll back")
        asked = []

        @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
        def answer(client: LanguageClient, params: types.ShowMessageRequestParams):
            asked.append(params.message)
            return types.MessageActionItem(title="Roll back")

        result = await run(client, roll_back)
        assert result["rolled_back"] == ["2024-05-01_1200_create_accounts"] and NAME[:-4] in asked[0]
        assert list_migrations(backend_settings).migrations[0].state is State.PENDING

        # A command without a document uses the only project documents were opened in.
        listed = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="pgshift.list"))
        assert [m["version"] for m in listed["migrations"]] == [NAME[:-4]]

        # Editing backend's config applies to its open documents at once (its config file is watched).
        change_document(client, uri, "CREATE TABLE accounts (id bigint PRIMARY KEY);\n", 4)
        await wait_for_diagnostics(client, uri, lambda d: "missing-rollback" in codes(d))
        (backend / "pgshift.toml").write_text('tracking_table = "app.schema_migrations"\n[rules]\n'
                                              'missing-rollback = "off"\n', encoding="utf-8")
        await wait_for_diagnostics(client, uri, lambda d: "missing-rollback" not in codes(d))
    finally:
        await stop(client)


async def test_without_a_project_below_it_the_workspace_root_settings_apply(tmp_path, database_url):
    backend = make_project(tmp_path / "backend", "")
    (tmp_path / "migrations").mkdir()
    root_file = tmp_path / "migrations" / NAME
    root_file.write_text("CREATE TABLE t (id int);\n", encoding="utf-8")
    client = await start(tmp_path, database_url)
    try:
        uri = open_document(client, root_file)
        assert "missing-rollback" in codes(await wait_for_diagnostics(client, uri))
        backend_file = backend / "migrations" / "2024-05-02_1200_create_b.sql"
        backend_file.write_text("CREATE TABLE b (id int);\n", encoding="utf-8")
        backend_uri = open_document(client, backend_file)
        assert "missing-rollback" in codes(await wait_for_diagnostics(client, backend_uri))

        # Two projects seen: a command without a document uses the workspace root's.
        listed = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="pgshift.list"))
        assert [m["version"] for m in listed["migrations"]] == [NAME[:-4]]
    finally:
        await stop(client)


async def test_each_folder_of_a_multi_root_workspace_is_its_own_project(tmp_path, database_url):
    shop = make_project(tmp_path / "shop", 'tracking_table = "shop.migrations"\n[rules]\nmissing-rollback = "off"\n')
    blog = make_project(tmp_path / "blog", 'tracking_table = "blog.migrations"\n')
    client = await start(shop, database_url, folders=[shop, blog])
    try:
        shop_uri = open_document(client, _write(shop, "CREATE TABLE accounts (id bigint PRIMARY KEY);\n"))
        blog_uri = open_document(client, _write(blog, "CREATE TABLE accounts (id bigint PRIMARY KEY);\n"))
        # Each folder's rules: shop turned missing-rollback off, blog did not.
        assert "missing-rollback" in codes(await wait_for_diagnostics(client, blog_uri))
        assert "missing-rollback" not in codes(await wait_for_diagnostics(client, shop_uri))

        # The same file name, applied in shop only (its own tracking table): only shop's buffer is "applied".
        posts = CREATE.replace("accounts", "posts")
        _write(shop, CREATE)
        _write(blog, posts)
        shop_settings = load_settings(shop, database_url=database_url, environ={})
        runner.migrate(shop_settings)
        change_document(client, shop_uri, EDITED, 2)
        change_document(client, blog_uri, EDITED.replace("accounts", "posts"), 2)
        await wait_for_diagnostics(client, shop_uri, lambda d: "applied-file-changed" in codes(d))
        blog_lenses = await known_lenses(client, blog_uri)
        assert blog_lenses[0].command.title == "pending"
        assert "applied-file-changed" not in codes(client.diagnostics[blog_uri])

        # blog's "Apply pending" lens applies blog's migration to blog's tracking table.
        change_document(client, blog_uri, posts, 3)
        apply = next(lens.command for lens in blog_lenses if lens.command.title == "Apply pending")
        result = await run(client, apply)
        assert result.get("ok", True), result
        assert [a["version"] for a in result["applied"]] == [NAME[:-4]]
        blog_settings = load_settings(blog, database_url=database_url, environ={})
        assert list_migrations(blog_settings).migrations[0].state is State.APPLIED
    finally:
        await stop(client)


async def test_a_broken_config_in_a_subfolder_project_is_reported_once(tmp_path, database_url):
    backend = make_project(tmp_path / "backend", "")
    client = await start(tmp_path, database_url)
    try:
        migration = backend / "migrations" / NAME
        migration.write_text(CREATE, encoding="utf-8")
        uri = open_document(client, migration)
        await wait_for_diagnostics(client, uri)
        (backend / "pgshift.toml").write_text("[rules\n", encoding="utf-8")
        broken = await wait_for_message(client, lambda m: "invalid TOML" in m.message)
        assert "backend" in broken.message and "keeping the settings in use" in broken.message
        # The document keeps its project and its checks.
        change_document(client, uri, CREATE + "DROP TABLE accounts;\n", 2)
        await wait_for_diagnostics(client, uri, lambda d: "rollback-not-commented" in codes(d))
    finally:
        await stop(client)


def _write(project: Path, text: str) -> Path:
    path = project / "migrations" / NAME
    path.write_text(text, encoding="utf-8")
    return path

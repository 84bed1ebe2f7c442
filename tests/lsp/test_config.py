"""Editing [tool.pgshift] while the server runs: new settings apply, a broken file is reported once."""

from __future__ import annotations

from tests.lsp.conftest import (change_document, codes, open_document, start, stop, wait_for_diagnostics,
                                wait_for_message, write)

NO_ROLLBACK = "CREATE TABLE accounts (id bigint PRIMARY KEY);\n"


async def test_a_broken_pyproject_is_reported_once_and_file_checks_go_on(project_dir, database_url):
    pyproject = project_dir / "pyproject.toml"
    pyproject.write_text('[tool.pgshift]\nmigrations_dir = "migrations"\n', encoding="utf-8")
    client = await start(project_dir, database_url)
    try:
        path = write(project_dir, "2024-05-01_1200_create_accounts.sql", NO_ROLLBACK)
        uri = open_document(client, path)
        await wait_for_diagnostics(client, uri, lambda d: "missing-rollback" in codes(d))

        # Half-typed, saved twice: one message, not one per save.
        pyproject.write_text('[tool.pgshift\nmigrations_dir = "migrations"\n', encoding="utf-8")
        broken = await wait_for_message(client, lambda m: "invalid TOML" in m.message)
        assert "pyproject.toml" in broken.message and "keeping the settings in use" in broken.message
        pyproject.write_text('[tool.pgshift\nmigrations_dir = "migrations"\n\n', encoding="utf-8")

        # The server goes on answering with the settings it had.
        change_document(client, uri, NO_ROLLBACK + "-- ROLLBACK:\nDROP TABLE accounts;\n", 2)
        await wait_for_diagnostics(client, uri, lambda d: "rollback-not-commented" in codes(d))

        # Fixed, with a rule turned off: the new settings apply to the open document at once.
        pyproject.write_text('[tool.pgshift]\nmigrations_dir = "migrations"\n\n[tool.pgshift.rules]\n'
                             'missing-rollback = "off"\n', encoding="utf-8")
        await wait_for_message(client, lambda m: m.message == "pgshift: configuration loaded")
        change_document(client, uri, NO_ROLLBACK, 3)
        await wait_for_diagnostics(client, uri, lambda d: "missing-rollback" not in codes(d))
        assert sum("invalid TOML" in m.message for m in client.messages) == 1
    finally:
        await stop(client)


async def test_a_document_that_stops_being_a_migration_loses_its_diagnostics(project_dir, database_url):
    (project_dir / "pyproject.toml").write_text('[tool.pgshift]\nmigrations_dir = "migrations"\n', encoding="utf-8")
    client = await start(project_dir, database_url)
    try:
        path = write(project_dir, "2024-05-01_1200_create_accounts.sql", NO_ROLLBACK)
        uri = open_document(client, path)
        await wait_for_diagnostics(client, uri, lambda d: "missing-rollback" in codes(d))

        (project_dir / "db").mkdir()
        (project_dir / "pyproject.toml").write_text('[tool.pgshift]\nmigrations_dir = "db"\n', encoding="utf-8")
        # Not in the migrations folder any more: nothing pgshift said about it may linger in the editor.
        assert list(await wait_for_diagnostics(client, uri, lambda d: not d)) == []
    finally:
        await stop(client)


async def test_a_setting_of_the_wrong_type_is_shown_with_its_key_and_file(project_dir, database_url):
    pyproject = project_dir / "pyproject.toml"
    pyproject.write_text('[tool.pgshift]\nallow_rollback = "false"\n', encoding="utf-8")
    client = await start(project_dir, database_url)
    try:
        uri = open_document(client, write(project_dir, "2024-05-01_1200_create_accounts.sql", NO_ROLLBACK))
        shown = await wait_for_message(client, lambda m: "allow_rollback" in m.message)
        assert f"{pyproject}: allow_rollback must be true or false (without quotes), not a string" in shown.message
        await wait_for_diagnostics(client, uri, lambda d: "missing-rollback" in codes(d))  # file checks go on
    finally:
        await stop(client)

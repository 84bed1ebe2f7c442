"""What the database knows shows up in the editor: edited applied files, out-of-order files, terminal
migrations, and a database that goes away mid-session."""

from __future__ import annotations

import subprocess
import sys

import psycopg
from lsprotocol import types

from engine.database import runner
from tests.lsp.conftest import (REPO, change_document, codes, open_document, server_env, start, stop,
                                wait_for_diagnostics, wait_for_message, write)

CREATE = "CREATE TABLE accounts (id bigint PRIMARY KEY);\n-- ROLLBACK:\n-- DROP TABLE accounts;\n"
EDITED = "CREATE TABLE accounts (id bigint PRIMARY KEY, name text);\n-- ROLLBACK:\n-- DROP TABLE accounts;\n"


async def test_an_edited_applied_migration_is_an_error(client, project_dir, settings):
    path = write(project_dir, "2024-05-01_1200_create_accounts.sql", CREATE)
    runner.migrate(settings)
    uri = open_document(client, path, EDITED)

    diagnostics = await wait_for_diagnostics(client, uri, lambda d: "applied-file-changed" in codes(d))

    changed = next(d for d in diagnostics if d.code == "applied-file-changed")
    assert changed.severity == types.DiagnosticSeverity.Error
    assert changed.message.startswith("applied on ")
    assert "never edit an applied migration — write a new one" in changed.message
    assert changed.range.start == types.Position(line=0, character=0)

    # Putting the applied text back clears it; only the ROLLBACK block may change.
    change_document(client, uri, CREATE.replace("-- DROP TABLE accounts;", "-- DROP TABLE IF EXISTS accounts;"), 2)
    await wait_for_diagnostics(client, uri, lambda d: "applied-file-changed" not in codes(d))


async def test_a_pending_file_older_than_the_newest_applied_warns_out_of_order(client, project_dir, settings):
    write(project_dir, "2024-05-02_1200_create_accounts.sql", CREATE)
    runner.migrate(settings)
    late = write(project_dir, "2024-05-01_0900_create_orders.sql",
                 "CREATE TABLE orders (id bigint);\n-- ROLLBACK:\n-- DROP TABLE orders;\n")
    uri = open_document(client, late)

    diagnostics = await wait_for_diagnostics(client, uri, lambda d: "out-of-order" in codes(d))

    warning = next(d for d in diagnostics if d.code == "out-of-order")
    assert warning.severity == types.DiagnosticSeverity.Warning
    assert "2024-05-02_1200_create_accounts" in warning.message


async def test_a_migration_run_in_a_terminal_shows_up_without_touching_the_editor(client, project_dir,
                                                                                  database_url):
    path = write(project_dir, "2024-05-01_1200_create_accounts.sql", CREATE)
    uri = open_document(client, path, EDITED)  # an unsaved edit of a still-pending file: fine for now
    first = await wait_for_diagnostics(client, uri)
    assert "applied-file-changed" not in codes(first)

    done = subprocess.run([sys.executable, "-m", "server", "-C", str(project_dir), "migrate"],
                          env=server_env(database_url), cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    # The server polls the tracking table: the file on disk was applied, so the buffer now differs from it.
    await wait_for_diagnostics(client, uri, lambda d: "applied-file-changed" in codes(d))


async def test_the_database_going_away_keeps_file_checks_working(project_dir, settings, database_url, server_url):
    # The URL carries a password (the test servers trust local connections and ignore it): it must never show.
    client = await start(project_dir, psycopg.conninfo.make_conninfo(database_url, password="s3cret-pw"))
    try:
        await _database_goes_away(client, project_dir, settings, database_url, server_url)
    finally:
        await stop(client)


async def _database_goes_away(client, project_dir, settings, database_url, server_url):
    path = write(project_dir, "2024-05-01_1200_create_accounts.sql", CREATE)
    runner.migrate(settings)
    uri = open_document(client, path, EDITED)
    await wait_for_diagnostics(client, uri, lambda d: "applied-file-changed" in codes(d))

    name = psycopg.conninfo.conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

    warning = await wait_for_message(client, lambda m: "cannot read migration state" in m.message)
    assert warning.type == types.MessageType.Warning
    assert "s3cret-pw" not in warning.message

    # Static checks go on: a new problem typed now is reported; the database's verdict is withdrawn.
    change_document(client, uri, EDITED + "DROP TABLE accounts;\n", 2)
    diagnostics = await wait_for_diagnostics(client, uri, lambda d: "rollback-not-commented" in codes(d))
    assert "applied-file-changed" not in codes(diagnostics)
    # ...and the server still answers requests.
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    assert lenses[0].command.title == f'pgshift: database refused the connection (database "{name}" does not exist)'
    assert lenses[0].command.command == "pgshift.list"
    # It said so once, not on every poll or keystroke.
    assert sum("cannot read migration state" in m.message for m in client.messages) == 1
    assert not any("s3cret-pw" in m.message for m in client.messages)
    assert not any("s3cret-pw" in m.message for m in client.log_messages)

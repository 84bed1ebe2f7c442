"""The CodeLens says why there is no database state: not configured, not answering, unreachable, login refused.

Every lens, these included, runs a command the server registered (an empty command is no command: clicking it
fails in the editor).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Iterator

import psycopg
import pytest
from lsprotocol import types

from server.lsp import command_args
from tests.lsp.conftest import READING, WAIT_SECONDS, open_document, start, stop, write

CREATE = "CREATE TABLE accounts (id bigint PRIMARY KEY);\n-- ROLLBACK:\n-- DROP TABLE accounts;\n"


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A TCP port that takes connections and never says a word, as a hung host or a black-holing firewall."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def first_lens(client, uri: str) -> types.CodeLens:
    """The first lens once the first database read is over (asked again until then, within the usual bound)."""
    async def until() -> types.CodeLens:
        while True:
            lenses = await client.text_document_code_lens_async(types.CodeLensParams(
                text_document=types.TextDocumentIdentifier(uri=uri)))
            if lenses[0].command.title != READING:
                return lenses[0]
            await asyncio.sleep(0.1)
    return await asyncio.wait_for(until(), WAIT_SECONDS)


async def lens_with(project_dir, database_url: str | None) -> types.CodeLens:
    client = await start(project_dir, database_url)
    try:
        uri = open_document(client, write(project_dir, "2024-05-01_1200_create_accounts.sql", CREATE))
        lens = await first_lens(client, uri)
        registered = set(client.server_capabilities.execute_command_provider.commands)
        assert lens.command.command in registered and lens.command.command in command_args.SPECS
        command_args.parse(lens.command.command, lens.command.arguments)  # its arguments are valid too
        return lens
    finally:
        await stop(client)


async def test_no_database_configured(project_dir):
    lens = await lens_with(project_dir, None)
    assert lens.command.title == "pgshift: no database configured"


async def test_a_database_that_does_not_answer(project_dir):
    with silent_server() as port:
        lens = await lens_with(project_dir, f"postgresql://pgshift:s3cret-pw@127.0.0.1:{port}/app")
    # the test environment waits 3 s (PGSHIFT_LSP_DB_TIMEOUT_SECONDS) for an answer
    assert lens.command.title == "pgshift: database not answering (after 3 s)"


async def test_a_database_that_cannot_be_reached(project_dir):
    lens = await lens_with(project_dir, f"postgresql://pgshift:s3cret-pw@127.0.0.1:{closed_port()}/app")
    assert lens.command.title == "pgshift: database unreachable (Connection refused)"


async def test_a_database_that_refuses_the_login(project_dir, database_url):
    url = psycopg.conninfo.make_conninfo(database_url, user="no_such_role", password="s3cret-pw")
    lens = await lens_with(project_dir, url)
    # PostgreSQL says 'role "no_such_role" does not exist' where it trusts the connection, and 'password
    # authentication failed for user "no_such_role"' where it asks for a password.
    assert lens.command.title.startswith("pgshift: database refused the login (")
    assert '"no_such_role"' in lens.command.title
    assert "s3cret-pw" not in lens.command.title


EXPECTED = {"pending": "pending", "applied": "applied 20", "changed": "changed since applied on 20"}


@pytest.mark.parametrize("state", sorted(EXPECTED))
async def test_the_lenses_of_a_migration_all_run_registered_commands(project_dir, database_url, settings, state):
    from engine.database import runner

    path = write(project_dir, "2024-05-01_1200_create_accounts.sql", CREATE)
    if state != "pending":
        runner.migrate(settings)
    client = await start(project_dir, database_url)
    try:
        uri = open_document(client, path, CREATE.replace("PRIMARY KEY", "PRIMARY KEY, name text")
                            if state == "changed" else None)
        await first_lens(client, uri)
        lenses = await client.text_document_code_lens_async(types.CodeLensParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        registered = set(client.server_capabilities.execute_command_provider.commands)
        assert lenses[0].command.title.startswith(EXPECTED[state])
        for lens in lenses:
            assert lens.command.command in registered, lens.command
            command_args.parse(lens.command.command, lens.command.arguments)
    finally:
        await stop(client)

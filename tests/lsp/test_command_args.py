"""Command arguments are checked before anything runs: a misspelt option is an error, not a real migration."""

from __future__ import annotations

import re

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from engine.database import runner
from engine.database.status import State, list_migrations
from server.lsp import command_args
from tests.lsp.conftest import REPO, write
from tests.lsp.test_commands import answer_with

CREATE = "CREATE TABLE accounts (id bigint PRIMARY KEY);\n-- ROLLBACK:\n-- DROP TABLE accounts;\n"


async def refused(client, command: str, arguments: list) -> str:
    """Run the command, expect the request to fail with InvalidParams; return the message the person saw."""
    shown = len(client.messages)
    with pytest.raises(JsonRpcException) as failed:
        await client.workspace_execute_command_async(types.ExecuteCommandParams(command=command,
                                                                                arguments=arguments))
    assert failed.value.code == -32602  # InvalidParams
    [message] = [m for m in client.messages[shown:] if m.type == types.MessageType.Error]
    assert "Nothing was run" in message.message and command in message.message
    return message.message


async def test_a_dry_run_spelt_dry_run_is_refused_and_applies_nothing(client, project_dir, settings):
    path = write(project_dir, "2024-05-01_1200_create_accounts.sql", CREATE)

    message = await refused(client, "pgshift.migrate", [{"uri": path.as_uri(), "dry_run": True}])

    assert "unknown option 'dry_run' (did you mean 'dryRun'?)" in message
    assert list_migrations(settings).migrations[0].state is State.PENDING

    # The documented spelling does a dry run, which applies nothing either.
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="pgshift.migrate", arguments=[{"uri": path.as_uri(), "dryRun": True}]))
    assert result["ok"] and result["dry_run"] is True
    assert list_migrations(settings).migrations[0].state is State.PENDING


BAD = [
    ("pgshift.migrate", [{"dryRun": "yes"}], "option 'dryRun' must be a boolean, not \"yes\""),
    ("pgshift.migrate", [{"dryRun": None}], "option 'dryRun' must be a boolean, not null"),
    ("pgshift.migrate", [{"to": 20240501}], "option 'to' must be a non-empty string"),
    ("pgshift.migrate", [{"allow_out_of_order": True}], "did you mean 'allowOutOfOrder'?"),
    ("pgshift.migrate", ["now"], "takes at most 0 argument(s)"),
    ("pgshift.list", [{"uri": 3}], "option 'uri' must be a non-empty string"),
    ("pgshift.rollback", [{"steps": "2"}], "option 'steps' must be a positive integer, not \"2\""),
    ("pgshift.rollback", [{"steps": 0}], "option 'steps' must be a positive integer, not 0"),
    ("pgshift.rollback", [{"steps": True}], "option 'steps' must be a positive integer, not true"),
    ("pgshift.rollback", [{"step": 1}], "did you mean 'steps'?"),
    ("pgshift.new", [{"description": "x"}], "unknown option 'description'"),
    ("pgshift.new", [42], "argument 1 (description) must be a non-empty string, not 42"),
    ("pgshift.new", ["a", "SELECT 1;", "extra"], "takes at most 2 argument(s)"),
    ("pgshift.snapshot", [{"path": "x.md"}], "unknown option 'path'"),
    ("pgshift.verify", [{"version": "x"}], "unknown option 'version'"),
    ("pgshift.verify", [7], "argument 1 (version) must be a non-empty string"),
    ("pgshift.verify", [{"uri": "file:///x"}, "v"], "only the last argument may be an options object"),
    ("pgshift.open", [], "argument 1 (uri) is missing"),
    ("pgshift.open", [{"uri": "file:///x"}], "takes no options object"),
    ("pgshift.renameFile", ["file:///a.sql"], "argument 2 (newUri) is missing"),
    ("pgshift.renameFile", ["file:///a.sql", 5], "argument 2 (newUri) must be a non-empty string"),
]


async def test_wrong_arguments_are_refused_before_anything_runs(client, project_dir, settings):
    write(project_dir, "2024-05-01_1200_create_accounts.sql", CREATE)
    runner.migrate(settings)
    asked = answer_with(client, "Roll back")  # were a rollback to get as far as asking, it would be accepted
    before = sorted(p.name for p in (project_dir / "migrations").iterdir())

    for command, arguments, phrase in BAD:
        message = await refused(client, command, arguments)
        assert phrase in message, (command, arguments, message)
        assert command_args.usage(command) in message

    assert asked == []
    assert list_migrations(settings).migrations[0].state is State.APPLIED
    assert sorted(p.name for p in (project_dir / "migrations").iterdir()) == before
    assert not (project_dir / "DATABASE.md").exists()


def test_the_editor_docs_list_every_command_with_its_arguments():
    docs = (REPO / "docs" / "editors.md").read_text(encoding="utf-8")
    registered = re.findall(r'@ls\.command\("([^"]+)"\)',
                            (REPO / "server" / "lsp" / "commands.py").read_text(encoding="utf-8"))
    assert sorted(registered) == sorted(command_args.SPECS)
    for name in command_args.SPECS:
        assert command_args.usage(name) in docs, name

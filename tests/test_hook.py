"""Cursor's beforeMCPExecution hook, run as Cursor runs it: a process with JSON on stdin and JSON on stdout."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PGSHIFT = {"command": "pgshift mcp"}


def ask_hook(stdin: str | bytes, *, via_cli: bool = False) -> dict:
    command = ([sys.executable, "-m", "server", "hook", "cursor-mcp"] if via_cli
               else [sys.executable, "-m", "server.hooks.cursor_mcp_guard"])
    data = stdin.encode() if isinstance(stdin, str) else stdin
    done = subprocess.run(command, input=data, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    return json.loads(done.stdout)


def call(tool: str, arguments=None, **server) -> str:
    payload = {"hook_event_name": "beforeMCPExecution", "conversation_id": "c", "generation_id": "g",
               "workspace_roots": ["/p"], "tool_name": tool, **(server or PGSHIFT)}
    if arguments is not None:
        payload["tool_input"] = arguments
    return json.dumps(payload)


@pytest.mark.parametrize("tool", ["list_migrations", "check_migration", "verify_migration", "new_migration",
                                  "snapshot"])
def test_read_only_and_file_writing_tools_are_allowed(tool):
    assert ask_hook(call(tool, {"path": "migrations/x.sql"})) == {"permission": "allow"}


def test_rollback_asks_with_messages_for_both_sides():
    answer = ask_hook(call("rollback", {"steps": 2}))
    assert answer["permission"] == "ask"
    assert "roll back the last 2 migrations" in answer["user_message"]
    assert answer["userMessage"] == answer["user_message"]
    assert "do not retry" in answer["agent_message"] and answer["agentMessage"] == answer["agent_message"]


def test_rollback_with_a_confirmation_token_still_asks():
    answer = ask_hook(call("rollback", {"steps": 1, "confirmation_token": "abc"}))
    assert answer["permission"] == "ask" and "says you confirmed it" in answer["user_message"]


@pytest.mark.parametrize("arguments", [{}, {"dry_run": False}, {"to": "2025-01-17_1430_x"}, None, "{}"])
def test_migrate_asks(arguments):
    assert ask_hook(call("migrate", arguments))["permission"] == "ask"


@pytest.mark.parametrize("arguments", [{"dry_run": True}, '{"dry_run": true}', {"dry_run": "true"}])
def test_migrate_dry_run_is_allowed(arguments):
    # tool_input arrives as an object or as a JSON string depending on the Cursor version
    assert ask_hook(call("migrate", arguments)) == {"permission": "allow"}


def test_unknown_pgshift_tool_asks():
    assert ask_hook(call("repair", {}))["permission"] == "ask"


@pytest.mark.parametrize("server", [
    {"command": "/home/me/app/.venv/bin/pgshift mcp"},
    {"command": "/usr/bin/python3 -m server mcp"},
    {"command": "C:\\tools\\pgshift.exe mcp"},
])
def test_pgshift_is_recognised_however_it_is_started(server):
    assert ask_hook(call("rollback", {}, **server))["permission"] == "ask"


@pytest.mark.parametrize("payload", [
    call("rollback", {}, command="npx -y some-other-db-server"),
    call("migrate", {}, url="https://mcp.example.com/sse"),
    call("MCP:prisma:migrate", {}),
    json.dumps({"tool_name": "drop_database", "tool_input": {}}),  # no server named, not one of our tools
])
def test_other_servers_are_allowed(payload):
    assert ask_hook(payload) == {"permission": "allow"}


def test_prefixed_tool_names_are_understood():
    payload = json.dumps({"tool_name": "MCP:pgshift:rollback", "tool_input": "{}"})
    assert ask_hook(payload)["permission"] == "ask"
    payload = json.dumps({"tool_name": "MCP:pgshift:list_migrations", "tool_input": "{}"})
    assert ask_hook(payload)["permission"] == "allow"


def test_no_server_information_treats_our_tool_names_as_ours():
    assert ask_hook(json.dumps({"tool_name": "rollback"}))["permission"] == "ask"


@pytest.mark.parametrize("stdin", [
    "", "not json", "[]", "null", '"rollback"', '{"tool_input": {}}', '{"tool_name": 3}',
    call("rollback", "{not json"), call("migrate", [1, 2]), b"\xff\xfe\x00garbage",
])
def test_malformed_input_asks_and_never_crashes(stdin):
    answer = ask_hook(stdin)
    assert answer["permission"] == "ask"
    assert answer["user_message"].startswith("pgshift hook:")


def test_other_hook_events_are_not_judged():
    payload = json.dumps({"hook_event_name": "beforeShellExecution", "command": "pgshift rollback"})
    assert ask_hook(payload) == {"permission": "allow"}


def test_cli_subcommand_gives_the_same_answers():
    assert ask_hook(call("rollback", {}), via_cli=True)["permission"] == "ask"
    assert ask_hook(call("migrate", {"dry_run": True}), via_cli=True) == {"permission": "allow"}
    assert ask_hook("garbage", via_cli=True)["permission"] == "ask"

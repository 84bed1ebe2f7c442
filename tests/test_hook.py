"""Cursor's beforeMCPExecution hook, run as Cursor runs it: a process with JSON on stdin and JSON on stdout."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

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


PG = "pgshift -C /srv/app mcp"
VENV_PG = "/opt/venv/bin/pgshift -C /srv/app mcp"
OTHER = "npx -y other-db-mcp"


def shape(tool: str, tool_input=None, **fields) -> dict:
    """One hook input as Cursor sends it: the common fields, the tool, and whichever server fields are given."""
    payload = {"hook_event_name": "beforeMCPExecution", "conversation_id": "c", "generation_id": "g",
               "workspace_roots": ["/srv/app"], "tool_name": tool, **fields}
    if tool_input is not None:
        payload["tool_input"] = tool_input
    return payload


# (what the row shows, the hook input, the permission, a phrase the person reads, when there is one)
VERDICTS = [
    # pgshift's server, whatever its entry is called: recognised by the command that starts it
    ("read-only tool, bare name", shape("list_migrations", {}, command=PG), "allow", None),
    ("read-only tool, prefixed name, input as a JSON string",
     shape("MCP:pgshift:check_migration", '{"path": "migrations/x.sql"}', command=PG), "allow", None),
    ("rollback from an entry named pgshift-staging", shape("MCP:pgshift-staging:rollback", {}, command=PG), "ask",
     "roll back the last applied migration"),
    ("migrate from an entry named db", shape("migrate", {}, server_name="db", command=VENV_PG), "ask",
     "apply every pending migration"),
    ("migrate from a second entry pgshift-prod", shape("MCP:pgshift-prod:migrate", "{}", command=VENV_PG,
                                                       mcp_server_name="pgshift-prod"), "ask", "apply"),
    ("dry-run migrate, input as an object", shape("migrate", {"dry_run": True}, command=VENV_PG,
                                                  mcp_server_name="db"), "allow", None),
    ("dry-run migrate, input as a JSON string", shape("MCP:db:migrate", '{"dry_run": true}', command=PG), "allow",
     None),
    ("migrate with dry_run false", shape("migrate", {"dry_run": False}, command=PG), "ask", "apply"),
    ("rollback with a token still asks", shape("rollback", {"steps": 2, "confirmation_token": "t"}, command=PG),
     "ask", "roll back the last 2 migrations (the assistant says you confirmed it)"),
    ("a pgshift tool the hook does not know", shape("repair", {}, command=PG), "ask", "does not know it"),
    ("Windows executable", shape("snapshot", {}, command="C:\\tools\\pgshift.exe -C C:\\app mcp",
                                 mcp_server_name="db"), "allow", None),
    ("quoted path with a space", shape("table_history", {"table": "t"},
                                       command='"/Users/me/My Apps/bin/pgshift" -C /srv/app mcp'), "allow", None),
    ("this Python running -m server", shape("new_migration", {}, command=f"{sys.executable} -m server mcp"),
     "allow", None),
    # not pgshift's: never an allow from pgshift, whatever the tool or the entry is called
    ("another server's tool", shape("delete_everything", {}, command=OTHER), "ask", "is not pgshift's tool"),
    ("another server with a pgshift tool name", shape("list_migrations", {}, command=OTHER), "ask",
     "is not pgshift's tool"),
    ("another server whose entry is named pgshift", shape("MCP:pgshift:snapshot", {}, command=OTHER,
                                                          mcp_server_name="pgshift"), "ask",
     "(server 'pgshift') is not pgshift's tool"),
    ("pgshift only as an argument", shape("snapshot", {}, command="npx other --name pgshift"), "ask",
     "is not pgshift's tool"),
    ("another project's python -m server", shape("snapshot", {}, command="/usr/bin/python3 -m server mcp"), "ask",
     "is not pgshift's tool"),
    ("the python a virtualenv links to, running -m server",
     shape("snapshot", {}, command=f"{os.path.realpath(sys.executable)} -m server mcp"), "ask",
     "is not pgshift's tool"),
    ("a remote server (url)", shape("list_migrations", {}, url="https://mcp.example.com/sse"), "ask",
     "is not pgshift's tool"),
    ("a remote server (mcp_server_url) named pgshift",
     shape("MCP:pgshift:list_migrations", {}, mcp_server_name="pgshift", mcp_server_url="http://localhost:3000/mcp",
           command="pgshift"), "ask", "is not pgshift's tool"),
    # cannot tell: ask
    ("no server fields, our tool name", shape("rollback", {}), "ask", "cannot tell"),
    ("no server fields, read-only tool name", shape("list_migrations"), "ask", "cannot tell"),
    ("prefixed name only", shape("MCP:pgshift:list_migrations", "{}"), "ask", "cannot tell"),
    ("server name only", shape("list_migrations", {}, mcp_server_name="pgshift"), "ask", "cannot tell"),
    ("another hook event", {"hook_event_name": "beforeShellExecution", "command": "pgshift rollback"}, "ask",
     "only judges MCP tool calls"),
]


@pytest.mark.parametrize("payload, permission, phrase", [row[1:] for row in VERDICTS],
                         ids=[row[0] for row in VERDICTS])
def test_verdicts(payload, permission, phrase):
    answer = ask_hook(json.dumps(payload))
    assert answer["permission"] == permission
    if permission == "allow":
        assert answer == {"permission": "allow"}
    if phrase:
        assert phrase in answer["user_message"]


def test_the_matcher_init_writes_covers_every_pgshift_tool(tmp_path):
    """Cursor runs the hook only for calls its `matcher` matches: every tool the MCP server offers must match,
    bare or prefixed with any entry name, or that tool would go without the hook's question."""
    import asyncio

    from engine.config import load_settings
    from engine.project_init import HOOK_MATCHER
    from server.mcp.app import build_server

    settings = load_settings(tmp_path, database_url="postgresql://localhost/unused")
    tools = {tool.name for tool in asyncio.run(build_server(settings).list_tools())}
    assert {"rollback", "migrate"} <= tools
    assert f'"matcher": "{HOOK_MATCHER}"' in (Path(__file__).parents[1] / "docs/cursor.md").read_text()
    matcher = re.compile(HOOK_MATCHER)
    for tool in tools:
        for name in (tool, f"MCP:pgshift:{tool}", f"MCP:db:{tool}"):
            assert matcher.search(name), name


@pytest.mark.parametrize("stdin", [
    "", "not json", "[]", "null", '"rollback"', '{"tool_input": {}}', '{"tool_name": 3}',
    call("rollback", "{not json"), call("migrate", [1, 2]), b"\xff\xfe\x00garbage",
])
def test_malformed_input_asks_and_never_crashes(stdin):
    answer = ask_hook(stdin)
    assert answer["permission"] == "ask"
    assert answer["user_message"].startswith("pgshift hook:")


def test_cli_subcommand_gives_the_same_answers():
    assert ask_hook(call("rollback", {}), via_cli=True)["permission"] == "ask"
    assert ask_hook(call("list_migrations", {}, command=OTHER), via_cli=True)["permission"] == "ask"
    assert ask_hook(call("migrate", {"dry_run": True}), via_cli=True) == {"permission": "allow"}
    assert ask_hook("garbage", via_cli=True)["permission"] == "ask"

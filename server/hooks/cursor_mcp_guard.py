"""Cursor's `beforeMCPExecution` hook for pgshift: ask the person before a rollback or a real migrate.

Cursor runs the command in `.cursor/hooks.json` before every MCP tool call, with JSON on stdin, and reads one
JSON object from stdout: `{"permission": "allow" | "deny" | "ask", "user_message": ..., "agent_message": ...}`
(https://cursor.com/docs/agent/hooks). The input names the tool (`tool_name`, bare or `MCP:<server>:<tool>`),
its arguments (`tool_input`, an object or a JSON string, depending on the Cursor version) and the server (`command`
for stdio servers, `url` for remote ones).

Policy: pgshift's tools that change the database (`rollback`, `migrate` without `dry_run`) and any pgshift tool
this hook does not know get "ask"; the others get "allow"; other servers' tools get "allow" (not ours to judge).
Input we cannot read gets "ask": a guard that crashes or allows on garbage protects nothing. It never exits
non-zero, because Cursor treats a failing hook as no answer.

Run as `pgshift hook cursor-mcp` or `python -m server.hooks.cursor_mcp_guard`.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from typing import Any, TextIO

SERVER_NAME = "pgshift"

# Tools that only read, or only write files the person reviews in git (a new migration file, DATABASE.md).
ALLOWED_TOOLS = frozenset({"list_migrations", "check_migration", "table_history", "verify_migration",
                           "new_migration", "snapshot"})
ASK_TOOLS = frozenset({"rollback", "migrate"})

# `pgshift mcp`, `/path/to/pgshift mcp`, `pgshift.exe -C dir mcp`, or the `python -m server mcp` fallback that
# `pgshift init` writes when no pgshift executable exists.
_PGSHIFT_COMMAND_RE = re.compile(r"(^|[\s/\\\"'])pgshift(\.exe)?([\s\"']|$)|\s-m\s+server(\s|$)", re.IGNORECASE)
_PREFIXED_TOOL_RE = re.compile(r"^mcp[:_](?P<server>.+?)[:](?P<tool>[^:]+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Decision:
    permission: str  # "allow" | "ask" | "deny"
    user_message: str | None = None
    agent_message: str | None = None

    def to_json(self) -> dict[str, str]:
        out = {"permission": self.permission}
        # Cursor documents snake_case keys; earlier releases and typed helper packages used camelCase. Both are
        # written so that the message reaches the person whichever one this Cursor reads.
        if self.user_message:
            out["user_message"] = out["userMessage"] = self.user_message
        if self.agent_message:
            out["agent_message"] = out["agentMessage"] = self.agent_message
        return out


ALLOW = Decision("allow")


def decide(payload: Any) -> Decision:
    """The answer for one hook input (already parsed from JSON). Never raises."""
    try:
        return _decide(payload)
    except Exception as exc:  # a guard must answer; a bug here must not turn into "allow"
        return _unreadable(f"the pgshift hook could not read this call ({type(exc).__name__}: {exc})")


def _decide(payload: Any) -> Decision:
    if not isinstance(payload, dict):
        return _unreadable("the hook input is not a JSON object")
    event = payload.get("hook_event_name")
    if event is not None and event != "beforeMCPExecution":
        return ALLOW  # wired to another event by hand; nothing of ours to guard there
    raw_name = payload.get("tool_name")
    if not isinstance(raw_name, str) or not raw_name.strip():
        return _unreadable("the hook input has no tool_name")

    server, tool = _split_tool_name(raw_name.strip())
    ours = _is_pgshift_call(payload, server, tool)
    if not ours:
        return ALLOW

    arguments = _tool_arguments(payload.get("tool_input"))
    if arguments is None:
        return _unreadable(f"the arguments of pgshift's {tool} tool could not be read")

    if tool in ALLOWED_TOOLS:
        return ALLOW
    if tool == "migrate":
        if _truthy(arguments.get("dry_run")):
            return ALLOW
        target = arguments.get("to")
        what = f"up to {target}" if target else "every pending migration"
        return Decision(
            "ask",
            user_message=f"pgshift: apply {what} to the database? (Review the dry run first.)",
            agent_message="Applying migrations needs the person's approval; it was asked for. If they decline, "
                          "stop and do not try to change the database another way.",
        )
    if tool == "rollback":
        # The MCP tool has its own confirmation (elicitation, or a token the assistant gets only by showing the
        # plan first); this hook asks on every call anyway, since a call with a token is the one that runs.
        confirmed = " (the assistant says you confirmed it)" if arguments.get("confirmation_token") else ""
        return Decision(
            "ask",
            user_message=f"pgshift: roll back {_rollback_scope(arguments)}{confirmed}? This runs the ROLLBACK SQL "
                         "against the database and can lose data. Approve only if you asked for this rollback.",
            agent_message="A rollback needs the person's explicit approval; it was asked for. If they decline, do "
                          "not retry and do not undo the migration another way.",
        )
    return Decision(
        "ask",
        user_message=f"pgshift: run the tool '{tool}'? (This hook does not know it, so it asks.)",
        agent_message=f"pgshift's '{tool}' tool needs the person's approval.",
    )


def _split_tool_name(name: str) -> tuple[str | None, str]:
    """`MCP:pgshift:migrate` -> ("pgshift", "migrate"); a bare `migrate` -> (None, "migrate")."""
    match = _PREFIXED_TOOL_RE.match(name)
    if match:
        return match.group("server"), match.group("tool")
    return None, name


def _is_pgshift_call(payload: dict, server_from_name: str | None, tool: str) -> bool:
    for key in ("server_name", "server", "mcp_server"):  # not in Cursor's documented input, but cheap to honour
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value == SERVER_NAME
    if server_from_name is not None:
        return server_from_name == SERVER_NAME
    command = payload.get("command")
    if isinstance(command, str) and command.strip():
        return bool(_PGSHIFT_COMMAND_RE.search(command))
    if isinstance(payload.get("url"), str) and payload["url"]:
        return False  # pgshift's server is stdio-only
    # Nothing says which server this is: treat our tool names as ours, since asking costs a click and allowing a
    # rollback by mistake costs data.
    return tool in ALLOWED_TOOLS or tool in ASK_TOOLS


def _tool_arguments(raw: Any) -> dict | None:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return isinstance(value, int) and value == 1


def _rollback_scope(arguments: dict) -> str:
    steps = arguments.get("steps")
    target = arguments.get("to") or arguments.get("version")
    if target:
        return f"the migrations after {target}"
    if isinstance(steps, int) and not isinstance(steps, bool) and steps > 1:
        return f"the last {steps} migrations"
    return "the last applied migration"


def _unreadable(reason: str) -> Decision:
    return Decision("ask", user_message=f"pgshift hook: {reason}; asking you instead of guessing.",
                    agent_message="The pgshift hook could not judge this call, so the person was asked.")


def run(stdin: TextIO, stdout: TextIO) -> int:
    """Read one hook input, write one answer. Always returns 0: a failing hook would be no answer at all."""
    try:
        text = stdin.read()
    except Exception as exc:  # undecodable bytes, closed pipe
        decision = _unreadable(f"stdin could not be read ({type(exc).__name__})")
    else:
        try:
            payload = json.loads(text)
        except ValueError:
            decision = _unreadable("the hook input is not valid JSON")
        else:
            decision = decide(payload)
    stdout.write(json.dumps(decision.to_json()) + "\n")
    stdout.flush()
    return 0


def main() -> int:
    return run(sys.stdin, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())

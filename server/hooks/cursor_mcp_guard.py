"""Cursor's `beforeMCPExecution` hook for pgshift: ask the person before a rollback or a real migrate.

Cursor runs the command in `.cursor/hooks.json` before every MCP tool call, with JSON on stdin, and reads one
JSON object from stdout: `{"permission": "allow" | "deny" | "ask", "user_message": ..., "agent_message": ...}`
(https://cursor.com/docs/agent/hooks). The input names the tool (`tool_name`, bare or `MCP:<server>:<tool>`),
its arguments (`tool_input`, an object or a JSON string, depending on the Cursor version) and the server (`command`
for stdio servers, `url` for remote ones).

Which server a call goes to is decided from the command (or url) that starts it, never from the entry's name in
mcp.json: `pgshift-prod`, `db` or `pgshift` are whatever the person called them, and Cursor's `mcp_server_name` /
`MCP:<server>:<tool>` only repeat that name. A call is pgshift's when the command's program is `pgshift`
(`pgshift.exe`, any path), or this hook's own Python running `-m server` (what `pgshift init` writes when there is
no pgshift executable).

Policy: on pgshift's server, the tools that change the database (`rollback`, `migrate` without `dry_run`) and any
tool this hook does not know get "ask"; the read-only ones get "allow". Everything else gets "ask" and never
"allow": another server's tool (in Cursor a hook's "allow" is what skips the per-call approval, and that is not
pgshift's to give), a call whose server cannot be told (a url, or no command at all), another hook event, and input
we cannot read. `pgshift init` also scopes the hook with a `matcher` (HOOK_MATCHER in engine/project_init.py) so
that Cursor runs it only for calls that name pgshift or one of its tools; the verdicts above do not rely on it. It
never exits non-zero, because Cursor treats a failing hook as no answer.

Run as `pgshift hook cursor-mcp` or `python -m server.hooks.cursor_mcp_guard`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from dataclasses import dataclass
from typing import Any, TextIO

# Tools that only read, or only write files the person reviews (a new migration file, DATABASE.md, a backup).
ALLOWED_TOOLS = frozenset({"list_migrations", "check_migration", "table_history", "verify_migration",
                           "new_migration", "snapshot", "backup"})
ASK_TOOLS = frozenset({"rollback", "migrate"})
KNOWN_TOOLS = ALLOWED_TOOLS | ASK_TOOLS

_PROGRAM_SUFFIXES = (".exe", ".cmd", ".bat")
_PYTHON_RE = re.compile(r"python(\d+(\.\d+)*)?w?", re.IGNORECASE)
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
        return _no_verdict(f"pgshift's hook only judges MCP tool calls, not {event}",
                           "This hook is wired to an event it does not judge; the person was asked.")
    raw_name = payload.get("tool_name")
    if not isinstance(raw_name, str) or not raw_name.strip():
        return _unreadable("the hook input has no tool_name")

    named_server, tool = _split_tool_name(raw_name.strip())
    label = _server_label(payload, named_server)
    origin = server_origin(payload, named_server)
    if origin == "other":
        return _no_verdict(f"'{tool}'{label} is not pgshift's tool, so pgshift's hook does not approve it; decide "
                           "as you would without pgshift",
                           "This tool is not pgshift's; the person was asked.")
    if origin == "unknown":
        return _no_verdict(f"cannot tell whether '{tool}'{label} is pgshift's (Cursor did not say which command "
                           "starts its server), so it asks you",
                           "The pgshift hook could not tell which server this tool belongs to, so the person "
                           "was asked.")

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


def server_origin(payload: dict, named_server: str | None = None) -> str:
    """"pgshift", "other" or "unknown": whose server the call goes to, judged by what starts it, not its name."""
    names = {n.strip() for n in (named_server, payload.get("mcp_server_name"), payload.get("server_name"))
             if isinstance(n, str) and n.strip()}
    command = payload.get("command")
    # Cursor's GUI sends a remote server's name as its command; a name says nothing about what runs.
    if isinstance(command, str) and command.strip() and command.strip() not in names:
        return "pgshift" if is_pgshift_command(command) else "other"
    for key in ("url", "mcp_server_url"):
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return "other"  # pgshift's MCP server speaks stdio only
    return "unknown"


def is_pgshift_command(command: str) -> bool:
    """`pgshift …` (any path, `.exe` on Windows), or this hook's own Python running `-m server …`."""
    words = _command_words(command)
    if not words:
        return False
    program = re.split(r"[\\/]", words[0])[-1].lower()
    for suffix in _PROGRAM_SUFFIXES:
        program = program.removesuffix(suffix)
    if program == "pgshift":
        return True
    # `python -m server` is any project's `server` package, unless the Python is the one pgshift runs in.
    if _PYTHON_RE.fullmatch(program) and words[1:3] == ["-m", "server"]:
        return _same_path(words[0], sys.executable)
    return False


def _command_words(command: str) -> list[str]:
    """The program (which may be quoted and, on Windows, hold backslashes) and the shell words after it."""
    text = command.strip()
    if not text:
        return []
    if text[0] in "\"'":
        end = text.find(text[0], 1)
        first, rest = (text[1:], "") if end == -1 else (text[1:end], text[end + 1:])
    else:
        first, _, rest = text.partition(" ")
        first, _, more = first.partition("\t")
        rest = f"{more} {rest}"
    try:
        words = shlex.split(rest)
    except ValueError:
        words = rest.split()
    return [first, *words]


def _same_path(a: str, b: str) -> bool:
    """The same path as written, symlinks unresolved: a virtualenv's python is a link to the system's, and
    the system's python running `-m server` is another project."""
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def _server_label(payload: dict, named_server: str | None) -> str:
    name = payload.get("mcp_server_name") or payload.get("server_name") or named_server
    return f" (server '{name}')" if isinstance(name, str) and name.strip() else ""


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


def _no_verdict(user_message: str, agent_message: str) -> Decision:
    """For a call that is not (or may not be) pgshift's: "ask", the one answer that never skips the person."""
    return Decision("ask", user_message=f"pgshift hook: {user_message}.", agent_message=agent_message)


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

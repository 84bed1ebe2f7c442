"""Serve pgshift to an AI assistant over MCP on stdin/stdout (for Cursor's mcp.json, Claude Code, …).

Standard output carries the protocol, so nothing else is printed there. `--read-only` offers only listing,
checking and the resources; rollback is never offered when the project sets allow_rollback = false.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

NAME = "mcp"
HELP = "run the MCP server on stdio for AI assistants"
ORDER = 90


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--read-only", action="store_true",
                        help="offer only tools that change nothing (list_migrations, check_migration)")


def workspace_from_environment(environ=os.environ) -> Path | None:
    """Cursor names the workspace in WORKSPACE_FOLDER_PATHS (a path, or a JSON list of paths)."""
    value = environ.get("WORKSPACE_FOLDER_PATHS", "").strip()
    if not value:
        return None
    try:
        paths = json.loads(value)
    except ValueError:
        paths = [value]
    if isinstance(paths, str):
        paths = [paths]
    first = next((Path(p) for p in paths if isinstance(p, str) and p), None) if isinstance(paths, list) else None
    return first if first is not None and first.is_dir() else None


def run(args: argparse.Namespace, ctx) -> int:
    from server.mcp import build_server  # the MCP SDK is loaded only for this command

    if not args.project_given:  # started by an editor from an unrelated folder (Cursor uses /)
        workspace = workspace_from_environment()
        if workspace is not None:
            ctx.cwd = workspace

    import logging

    from engine.redaction import redact_logs
    server = build_server(ctx.settings, read_only=args.read_only)
    redact_logs(logging.getLogger().handlers, lambda: ctx.redactor)  # standard error is the assistant's log
    server.run("stdio")
    return 0

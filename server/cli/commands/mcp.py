"""Serve pgshift to an AI assistant over MCP on stdin/stdout (for Cursor's mcp.json, Claude Code, …).

Standard output carries the protocol, so nothing else is printed there. `--read-only` offers only listing,
checking and the resources; rollback is never offered when the project sets allow_rollback = false.
"""

from __future__ import annotations

import argparse

NAME = "mcp"
HELP = "run the MCP server on stdio for AI assistants"
ORDER = 90


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--read-only", action="store_true",
                        help="offer only tools that change nothing (list_migrations, check_migration)")


def run(args: argparse.Namespace, ctx) -> int:
    from server.mcp import build_server  # the MCP SDK is loaded only for this command

    build_server(ctx.settings, read_only=args.read_only).run("stdio")
    return 0

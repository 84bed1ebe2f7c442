"""Answer an editor hook: `pgshift hook cursor-mcp` reads Cursor's beforeMCPExecution input on stdin."""

from __future__ import annotations

import argparse

from server.cli.context import CliContext

NAME = "hook"
HELP = "answer an editor hook (used by .cursor/hooks.json, not typed by hand)"
ORDER = 95

HOOKS = {"cursor-mcp": "cursor_mcp_guard"}  # module in server.hooks, imported only when its hook runs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=sorted(HOOKS),
                        help="cursor-mcp: Cursor's beforeMCPExecution hook (asks before rollback and migrate)")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    import importlib
    return importlib.import_module(f"server.hooks.{HOOKS[args.kind]}").run(ctx.stdin, ctx.stdout)

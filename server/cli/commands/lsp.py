"""Run the language server on standard input and output, for an editor to start.

The project is the editor's workspace folder (its pgshift.toml / [tool.pgshift] and DATABASE_URL are read
as the CLI reads them); see docs/editors.md for Neovim, Helix, Zed and VS Code.
"""

from __future__ import annotations

import argparse
import logging
import sys

from server.cli.context import CliContext

NAME = "lsp"
HELP = "run the language server on stdio (for editors)"
ORDER = 90


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stdio", action="store_true", help="accepted for editors that pass it; stdio is the default")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="what the server logs to standard error (default WARNING)")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from server.lsp import build_server
    from server.lsp.redaction import redact_logs

    # stdout carries the protocol: logs go to stderr, which editors keep in their LSP log.
    logging.basicConfig(stream=sys.stderr, level=args.log_level, format="pgshift-lsp %(levelname)s %(name)s: %(message)s")
    server = build_server()
    redact_logs(server, logging.getLogger().handlers)
    server.start_io()
    return 0

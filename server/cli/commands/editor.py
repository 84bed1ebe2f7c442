"""`pgshift editor install`: put the pgshift extension (shipped inside pgshift) into Cursor, VS Code or VSCodium."""

from __future__ import annotations

import argparse

from server.cli.context import CliContext

NAME = "editor"
HELP = "install the pgshift extension into Cursor, VS Code or VSCodium (shipped with pgshift, no Node needed)"
ORDER = 6
EDITORS = ("cursor", "code", "codium")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["install"],
                        help="install: install the extension, or upgrade an older one (a current one is left alone)")
    parser.add_argument("--editor", choices=EDITORS,
                        help="which editor's command line to use (default: the first of cursor, code, codium on PATH)")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from server.cli.editor_setup import install_editor_extension
    code, summary = install_editor_extension(ctx, ctx.root, editor=args.editor)
    ctx.emit_json({"ok": code == 0, **summary})
    return code

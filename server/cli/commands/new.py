"""Write migrations/<now>_<description>.sql from the template, with a ROLLBACK block.

If the newest existing migration is later than the clock, the new one goes one minute after it.
"""

from __future__ import annotations

import argparse
import sys

from server.cli.context import CliContext

NAME = "new"
HELP = "scaffold a new timestamped migration file"
ORDER = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("description", help='what the migration does, e.g. "add instagram url"')
    parser.add_argument("--sql", help="forward SQL to put in the file (the ROLLBACK is inferred where possible); "
                                      "'-' reads it from standard input")
    parser.add_argument("--no-transaction", action="store_true",
                        help="mark it to run outside a transaction (CREATE INDEX CONCURRENTLY …)")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.scaffold import new_migration
    sql = sys.stdin.read() if args.sql == "-" else args.sql
    made = new_migration(ctx.settings, args.description, sql=sql, no_transaction=args.no_transaction)
    try:
        shown = made.path.relative_to(ctx.root)
    except ValueError:
        shown = made.path
    ctx.emit_json({"ok": True, "path": str(shown), "text": made.text})
    ctx.say(f"created {shown}")
    return 0

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
    from engine.analysis.findings import relative_path
    from engine.analysis.lint import check_text
    from engine.analysis.scaffold import new_migration
    sql = sys.stdin.read() if args.sql == "-" else args.sql
    made = new_migration(ctx.settings, args.description, sql=sql, no_transaction=args.no_transaction)
    shown = relative_path(made.path, ctx.root)
    # With SQL given, what `pgshift check` will say about it, shown now (a blank template has only TODOs).
    findings = check_text(made.path, made.text, ctx.settings) if sql else []
    ctx.emit_json({"ok": True, "path": shown, "text": made.text,
                   "findings": [f.to_dict(ctx.root) for f in findings]})
    ctx.say(f"created {shown}")
    ctx.show_findings(findings)
    return 0

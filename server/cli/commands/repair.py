"""Fix the tracking table after a reviewed change: accept the new checksum of an edited applied file
(cosmetic edits only — the SQL is not run again), or clear a failed/interrupted no-transaction run so that
`migrate` retries it. Shows every change and asks for confirmation like rollback."""

from __future__ import annotations

import argparse

from server.cli.context import CliContext
from server.cli.confirmation import confirm_and_apply
from server.cli.output import describe_database

NAME = "repair"
HELP = "accept reviewed checksums, clear failed runs (asks for confirmation)"
ORDER = 60


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("versions", nargs="*", metavar="VERSION", help="only these (default: every one that needs it)")
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.database.repair import plan_repair
    describe_database(ctx)
    changes = plan_repair(ctx.settings, args.versions)
    if not changes:
        ctx.say("Nothing to repair: every applied migration matches its file.")
        ctx.emit_json({"ok": True, "changes": []})
        return 0
    confirm_and_apply(ctx, changes, what="repair", assume_yes=args.yes)
    for change in changes:
        ctx.say(f"repaired {change.version}: {change.action}")
    ctx.emit_json({"ok": True, "changes": [c.to_dict() for c in changes]})
    return 0

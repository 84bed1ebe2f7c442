"""Record a migration as applied without running it (adopting an existing database), or as pending
without running its rollback (after undoing a change by hand). Only the tracking table changes."""

from __future__ import annotations

import argparse

from server.cli.context import CliContext
from server.cli.confirmation import confirm_and_apply
from server.cli.output import describe_database

NAME = "mark"
HELP = "mark a migration applied or pending without running it (asks for confirmation)"
ORDER = 61


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("versions", nargs="+", metavar="VERSION",
                        help="the migrations' versions (file names without .sql)")
    state = parser.add_mutually_exclusive_group(required=True)
    state.add_argument("--applied", action="store_true", help="record it as applied")
    state.add_argument("--pending", action="store_true", help="remove its tracking row")
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.database.repair import plan_mark
    describe_database(ctx)
    changes = plan_mark(ctx.settings, args.versions, applied=args.applied)
    confirm_and_apply(ctx, changes, what="mark", assume_yes=args.yes)
    for change in changes:
        ctx.say(f"marked {change.version} {'applied' if args.applied else 'pending'}")
    ctx.emit_json({"ok": True, "changes": [c.to_dict() for c in changes]})
    return 0

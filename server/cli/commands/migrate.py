"""Apply pending migrations in order, each in its own transaction together with its tracking row.

Stops at the first failure with PostgreSQL's error at file:line:col; migrations applied before it stay
applied. Refuses to start when an applied file changed or went missing, or when `pgshift check` finds
errors in a pending file.
"""

from __future__ import annotations

import argparse

from server.cli.context import CliContext
from server.cli.fleet import add_target_argument
from server.cli.output import describe_database

NAME = "migrate"
HELP = "apply pending migrations"
ORDER = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true",
                        help="run the pending migrations in a transaction that is rolled back, and report")
    parser.add_argument("--to", metavar="VERSION", help="stop after this version (a file name without .sql)")
    parser.add_argument("--allow-out-of-order", action="store_true",
                        help="apply pending files that sort before the newest applied one")
    parser.add_argument("--backup", action="store_true", help="pg_dump the database first (see `pgshift backup`)")
    parser.add_argument("--check-drift", action="store_true",
                        help="refuse to apply anything when the database has drifted (see `pgshift drift`)")
    add_target_argument(parser)
    parser.add_argument("--concurrency", metavar="N", type=int,
                        help="with --target: how many targets to migrate at a time (default 4)")
    parser.add_argument("--continue-on-error", action="store_true",
                        help="with --target: a failed target does not stop the others from starting")
    parser.add_argument("--resume", metavar="RUN",
                        help="retry the failed and unfinished targets of an earlier `migrate --target` run")
    parser.add_argument("--canary", metavar="K", type=int, default=0,
                        help="with --target: migrate the first K targets one by one first; a failure stops the run")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    fleet_only = [flag for flag, given in (("--concurrency", args.concurrency is not None), ("--canary", args.canary),
                                           ("--continue-on-error", args.continue_on_error)) if given]
    if args.target is None and args.resume is None and fleet_only:
        from engine.errors import UsageError
        raise UsageError(f"{fleet_only[0]} is for a fleet: it needs --target (or --resume)",
                         help="name the targets with --target NAME|GLOB|all (see docs/fleets.md)")
    if args.concurrency is None:
        args.concurrency = 4
    if args.target is not None or args.resume is not None:
        from server.cli.fleet import run_migrate
        if args.backup:
            from engine.errors import UsageError
            raise UsageError("--backup is for one database; it cannot be combined with --target or --resume")
        if args.check_drift:
            from engine.errors import UsageError
            raise UsageError("--check-drift is for one database; run `pgshift drift` per target before a fleet run")
        return run_migrate(args, ctx)
    from engine.database.runner import Applied, Retrying, Skipped, Started, Waiting, migrate
    settings = ctx.settings
    describe_database(ctx)
    if args.check_drift:
        from engine.shadow.drift import refuse_if_drifted
        refuse_if_drifted(settings)
    if args.backup and not args.dry_run:
        from engine.database.backup import backup
        made = backup(settings)
        ctx.say(f"backup written to {made.path}")

    def on_event(event) -> None:
        if isinstance(event, Started):
            ctx.say(f"→ {event.version}{' (no transaction)' if event.no_transaction else ''} …")
        elif isinstance(event, Applied):
            verb = "ok (rolled back: dry run)" if args.dry_run else "applied"
            ctx.say(f"  {verb} in {event.milliseconds} ms")
        elif isinstance(event, Skipped):
            ctx.say(f"  skipped {event.version}: {event.reason}")
        elif isinstance(event, Waiting):
            ctx.note(f"pgshift: {event.reason}")
        elif isinstance(event, Retrying):
            ctx.note(f"pgshift: {event.version}: {event.reason}; retry {event.attempt}")

    result = migrate(settings, dry_run=args.dry_run, to=args.to, allow_out_of_order=args.allow_out_of_order,
                     on_event=on_event)
    for note in result.notes:
        ctx.say(f"note: {note}")
    if not result.applied and not result.skipped:
        ctx.say("Nothing to migrate: the database is up to date.")
    elif args.dry_run:
        ctx.say(f"Dry run: {len(result.applied)} migration(s) would apply; nothing was changed.")
    else:
        total = sum(a.milliseconds for a in result.applied)
        ctx.say(f"Applied {len(result.applied)} migration(s) in {total} ms.")
    ctx.emit_json(lambda: result.to_dict(ctx.root))
    return 0

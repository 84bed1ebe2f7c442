"""Show every migration with its state: applied (when, how long), pending, changed since applied,
applied but file missing, failed part-way — and whether a rollback is available."""

from __future__ import annotations

import argparse

from server.cli.context import CliContext
from server.cli.fleet import add_target_argument
from server.cli.output import describe_database

NAME = "list"
ALIASES = ["status"]
HELP = "show the state of every migration"
ORDER = 20

MARKS = {"applied": "applied", "pending": "pending", "changed": "CHANGED", "missing": "MISSING",
         "failed": "FAILED", "running": "RUNNING"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--exit-code", action="store_true",
                        help="exit 1 when any migration is pending, changed, missing or failed (for CI gates)")
    add_target_argument(parser)
    parser.add_argument("--concurrency", metavar="N", type=int,
                        help="with --target: how many targets to read at a time (default 8)")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.target is None and args.concurrency is not None:
        from engine.errors import UsageError
        raise UsageError("--concurrency is for a fleet: it needs --target", help="see docs/fleets.md")
    if args.target is not None:
        args.concurrency = args.concurrency or 8
        from server.cli.fleet import run_list
        return run_list(args, ctx)
    from engine.database.status import State, list_migrations, statements_ran
    describe_database(ctx)
    report = list_migrations(ctx.settings)
    ctx.emit_json({"ok": True, "database": report.database,
                   "migrations": [m.to_dict(ctx.root) for m in report.migrations],
                   "problems": [f.to_dict(ctx.root) for f in report.problems]})
    if not report.migrations:
        ctx.say(f"No migrations in {ctx.settings.migrations_dir}. Create one with: pgshift new \"description\"")
    for m in report.migrations:
        when = f"{m.applied_at:%Y-%m-%d %H:%M}" if m.applied_at else ""
        took = f"{m.execution_ms} ms" if m.execution_ms is not None else ""
        rollback = "rollback: yes" if m.has_rollback else "rollback: NO"
        extra = ""
        if m.out_of_order:
            extra = "  (sorts before the newest applied: out of order)"
        if m.state is State.APPLIED and m.error:
            extra = f"  (BROKEN: {m.error})"
        if m.state in (State.FAILED, State.RUNNING):
            extra = f"  ({statements_ran(m.state.value, m.statements_run)}: {m.error or 'interrupted'})".replace("\n", " ")
        ctx.say(f"{MARKS[m.state.value]:8} {m.version:60} {when:16} {took:>8}  {rollback}{extra}")
    counts = {state: len(report.by_state(state)) for state in State}
    summary = ", ".join(f"{n} {state.value}" for state, n in counts.items() if n)
    if report.migrations:
        ctx.say(f"\n{summary}")
    blocking = counts[State.CHANGED] + counts[State.MISSING] + counts[State.RUNNING]
    troubled = blocking + counts[State.FAILED]
    if blocking:
        ctx.note("pgshift: some applied migrations changed, are missing or were interrupted: `pgshift migrate` "
                 "will refuse to run until that is resolved (see `pgshift repair --help`)")
    if counts[State.FAILED]:
        ctx.note("pgshift: a migration that ran without a transaction failed part-way: fix it so it can be re-run "
                 "and `pgshift migrate` retries it, or undo what it did and `pgshift repair` it")
    ctx.show_findings(list(report.problems))
    if report.problems:
        ctx.note("pgshift: `pgshift migrate` runs nothing while these file problems remain (`pgshift check` "
                 "lists every finding)")
    if args.exit_code and (counts[State.PENDING] or troubled or report.problems):
        return 1
    return 0

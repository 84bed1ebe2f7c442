"""Roll back the last applied migration (or --steps N, or --to VERSION).

Shows exactly what will run and asks for confirmation (default no); without a terminal it refuses unless
--yes is given. Each migration's rollback SQL and the removal of its tracking row run in one transaction.
"""

from __future__ import annotations

import argparse

from server.cli.context import CliContext
from server.cli.output import describe_database

NAME = "rollback"
HELP = "roll back applied migrations (asks for confirmation)"
ORDER = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", type=int, default=1, metavar="N", help="how many migrations (default 1)")
    parser.add_argument("--to", metavar="VERSION", help="roll back every migration after VERSION")
    parser.add_argument("--list", action="store_true", help="list recent applied migrations and whether each "
                                                            "can be rolled back, and change nothing")
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask; for scripts, after review")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.database.runner import Applied, Waiting, plan_rollback, rollback
    describe_database(ctx)
    if args.list:
        return _list(ctx)
    plan = plan_rollback(ctx.settings, steps=args.steps, to=args.to)
    if not ctx.json_output or not args.yes:
        print(plan.describe() + "\n", file=ctx.stderr)
    ctx.confirm("Roll back now?", assume_yes=args.yes, what="rollback")

    def on_event(event) -> None:
        if isinstance(event, Applied):
            ctx.say(f"rolled back {event.version} in {event.milliseconds} ms")
        elif isinstance(event, Waiting):
            ctx.note(f"pgshift: {event.reason}")

    result = rollback(ctx.settings, plan, on_event=on_event)
    ctx.emit_json({"ok": True, "database": result.database, "rolled_back": result.rolled_back,
                   "plan": plan.to_dict(ctx.root)})
    ctx.say(f"Rolled back {len(result.rolled_back)} migration(s). Run `pgshift snapshot` to refresh DATABASE.md.")
    return 0


def _list(ctx: CliContext, limit: int = 10) -> int:
    from engine.database.status import State, list_migrations
    report = list_migrations(ctx.settings)
    applied = [m for m in report.migrations if m.state in (State.APPLIED, State.CHANGED, State.MISSING)]
    recent = sorted(applied, key=lambda m: m.version, reverse=True)[:limit]
    ctx.emit_json({"ok": True, "database": report.database,
                   "migrations": [m.to_dict(ctx.root) for m in recent]})
    if not recent:
        ctx.say("No applied migrations.")
    for position, m in enumerate(recent, 1):
        when = f"{m.applied_at:%Y-%m-%d %H:%M}" if m.applied_at else ""
        can = "can roll back" if m.has_rollback else "NO rollback SQL"
        ctx.say(f"{position:>3}. {m.version:60} {when:16} {can}")
    if recent:
        ctx.say("\n`pgshift rollback` undoes #1; `--steps N` the first N.")
    return 0

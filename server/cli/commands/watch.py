"""For development: watch the migrations folder and, as files are saved, check them, apply new migrations
and refresh DATABASE.md, printing each step. Ctrl-C stops it cleanly."""

from __future__ import annotations

import argparse

from engine.errors import PgshiftError
from engine.runner import Applied, Started, migrate
from engine.watching import watch_migrations
from server.cli.context import CliContext
from server.cli.main import report_error
from server.cli.output import describe_database

NAME = "watch"
HELP = "check and apply migrations as they are saved (development)"
ORDER = 70


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-snapshot", action="store_true", help="do not refresh DATABASE.md after applying")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    describe_database(ctx)
    settings = ctx.settings
    ctx.say(f"watching {settings.migrations_dir} — Ctrl-C to stop")
    _cycle(ctx, args, changed=None)
    try:
        for changed in watch_migrations(settings):
            names = ", ".join(sorted(p.name for p in changed))
            ctx.say(f"\nchanged: {names}")
            _cycle(ctx, args, changed)
    except KeyboardInterrupt:
        pass
    ctx.say("stopped watching")
    return 0


def _cycle(ctx: CliContext, args: argparse.Namespace, changed) -> None:
    """Check, migrate, snapshot; a failure is printed and the watch goes on."""
    settings = ctx.settings
    try:
        from engine.lint import check
        report = check(settings, sorted(changed) if changed else None)
        existing = [f for f in report.findings]
        ctx.show_findings(existing)
    except ImportError:
        pass
    except PgshiftError as error:
        report_error(ctx, error)
    try:
        def on_event(event) -> None:
            if isinstance(event, Started):
                ctx.say(f"→ applying {event.version} …")
            elif isinstance(event, Applied):
                ctx.say(f"  applied in {event.milliseconds} ms")

        result = migrate(settings, on_event=on_event)
        if result.applied and not args.no_snapshot:
            try:
                from engine.snapshot import snapshot
            except ImportError:
                return
            made = snapshot(settings)
            ctx.say(f"  {made.path.name} {'updated' if made.changed else 'unchanged'}")
        elif not result.applied:
            ctx.say("up to date")
    except PgshiftError as error:
        report_error(ctx, error)

"""For development: watch the migrations folder and, as files are saved, check them, apply new migrations
and refresh DATABASE.md, printing each step. Ctrl-C stops it cleanly."""

from __future__ import annotations

import argparse

from server.cli.context import CliContext
from server.cli.output import describe_database

NAME = "watch"
HELP = "check and apply migrations as they are saved (development)"
ORDER = 70


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-snapshot", action="store_true", help="do not refresh DATABASE.md after applying")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.watching import watch_migrations
    describe_database(ctx)
    settings = ctx.settings
    try:
        for changed in watch_migrations(settings):
            if not changed:  # the watcher is running: do the initial pass
                ctx.say(f"watching {settings.migrations_dir} — Ctrl-C to stop")
                _cycle(ctx, args, changed=None)
                continue
            names = ", ".join(sorted(p.name for p in changed))
            ctx.say(f"\nchanged: {names}")
            _cycle(ctx, args, changed)
    except KeyboardInterrupt:
        pass
    ctx.say("stopped watching")
    return 0


def _cycle(ctx: CliContext, args: argparse.Namespace, changed: set | None) -> None:
    """Check what changed, migrate, refresh the snapshot; a failure is printed and the watch goes on."""
    from engine.errors import PgshiftError
    from engine.analysis.lint import check
    from engine.database.runner import Applied, Started, migrate
    from engine.database.snapshot import snapshot
    from server.cli.main import report_error
    settings = ctx.settings
    present = None if changed is None else sorted(p for p in changed if p.exists())
    try:
        if present is None or present:
            ctx.show_findings(list(check(settings, present).findings))

        def on_event(event) -> None:
            if isinstance(event, Started):
                ctx.say(f"→ applying {event.version} …")
            elif isinstance(event, Applied):
                ctx.say(f"  applied in {event.milliseconds} ms")

        result = migrate(settings, on_event=on_event)
        if not result.applied:
            ctx.say("up to date")
        elif not args.no_snapshot:
            made = snapshot(settings)
            ctx.say(f"  {made.path.name} {'updated' if made.changed else 'unchanged'}")
    except PgshiftError as error:
        report_error(ctx, error)

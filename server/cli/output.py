"""Small shared pieces of human output."""

from __future__ import annotations

from server.cli.context import CliContext


def describe_database(ctx: CliContext) -> None:
    """Say which database a command works on — always, and loudly for the embedded development one."""
    from engine.db import resolve_target
    folder = ctx.settings.migrations_dir
    if not folder.is_dir():
        ctx.note(f"pgshift: there is no migrations folder at {folder} (create it with `pgshift init` or "
                 "`pgshift new \"description\"`, or set migrations_dir)")
    target = resolve_target(ctx.settings)
    if target.embedded:
        ctx.note(f"pgshift: no database configured; using the embedded development database in {target.source} "
                 "(set DATABASE_URL or --database-url for a real one)")
    else:
        ctx.note(f"pgshift: database {target.display}")

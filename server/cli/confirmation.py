"""Show a reviewed list of tracking-table changes, ask, then make them: shared by `repair` and `mark`."""

from __future__ import annotations

from server.cli.context import CliContext


def confirm_and_apply(ctx: CliContext, changes: list, *, what: str, assume_yes: bool) -> None:
    """Print every change, ask (default no; --yes skips), then apply them in one transaction."""
    from engine.database.repair import apply_changes
    ctx.note("This will change the tracking table:\n" + "\n".join(f"  - {c.description}" for c in changes))
    ctx.confirm("Apply these changes?", assume_yes=assume_yes, what=what)
    apply_changes(ctx.settings, changes)

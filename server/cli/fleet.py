"""`--target`: the fleet side of `migrate` and `list`, one line per target and a summary."""

from __future__ import annotations

import argparse

from server.cli.context import CliContext


def add_target_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", metavar="NAME|GLOB|all",
                        help="work on the configured [tool.pgshift.targets] matching this (a name, a glob such as "
                             "'tenants/*', several joined by commas, or all) instead of one database")


def selected_targets(ctx: CliContext, pattern: str) -> list:
    """The targets `--target` names; discover queries run here, read-only."""
    from engine.errors import ConfigError
    from engine.fleet.targets import resolve, select
    settings = ctx.settings
    if not settings.targets:
        raise ConfigError("--target: no targets are configured",
                          help="add [tool.pgshift.targets.NAME] with url, url_env or discover to the project "
                               "settings (see docs/fleets.md)")
    return select(resolve(settings.targets), pattern)


def run_migrate(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.fleet.ledger import Ledger
    from engine.fleet.run import FAILED, migrate_fleet
    folder = ctx.settings.embedded_dir or ctx.root / ".pgshift"
    ledger = None
    if args.resume is not None:
        if args.target is not None or args.dry_run:
            from engine.errors import UsageError
            raise UsageError("--resume retries the targets of the run it names: leave out --target and --dry-run")
        ledger = Ledger.open(folder, args.resume)
        targets = ledger.unfinished(selected_targets(ctx, ledger.pattern))
        if not targets:
            ctx.say(f"Fleet run {ledger.run_id}: every target is done; nothing to resume.")
            ctx.emit_json({"ok": True, "run": ledger.run_id, "summary": "nothing to resume", "targets": []})
            return 0
    else:
        targets = selected_targets(ctx, args.target)
        ledger = None if args.dry_run else Ledger.new(folder, args.target)
    if ledger:
        ctx.note(f"pgshift: fleet run {ledger.run_id} (recorded in {ledger.path})")
    ctx.note(f"pgshift: fleet of {len(targets)} target(s), {args.concurrency} at a time"
             + (f", {args.canary} canary first" if args.canary else ""))
    width = max(len(t.name) for t in targets)

    def on_outcome(outcome) -> None:
        if outcome.state == FAILED:
            detail = f"{outcome.code}: {outcome.error}"
            if outcome.findings:  # PostgreSQL's own words, e.g. relation "accounts" already exists
                detail += f": {outcome.findings[0].message}"
            detail = detail.replace("\n", " ")
            if outcome.applied:
                detail += f" (applied before it: {len(outcome.applied)})"
        elif outcome.state == "done":
            verb = "would apply (dry run; rolled back)" if args.dry_run else "applied"
            detail = f"{len(outcome.applied)} {verb} in {outcome.milliseconds} ms" if outcome.applied else "up to date"
        else:
            detail = outcome.error or ""
        ctx.say(f"{outcome.state:7} {outcome.name:{width}}  {detail}")

    result = migrate_fleet(ctx.settings, targets, concurrency=args.concurrency,
                           continue_on_error=args.continue_on_error, canary=args.canary, on_outcome=on_outcome,
                           ledger=ledger,
                           dry_run=args.dry_run, to=args.to, allow_out_of_order=args.allow_out_of_order)
    for outcome in result.by_state(FAILED):
        if outcome.findings:
            ctx.note(f"pgshift: target {outcome.name}:")
            ctx.show_findings(list(outcome.findings))
    ctx.say(f"\nFleet: {result.summary()}.")
    if ledger and not result.ok:
        ctx.say(f"Retry the failed and unfinished targets with: pgshift migrate --resume {ledger.run_id}")
    ctx.emit_json(lambda: result.to_dict(ctx.root))
    return 0 if result.ok else 1


def run_list(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.fleet.status import fleet_status
    targets = selected_targets(ctx, args.target)
    matrix = fleet_status(ctx.settings, targets, concurrency=args.concurrency)
    ctx.emit_json(lambda: matrix.to_dict())
    width = max(len(t.name) for t in targets)
    ctx.say(f"{'target':{width}}  {'applied':>7}  {'newest applied':40}  {'pending':>7}  {'changed':>7}  "
            f"{'failed':>6}  state")
    for row in matrix.rows:
        ctx.say(f"{row.name:{width}}  {row.applied:>7}  {(row.newest or '-'):40}  {row.pending:>7}  "
                f"{row.changed:>7}  {row.failed:>6}  {row.describe()}")
    ctx.say(f"\nFleet: {matrix.summary()}")
    return 1 if args.exit_code and not matrix.all_current else 0

"""Set a project up for pgshift and Cursor: migrations folder, MCP server, rules, hook, .gitignore, npm scripts.

Nothing you wrote is replaced: JSON files are merged, text files appended to, and an entry of the same name that
differs from pgshift's is kept and reported. Running it again changes nothing. `--dry-run` shows the changes.
"""

from __future__ import annotations

import argparse
import difflib
from pathlib import Path
from typing import TYPE_CHECKING

from server.cli.context import CliContext

if TYPE_CHECKING:  # imported for real in run(), so that `pgshift --help` stays quick
    from engine.project_init import FileChange, InitPlan

NAME = "init"
HELP = "set this project up: migrations folder, Cursor MCP server, rules and hook, .gitignore, npm scripts"
ORDER = 5
CREATES_MIGRATIONS_DIR = True  # its job: a configured migrations folder need not exist yet

LAUNCHER_NOTES = {
    "path": "Cursor starts pgshift as `pgshift`, found on PATH: {reason}.",
    "workspace": "Cursor starts pgshift from the project's virtualenv ({program}): {reason}.",
    "absolute": "Cursor starts pgshift by its absolute path on this machine ({program}): {reason}. Teammates with "
                "another layout should run `pgshift init` themselves or edit .cursor/mcp.json and .cursor/hooks.json.",
    "python": "Cursor starts pgshift as `{program} -m server`: {reason}.",
    "given": "Cursor starts pgshift as `{program}`: {reason}.",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="show the changes (with diffs) without writing")
    parser.add_argument("--pgshift-command", metavar="CMD",
                        help="how Cursor, the hook and npm scripts should start pgshift (default: the project's "
                             "virtualenv, else `pgshift` when PATH finds this one outside any virtualenv, else "
                             "this executable's absolute path)")
    parser.add_argument("--no-editor-extension", action="store_true",
                        help="do not install the pgshift extension into Cursor / VS Code / VSCodium "
                             "(`pgshift editor install` does it later)")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.project_init import apply_init, plan_init, resolve_launcher
    settings = ctx.settings
    launcher = resolve_launcher(settings.project_root, given=args.pgshift_command)
    plan = plan_init(settings.project_root, migrations_dir=settings.migrations_dir,
                     snapshot_path=settings.snapshot_path, backup_dir=settings.backup_dir, launcher=launcher)
    if not args.dry_run:
        apply_init(plan)
    summary = _to_json(plan, written=not args.dry_run)
    _report(plan, ctx, dry_run=args.dry_run)
    code = 0
    if not (args.dry_run or args.no_editor_extension):
        from server.cli.editor_setup import install_editor_extension
        ctx.say("")
        code, summary["editor_extension"] = install_editor_extension(ctx, plan.root)
    ctx.emit_json(summary)
    return code


def _rel(plan: InitPlan, path: Path) -> str:
    try:
        return path.relative_to(plan.root).as_posix()
    except ValueError:
        return str(path)


def _report(plan: InitPlan, ctx: CliContext, *, dry_run: bool) -> None:
    ctx.say(f"pgshift init in {plan.root}" + (" (dry run: nothing written)" if dry_run else ""))
    width = max((len(_rel(plan, c.path)) for c in plan.changes), default=0)
    for change in plan.changes:
        verb = ("would " if dry_run else "") + ("create" if change.action == "create" else "update")
        verb = verb if dry_run else verb + "d"
        ctx.say(f"  {verb:<13} {_rel(plan, change.path):<{width}}  {change.summary}")
        if dry_run and change.previous is not None:
            _show_diff(plan, change, ctx)
    for note in plan.notes:
        ctx.say(f"  {'conflict' if note.conflict else 'kept':<13} {_rel(plan, note.path)}: {note.message}")
    if plan.nothing_to_do:
        ctx.say("Nothing to do: this project is already set up.")
        return
    note = LAUNCHER_NOTES.get(plan.launcher.kind)
    if note:
        ctx.say(note.format(program=plan.launcher.program, reason=plan.launcher.reason or "as configured"))
    if dry_run:
        ctx.say("Run `pgshift init` without --dry-run to make these changes.")
        return
    _next_steps(plan, ctx)


def _show_diff(plan: InitPlan, change: FileChange, ctx: CliContext) -> None:
    name = _rel(plan, change.path)
    diff = difflib.unified_diff((change.previous or "").splitlines(keepends=True),
                                change.content.splitlines(keepends=True), f"a/{name}", f"b/{name}")
    for line in diff:
        ctx.say("      " + line.rstrip("\n"))


def _next_steps(plan: InitPlan, ctx: CliContext) -> None:
    program = plan.launcher.shell()
    ctx.say("")
    ctx.say("Next steps:")
    steps = []
    if plan.example_migration is not None:
        steps.append(f"Read the example migration {_rel(plan, plan.example_migration)} (edit or delete it).")
    steps += [
        "Open the project in Cursor. Settings > MCP should list the \"pgshift\" server (enable it if asked), and "
        "Settings > Hooks the beforeMCPExecution hook.",
        "Ask the assistant for a schema change, e.g. \"add an instagram_url column to tenants.business\": it "
        "creates, checks and verifies a migration, then asks you before applying it.",
        "Or from a terminal: pgshift new \"description\", pgshift check, pgshift verify, pgshift migrate --dry-run, "
        "pgshift migrate, pgshift snapshot" + ("." if program == "pgshift" else f" (pgshift here being {program})."),
        "Commit migrations/, .cursor/, AGENTS.md and .gitignore.",
    ]
    for number, step in enumerate(steps, 1):
        ctx.say(f"  {number}. {step}")


def _to_json(plan: InitPlan, *, written: bool) -> dict:
    return {
        "ok": True,
        "written": written,
        "root": str(plan.root),
        "launcher": {"kind": plan.launcher.kind, "reason": plan.launcher.reason, "mcp": plan.launcher.mcp_entry(),
                     "hook": plan.launcher.hook_command()},
        "changes": [{"path": _rel(plan, c.path), "action": c.action, "summary": c.summary} for c in plan.changes],
        "notes": [{"path": _rel(plan, n.path), "message": n.message, "conflict": n.conflict} for n in plan.notes],
    }

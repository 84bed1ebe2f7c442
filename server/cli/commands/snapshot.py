"""Write DATABASE.md: the database's schema as markdown tables and a Mermaid diagram, for review in git diffs."""

from __future__ import annotations

import argparse

from server.cli.output import describe_database


NAME = "snapshot"
HELP = "write the schema to DATABASE.md (tables, keys, indexes, views, types, functions, ER diagram)"
ORDER = 60


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when DATABASE.md is not up to date (for CI)")
    parser.add_argument("--stdout", action="store_true", help="print the markdown instead of writing the file")


def run(args: argparse.Namespace, ctx) -> int:
    describe_database(ctx)
    from engine.database.snapshot import snapshot
    settings = ctx.settings
    result = snapshot(settings, write=not (args.check or args.stdout))
    shown = _relative(result.path, settings.project_root)
    if args.stdout and not ctx.json_output:
        ctx.stdout.write(result.text)
        return 0
    ctx.emit_json({"ok": not (args.check and result.changed), "path": shown, "changed": result.changed,
                   "written": result.changed and not (args.check or args.stdout),
                   **({"text": result.text} if args.stdout else {})})
    if args.check:
        if result.changed:
            ctx.note(f"pgshift: {shown} is out of date with the database; run 'pgshift snapshot' and commit it")
            return 1
        ctx.say(f"{shown} is up to date")
        return 0
    ctx.say(f"Wrote {shown}" if result.changed else f"{shown} is up to date (no schema change)")
    return 0


def _relative(path, root) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)

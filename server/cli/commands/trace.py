"""Trace migrations in the shadow database: what PostgreSQL really locks, scans and rewrites, statement by statement.

The shadow holds the schema after the earlier migrations, replayed from the files (never from your
database) on the embedded PostgreSQL, or on `shadow_database_url`, and cached per history prefix. Each
migration runs in a transaction that is always rolled back, followed by its ROLLBACK block, which must bring
the schema back. Without VERSION: the pending migrations, else the newest. Exit 1 when a statement fails or
the rollback does not restore the schema.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "trace"
HELP = "run migrations in a rolled-back transaction on a shadow database: locks, scans, rewrites, errors"
ORDER = 44


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("versions", nargs="*", metavar="VERSION|PATH",
                        help="migrations to trace: version, file name, path or unique prefix "
                             "(default: the pending ones, else the newest)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default=None,
                        help="text (default), json (as --json), or markdown for a pull request comment")


def run(args: argparse.Namespace, ctx) -> int:
    from engine.shadow.trace import trace
    from server.cli.trace_output import markdown, text
    settings = ctx.settings
    root = settings.project_root
    output = args.format or ("json" if ctx.json_output else "text")
    result = trace(settings, [Path(v).name for v in args.versions] or None)
    ctx.note(f"pgshift: traced in a shadow database on {result.shadow_server} "
             "(every migration rolled back; your database is not touched)")
    for migration in result.migrations:
        ctx.show_findings(migration.findings)
    if output == "json":
        ctx.json_output = True
        ctx.emit_json(result.to_dict(root))
    elif output == "markdown":
        print(markdown(result, root), file=ctx.stdout)
    else:
        print(text(result, root), file=ctx.stdout)
    return 0 if result.ok else 1


def traced_findings(ctx, paths: list[Path] | None) -> list:
    """For `check --trace`: the trace of the checked migration files (default: the pending ones) as findings."""
    from engine.shadow.findings import trace_findings
    from engine.shadow.trace import trace
    settings = ctx.settings
    folder = settings.migrations_dir.resolve()
    versions: list[str] = []
    for path in paths or []:
        files = sorted(path.glob("*.sql")) if path.is_dir() else [path]
        versions += [f.stem for f in files if f.resolve().parent == folder]
    if paths and not versions:
        return []  # nothing checked is a migration of this project: nothing to trace
    result = trace(settings, versions or None)
    ctx.note(f"pgshift: traced {len(result.migrations)} migration(s) in a shadow database on {result.shadow_server}")
    return [finding for migration in result.migrations for finding in trace_findings(migration)]

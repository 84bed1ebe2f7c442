"""Dump the configured database with pg_dump into backups/<dbname>_YYYYMMDD_HHMMSS.sql (plain SQL)."""

from __future__ import annotations

import argparse

from server.cli.output import describe_database
from pathlib import Path


NAME = "backup"
HELP = "pg_dump the database into backup_dir/<dbname>_YYYYMMDD_HHMMSS.sql (or --output)"
ORDER = 70


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="FILE", type=Path,
                        help="write the dump here instead of backup_dir (relative to the project folder)")


def run(args: argparse.Namespace, ctx) -> int:
    describe_database(ctx)
    from engine.database.backup import backup
    settings = ctx.settings
    result = backup(settings, args.output)
    data = result.to_dict(settings.project_root)
    ctx.emit_json({"ok": True, **data})
    ctx.say(f"Wrote {data['path']} ({_size(result.bytes)} in {result.seconds:.1f}s) with {result.pg_dump}")
    return 0


def _size(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} bytes"

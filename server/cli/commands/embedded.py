"""The embedded development database under .pgshift/ that pgshift starts when no database is configured:
show where it is, or stop it (it keeps running between commands so that each command starts instantly)."""

from __future__ import annotations

import argparse

from server.cli.context import CliContext

NAME = "embedded"
HELP = "status / stop / url of the embedded development database"
ORDER = 90


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["status", "stop", "url"], help="what to do")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.database.db import display_url, start_embedded, stop_embedded
    folder = ctx.settings.embedded_dir
    if args.action == "stop":
        stopped = stop_embedded(folder)
        ctx.say("stopped the embedded database" if stopped else "the embedded database was not running")
        ctx.emit_json({"ok": True, "stopped": stopped})
        return 0
    running = (folder / "pgdata" / "postmaster.pid").exists()
    if args.action == "url":
        url = start_embedded(folder)
        ctx.say(display_url(url))
        ctx.emit_json({"ok": True, "url": display_url(url)})
        return 0
    ctx.say(f"{folder / 'pgdata'}: {'running' if running else 'not running'}")
    ctx.emit_json({"ok": True, "path": str(folder / "pgdata"), "running": running})
    return 0

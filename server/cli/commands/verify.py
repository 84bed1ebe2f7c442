"""Prove migrations in a scratch database: forward, rollback to the identical schema, forward again.

Which migrations: the VERSIONs given (version, file name or a unique prefix); without any, the ones not yet
applied on the configured database, or the newest migration when nothing is pending or the database cannot
be reached. Every migration before each one is applied first. The scratch database (pgshift_verify_<random>)
lives on the configured server when the role may create databases, else on the embedded PostgreSQL, and is
always dropped afterwards. The real database's data is never touched.
"""

from __future__ import annotations

import argparse


NAME = "verify"
HELP = "prove migrations in a scratch database: forward, rollback restores the schema, forward again"
ORDER = 45


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("versions", nargs="*", metavar="VERSION",
                        help="migrations to verify (default: the pending ones, else the newest)")


def run(args: argparse.Namespace, ctx) -> int:
    from engine.shadow.verify import NO_ROLLBACK, OK, verify
    settings = ctx.settings
    root = settings.project_root

    def progress(version: str, verdict) -> None:
        if verdict is None:
            return
        label = {OK: "ok", NO_ROLLBACK: "forward only"}.get(verdict.status, f"FAILED ({verdict.step})")
        ctx.say(f"  {label:<18} {version}")

    result = verify(settings, args.versions or None, on_progress=progress)
    why = f", because {result.fallback_reason}" if result.fallback_reason else ""
    ctx.note(f"pgshift: verified in a scratch database on {result.scratch_server}{why} (dropped afterwards)")
    for verdict in result.migrations:
        if verdict.findings:
            ctx.show_findings(list(verdict.findings))
        elif not verdict.ok:
            ctx.note(f"{verdict.version}: {verdict.message}")
    ctx.emit_json(result.to_dict(root))
    failed = [m for m in result.migrations if not m.ok]
    if failed:
        ctx.note(f"pgshift: {len(failed)} of {len(result.migrations)} migration(s) not verified")
        return 1
    ctx.say(f"All {len(result.migrations)} migration(s) verified.")
    return 0

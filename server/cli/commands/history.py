"""Every migration that names a table, view or sequence, in order: where it was created, changed, used and
dropped (ROLLBACK blocks included). The terminal's form of the editor's find-references."""

from __future__ import annotations

import argparse

NAME = "history"
HELP = "every migration that creates, changes or drops a table, view or sequence"
ORDER = 22


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("relation", metavar="NAME", help="a table, view or sequence: NAME or SCHEMA.NAME")


def run(args: argparse.Namespace, ctx) -> int:
    from engine.analysis.files import discover
    from engine.analysis.relations import Relation, references
    relation = Relation.parse(args.relation)
    refs = references(discover(ctx.settings.migrations_dir), relation)
    ctx.emit_json(lambda: {"relation": relation.qualified, "references": [r.to_dict(ctx.root) for r in refs]})
    if not refs:
        folder = ctx.settings.migrations_dir
        where = "" if folder.is_dir() else f" (there is no migrations folder at {folder})"
        ctx.say(f"No migration names {relation.qualified}{where}.")
        return 0
    for r in refs:
        ctx.say(f"{r.version:40} {r.role:9} {r.location(ctx.root)}{'  (rollback)' if r.in_rollback else ''}")
    files = len({r.path for r in refs})
    ctx.say(f"\n{relation.qualified}: named in {files} migration{'s' if files != 1 else ''}")
    return 0

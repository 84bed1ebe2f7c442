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
    from engine.files import discover
    from engine.findings import relative_path
    from engine.relations import Relation, references
    relation = Relation.parse(args.relation)
    refs = references(discover(ctx.settings.migrations_dir), relation)
    root = ctx.root
    ctx.emit_json(lambda: {"relation": {"schema": relation.schema, "name": relation.name},
                           "references": [{"version": r.version, "role": r.role, "rollback": r.in_rollback,
                                           "path": relative_path(r.path, root), "line": r.span.start.line + 1,
                                           "column": r.span.start.column + 1} for r in refs]})
    if not refs:
        ctx.say(f"No migration names {relation.schema}.{relation.name}.")
        return 0
    for r in refs:
        where = f"{relative_path(r.path, root)}:{r.span.start.line + 1}:{r.span.start.column + 1}"
        ctx.say(f"{r.version:40} {r.role:9} {where}{'  (rollback)' if r.in_rollback else ''}")
    files = len({r.path for r in refs})
    ctx.say(f"\n{relation.schema}.{relation.name}: named in {files} migration{'s' if files != 1 else ''}")
    return 0

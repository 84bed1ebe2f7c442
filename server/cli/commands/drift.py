"""Find changes made to the database by hand: its schema against a replay of its applied migrations.

The applied migrations (per the tracking table, the files as on disk) run in a scratch database
(pgshift_verify_<random>, on the configured server when the role may create databases, else on the embedded
PostgreSQL; always dropped afterwards), and the two schemas are compared: columns, constraints, indexes,
defaults, functions, views, types, grants and comments. Objects an extension owns are left out, and so are the
names matching `drift_ignore` (glob patterns on schema-qualified names, e.g. ["public.tmp_*", "audit.*"]).
Exit 1 when the database has drifted, 0 when it has not. The database is only read.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

NAME = "drift"
HELP = "compare the database's schema with what its applied migrations give: find changes made by hand"
ORDER = 46


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json", "markdown"), default=None,
                        help="text (default), json, or markdown for a pull request or CI summary")


def run(args: argparse.Namespace, ctx) -> int:
    from engine.shadow.drift import drift, render_markdown
    settings = ctx.settings
    root = settings.project_root
    result = drift(settings)
    output = args.format or ("json" if ctx.json_output else "text")
    why = f", because {result.fallback_reason}" if result.fallback_reason else ""
    ctx.note(f"pgshift: replayed {len(result.applied)} applied migration(s) in a scratch database on "
             f"{result.scratch_server}{why} (dropped afterwards)")
    if result.version_warning:
        ctx.note(f"pgshift: warning: {result.version_warning}")
    if output == "json":
        ctx.json_output = True
        ctx.emit_json(result.to_dict(root))
    elif output == "markdown":
        print(render_markdown(result, root), end="", file=ctx.stdout)
    else:
        ctx.show_findings(list(result.problems))
        for item in result.items:
            ctx.say(replace(item.finding(), help=None).render(root))
            for line in item.detail:
                ctx.say(f"    {line}")
        ignored = f" ({result.ignored} difference(s) ignored by drift_ignore)" if result.ignored else ""
        if result.drifted:
            ctx.say(f"Drift: {len(result.items)} difference(s) between the database and its applied "
                    f"migrations{ignored}.")
            ctx.say("  help: someone changed the database by hand: put each change in a new migration, or undo "
                    "it; add names pgshift should not own to drift_ignore")
        else:
            ctx.say(f"No drift: the database matches its {len(result.applied)} applied migration(s){ignored}.")
    return 1 if result.drifted else 0

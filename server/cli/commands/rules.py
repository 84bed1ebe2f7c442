"""List the rules `pgshift check` applies, with each one's level in this project, or explain the named codes.

`pgshift rules require-concurrent-index-creation` prints what the rule catches, why it matters and an
"Instead of" / "Use" example: the same text as docs/rules.md and the editor's hover. Any other code pgshift
reports (`pgshift rules file-name`, `pgshift rules migration-failed`) is explained the same way.
"""

from __future__ import annotations

import argparse

NAME = "rules"
HELP = "list the lint rules, or explain the named codes (rules or any other code pgshift reports)"
ORDER = 21


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", metavar="RULE", help="codes to explain: rule ids or any code pgshift reports (default: list every rule)")


def run(args: argparse.Namespace, ctx) -> int:
    from engine.analysis.lint import rule_catalog
    rules = rule_catalog(ctx.settings, args.ids)
    ctx.emit_json(lambda: {"rules": [{"id": r.id, "default": r.default.label,
                                      "level": r.level.label if r.level else "off", "summary": r.summary,
                                      "documentation": r.markdown} for r in rules]})
    if args.ids:
        ctx.say("\n".join(r.markdown for r in rules).rstrip())
        return 0
    width = max(len(r.id) for r in rules)
    for r in rules:
        level = r.level.label if r.level else "off"
        changed = f" (default {r.default.label})" if r.level is not r.default else ""
        ctx.say(f"{level:8} {r.id:{width}}  {r.summary}{changed}")
    ctx.say(f"\n{len(rules)} rules; `pgshift rules CODE` explains one, or any other code pgshift reports "
            "(file-name, migration-failed, ...). Levels are set in [tool.pgshift.rules].")
    return 0

"""Rule documentation from the rule modules' docstrings: examples for the meta-test, markdown for docs/rules.md."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from engine.analysis.rules import Rule, all_rules

START, END = "<!-- rules:start (generated from engine/analysis/rules/*.py docstrings) -->", "<!-- rules:end -->"


def _block(doc: str, heading: str) -> str | None:
    match = re.search(rf"^{heading}:\n\n((?:    .*\n|\n)+)", doc + "\n", re.MULTILINE)
    return textwrap.dedent(match.group(1)).strip() + "\n" if match else None


def examples(rule: Rule) -> tuple[str | None, str | None]:
    """The rule's "Instead of:" (should fire) and "Use:" (should not) SQL examples."""
    return _block(rule.doc, "Instead of"), _block(rule.doc, "Use")


def render_rule(rule: Rule) -> str:
    doc = rule.doc.split("\n", 1)
    body = doc[1].strip() if len(doc) > 1 else ""
    prose = re.split(r"^Instead of:$", body, flags=re.MULTILINE)[0].strip()
    bad, good = examples(rule)
    out = [f"### {rule.id}", "", f"*{rule.severity.label}* — {rule.summary}", ""]
    if prose:
        out += [prose, ""]
    if bad:
        out += ["Instead of:", "", "```sql", bad.rstrip(), "```", ""]
    if good:
        out += ["Use:", "", "```sql", good.rstrip(), "```", ""]
    return "\n".join(out)


def render_rules_markdown() -> str:
    rules = all_rules()
    table = ["| Rule | Default | What it catches |", "|---|---|---|"]
    table += [f"| [`{r.id}`](#{r.id}) | {r.severity.label} | {r.summary} |" for r in rules.values()]
    return "\n".join([START, "", *table, "", *(render_rule(r) for r in rules.values()), END])


def update_rules_doc(path: Path) -> bool:
    """Rewrite the generated part of docs/rules.md; True when it changed."""
    from engine.analysis.codes import write_generated_section
    return write_generated_section(path, START, END, render_rules_markdown())

"""Every rule documents itself: its "Instead of" example fires it, its "Use" example does not; docs/rules.md is current."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.analysis.findings import Severity
from engine.analysis.lint import check_text
from engine.analysis.rules import all_rules
from engine.analysis.rules.docs import END, START, examples, render_rules_markdown
from tests.engine.rules.lintkit import PATH, settings

RULES = all_rules()
DOCS = Path(__file__).resolve().parents[3] / "docs" / "rules.md"
# lock_timeout 0 turns off the runner's own timeout, the one situation require-timeout-settings is about.
EXAMPLE_SETTINGS = settings(lock_timeout="0")


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_instead_of_example_fires(rule_id):
    bad, _ = examples(RULES[rule_id])
    assert bad, f"{rule_id}: docstring has no 'Instead of:' example"
    assert rule_id in [f.code for f in check_text(PATH, bad, EXAMPLE_SETTINGS)]


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_use_example_does_not_fire(rule_id):
    _, good = examples(RULES[rule_id])
    assert good, f"{rule_id}: docstring has no 'Use:' example"
    assert rule_id not in [f.code for f in check_text(PATH, good, EXAMPLE_SETTINGS)]


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_has_a_kebab_case_id_and_a_summary(rule_id):
    rule = RULES[rule_id]
    assert rule.id == rule.id.lower() and " " not in rule.id and "_" not in rule.id
    assert rule.doc.startswith(rule.id + ": ") and len(rule.summary) > 20
    assert isinstance(rule.severity, Severity)


def test_docs_rules_md_is_generated_from_the_docstrings():
    text = DOCS.read_text(encoding="utf-8")
    generated = text[text.index(START):text.index(END) + len(END)]
    assert generated == render_rules_markdown(), (
        "docs/rules.md is out of date: run .venv/bin/python -c \"from pathlib import Path; "
        "from engine.analysis.rules.docs import update_rules_doc; update_rules_doc(Path('docs/rules.md'))\"")


def test_every_finding_code_the_engine_emits_has_a_docs_section():
    """The editor links each diagnostic to docs/rules.md#<code>: no link may lead nowhere."""
    import re
    engine = Path(__file__).resolve().parents[3] / "engine"
    codes = {"reapply-failed", "rollback-incomplete", "reapply-differs"}  # from mappings in engine/shadow/verify.py
    for path in engine.rglob("*.py"):
        codes |= set(re.findall(r'Finding\(\s*"([a-z-]+)"', path.read_text(encoding="utf-8")))
    headings = set(re.findall(r"^###+ ([a-z-]+)$", DOCS.read_text(encoding="utf-8"), re.MULTILINE))
    assert sorted(codes - headings) == []

"""Helpers for rule tests: lint SQL in memory, render findings, apply a fix and re-lint."""

from __future__ import annotations

from pathlib import Path

from engine.config import Settings
from engine.analysis.findings import Finding, Fix, LineIndex
from engine.analysis.lint import check_text

PATH = Path("migrations/2024-05-01_1200_change.sql")
ROLLBACK = "\n-- ROLLBACK:\n-- SELECT 1;\n"


def settings(**changes) -> Settings:
    return Settings(project_root=Path("."), migrations_dir=Path("migrations"), **changes)


def lint(sql: str, *, with_rollback: bool = True, **config) -> list[Finding]:
    """Findings for `sql` as a whole migration (a trivial ROLLBACK block is added unless told otherwise)."""
    text = sql + ROLLBACK if with_rollback else sql
    return check_text(PATH, text, settings(**config) if config else None)


def codes(sql: str, **kwargs) -> list[str]:
    return [f.code for f in lint(sql, **kwargs)]


def fired(rule: str, sql: str, **kwargs) -> list[Finding]:
    return [f for f in lint(sql, **kwargs) if f.code == rule]


def assert_ok(rule: str, sql: str, **kwargs) -> None:
    found = fired(rule, sql, **kwargs)
    assert not found, "\n".join(f.render() for f in found)


def render(rule: str, sql: str, **kwargs) -> str:
    return "\n".join(f.render() for f in fired(rule, sql, **kwargs))


def apply_fix(text: str, fix: Fix) -> str:
    """Apply a Fix's edits (last first, so earlier positions stay valid)."""
    index = LineIndex(text)
    for edit in sorted(fix.edits, key=lambda e: e.span.start, reverse=True):
        start, end = index.offset(edit.span.start), index.offset(edit.span.end)
        text = text[:start] + edit.new_text + text[end:]
    return text

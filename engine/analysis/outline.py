"""A migration's outline: its statements, then its ROLLBACK block's, each named as a reader scans a file.

Editors show it as the document's symbols (outline view, breadcrumbs, go to symbol), so a long migration
can be read and navigated by what it does rather than by line numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.analysis.files import MigrationFile
from engine.analysis.findings import LineIndex, Position, Span
from engine.analysis.sql import analyse

ROLLBACK = "rollback"  # the kind of the item that holds the ROLLBACK block's statements
MAX_LABEL = 80


@dataclass(frozen=True)
class OutlineItem:
    """`kind` is the statement's parse-tree kind (`CreateStmt`, `AlterTableStmt`, ...) or ROLLBACK."""

    name: str
    kind: str
    span: Span
    children: tuple[OutlineItem, ...] = ()


def outline(migration: MigrationFile) -> list[OutlineItem]:
    """The forward statements in order, then one ROLLBACK item holding the rollback's statements."""
    index = LineIndex(migration.text)
    items = [OutlineItem(statement_label(s.text), s.kind, index.span(s.start, s.end))
             for s in analyse(migration.forward_sql).statements]
    if migration.marker_line is not None:
        rollback = analyse(migration.rollback_sql or "").statements
        children = tuple(OutlineItem(statement_label(s.text), s.kind, migration.rollback_span(s.start, s.end))
                         for s in rollback)
        end = index.position(len(migration.text))
        items.append(OutlineItem("ROLLBACK", ROLLBACK, Span(Position(migration.marker_line, 0), end), children))
    return items


def statement_label(text: str) -> str:
    """`CREATE TABLE tenants.business`, `ALTER TABLE t ADD COLUMN email text`: the statement on one line, up
    to its first `(` (column and argument lists) or comment, shortened to MAX_LABEL characters."""
    head = text.split("(", 1)[0]
    head = " ".join(line.split("--", 1)[0].strip() for line in head.split("\n"))
    head = " ".join(head.split()) or " ".join(text.split())[:MAX_LABEL]
    return head if len(head) <= MAX_LABEL else head[:MAX_LABEL - 1].rstrip() + "…"

"""The outline an editor shows for a migration: statements named as a reader scans them, rollback nested."""

from __future__ import annotations

from pathlib import Path

from engine.analysis.files import parse_migration
from engine.analysis.findings import Position, Span
from engine.analysis.outline import ROLLBACK, outline, statement_label

PATH = Path("migrations/2025-03-01_1000_orders.sql")
TEXT = """-- Orders and their index.
CREATE TABLE orders (
  id bigint PRIMARY KEY,
  customer_id bigint NOT NULL
);
CREATE INDEX orders_customer_idx ON orders (customer_id);
UPDATE orders SET customer_id = 0 -- backfill
  WHERE customer_id IS NULL;

-- ROLLBACK:
-- DROP INDEX orders_customer_idx;
--   DROP TABLE orders;
"""


def test_statements_in_order_then_the_rollback_block_with_its_own():
    items = outline(parse_migration(PATH, TEXT))
    assert [(i.name, i.kind) for i in items] == [
        ("CREATE TABLE orders", "CreateStmt"),
        ("CREATE INDEX orders_customer_idx ON orders", "IndexStmt"),
        ("UPDATE orders SET customer_id = 0 WHERE customer_id IS NULL", "UpdateStmt"),
        ("ROLLBACK", ROLLBACK),
    ]
    assert items[0].span == Span(Position(1, 0), Position(4, 1))
    assert items[2].span == Span(Position(6, 0), Position(7, 27))
    rollback = items[-1]
    assert rollback.span.start == Position(9, 0)
    # Rollback statements sit where they are in the file, after each line's `-- ` (and its extra indent).
    assert [(c.name, c.span) for c in rollback.children] == [
        ("DROP INDEX orders_customer_idx", Span(Position(10, 3), Position(10, 33))),
        ("DROP TABLE orders", Span(Position(11, 5), Position(11, 22))),
    ]


def test_a_file_without_rollback_block_or_with_broken_sql_still_has_an_outline():
    assert [i.name for i in outline(parse_migration(PATH, "ALTER TABLE t ADD COLUMN c text;\n"))] == [
        "ALTER TABLE t ADD COLUMN c text"]
    names = [i.name for i in outline(parse_migration(PATH, "CREATE TABLE a (id int);\nSELEC 1;\n"))]
    assert names[0] == "CREATE TABLE a"


def test_labels_are_one_line_and_short():
    assert statement_label("CREATE\n  VIEW v AS SELECT 1") == "CREATE VIEW v AS SELECT 1"
    long = statement_label("UPDATE t SET note = '" + "x" * 200 + "'")
    assert len(long) == 80 and long.endswith("…")
    assert statement_label("(SELECT 1) UNION (SELECT 2)") == "(SELECT 1) UNION (SELECT 2)"

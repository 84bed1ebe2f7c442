"""one-change-per-migration: partitions made or attached with their partitioned table are one change."""

from __future__ import annotations

from tests.engine.rules.lintkit import assert_ok, fired

RULE = "one-change-per-migration"


def test_partitions_created_with_their_table_are_one_change():
    assert_ok(RULE, "CREATE TABLE app.orders (id int, at date) PARTITION BY RANGE (at);\n"
                    "CREATE TABLE app.orders_2025 PARTITION OF app.orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\n"
                    "CREATE INDEX orders_at_idx ON app.orders (at);")


def test_a_partition_created_then_attached_is_one_change():
    assert_ok(RULE, "CREATE TABLE app.orders_03 (LIKE app.orders INCLUDING DEFAULTS);\n"
                    "ALTER TABLE app.orders ATTACH PARTITION app.orders_03 FOR VALUES FROM ('2025-03-01') TO ('2025-04-01');")


def test_two_unrelated_tables_are_still_two_changes():
    found = fired(RULE, "CREATE TABLE app.orders_03 PARTITION OF app.orders FOR VALUES IN (3);\n"
                        "ALTER TABLE app.customers ADD COLUMN vip boolean;")
    assert [f.message.split(":")[0] for f in found] == [
        "this migration changes both 'orders' and 'customers'"]

"""DATABASE.md's Mermaid diagrams on a real 150-table schema: each below Mermaid's limit, nothing left out.

Mermaid refuses a diagram of 50,000 characters or more ("Maximum text size in diagram exceeded", issue 10
item 24); a real 100-table schema made one of 56,206.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from engine.database.er_diagram import render_diagrams, size
from engine.database.snapshot import read_schema, render_database_md

MERMAID_CHECK = Path(__file__).resolve().parents[1] / "js" / "mermaid"

TABLES = 150
REFERENCE_DISTANCES = (1, 2, 3, 5, 8, 13, 21, 34)  # each table references up to 8 earlier ones
TYPES = ("text", "bigint", "numeric(12,2)", "timestamp with time zone", "boolean", "jsonb", "uuid",
         "character varying(200)")


def _table(i: int) -> str:
    return f"shop.customer_order_line_item_{i:03}"


def _schema_sql() -> str:
    statements = ["CREATE SCHEMA shop", "CREATE SCHEMA audit"]
    for i in range(TABLES):
        columns = ["id bigint PRIMARY KEY", f"code_{i} text UNIQUE"]
        columns += [f"descriptive_attribute_{n:02} {TYPES[n % len(TYPES)]}" for n in range(30)]
        columns += [f"parent_{k}_id bigint {'NOT NULL ' if k % 2 else ''}REFERENCES {_table(i - k)}"
                    for k in REFERENCE_DISTANCES if i - k >= 0]
        statements.append(f"CREATE TABLE {_table(i)} ({', '.join(columns)})")
    # Another schema whose foreign keys point into the first, a table without any key, and an odd name.
    for i in range(5):
        statements.append(f"CREATE TABLE audit.event_{i} (id bigint PRIMARY KEY, at timestamptz, "
                          f"row_id bigint REFERENCES {_table(i * 30)})")
    statements.append("CREATE TABLE audit.loose_notes (body text)")
    statements.append('CREATE TABLE audit."Odd ""name""" (a int, b int, PRIMARY KEY (a, b))')
    statements.append('CREATE TABLE audit.pair_ref (x int, y int, FOREIGN KEY (x, y) REFERENCES audit."Odd ""name""")')
    return ";\n".join(statements)


@pytest.fixture
def big_schema(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(_schema_sql())
        tables = {f"{s}.{t}" for s, t in conn.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname IN ('shop', 'audit')")}
        foreign_keys = _foreign_keys(conn)
        schema = read_schema(conn)
    assert len(tables) == TABLES + 8 and len(foreign_keys) > 1000
    return schema, tables, foreign_keys


def _foreign_keys(conn) -> set[tuple[str, str, str]]:
    """(parent, child, columns) of every foreign key, read from the catalog without pgshift."""
    return set(conn.execute("""
        SELECT pn.nspname || '.' || pc.relname, cn.nspname || '.' || cc.relname,
               array_to_string(array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, i)
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.i), ', ')
        FROM pg_constraint con
        JOIN pg_class pc ON pc.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
        JOIN pg_class cc ON cc.oid = con.conrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
        WHERE con.contype = 'f'""").fetchall())


_BLOCK_RE = re.compile(r"^```mermaid\n(.*?)\n```$", re.DOTALL | re.MULTILINE)
_ENTITY_RE = re.compile(r'^    "(?P<name>[^"]*)"(?: \{)?$')
_RELATION_RE = re.compile(r'^    "(?P<parent>[^"]*)" (?:\|\||\|o)--(?:o\||o\{) '
                          r'"(?P<child>[^"]*)" : "(?P<label>[^"]*)"$')


def _contents(blocks: list[str]) -> tuple[set[str], set[tuple[str, str, str]], set[tuple[str, str]]]:
    """Entities, relationships (parent, child, label) and (entity, attribute line) drawn in the blocks."""
    entities, relations, attributes = set(), set(), set()
    for block in blocks:
        current = None
        for line in block.splitlines():
            if (match := _RELATION_RE.match(line)):
                relations.add((match["parent"], match["child"], match["label"]))
            elif (match := _ENTITY_RE.match(line)):
                entities.add(match["name"])
                current = match["name"] if line.endswith("{") else None
            elif line == "    }":
                current = None
            elif current is not None:
                attributes.add((current, line.strip()))
    return entities, relations, attributes


def _expected_names(tables: set[str]) -> set[str]:
    return {t.replace('"', "'") for t in tables}  # a `"` cannot be in a quoted Mermaid name


def test_every_diagram_of_a_150_table_schema_renders_and_shows_every_table_and_foreign_key(big_schema):
    schema, tables, foreign_keys = big_schema
    text = render_database_md(schema)
    blocks = _BLOCK_RE.findall(text)

    assert len(blocks) > 1
    for block in blocks:
        assert block.startswith("erDiagram\n")
        assert len(block) < 50_000 and size(block.splitlines()) < 50_000  # CRLF line ends counted as well
    entities, relations, attributes = _contents(blocks)
    assert _expected_names(tables) <= entities
    assert {(p.replace('"', "'"), c.replace('"', "'"), cols) for p, c, cols in foreign_keys} == relations
    # Where only key columns are drawn, they are all there: every table's PK and every FK column.
    assert ("shop.customer_order_line_item_149", "bigint id PK") in attributes
    assert ("shop.customer_order_line_item_149", "bigint parent_34_id FK") in attributes
    assert ("shop.customer_order_line_item_149", "text code_149 UK") in attributes
    # Every column is still documented in the sections below the diagrams.
    assert "| `descriptive_attribute_29` |" in text
    assert "key columns only" in text and "50,000-character limit" in text
    assert render_database_md(schema) == text  # deterministic


@pytest.mark.parametrize("limit", [6_000, 900])
def test_smaller_limits_split_further_and_still_lose_nothing(big_schema, limit):
    """Groups of tables, then single tables, then one table's lines are split across diagrams as needed."""
    schema, tables, foreign_keys = big_schema
    blocks = [diagram.text for diagram in render_diagrams(schema, limit=limit)]
    assert all(size(block.splitlines()) < limit for block in blocks)
    entities, relations, attributes = _contents(blocks)
    assert _expected_names(tables) <= entities
    assert {(p.replace('"', "'"), c.replace('"', "'"), cols) for p, c, cols in foreign_keys} == relations
    for table in schema.tables:
        for fk in table.constraints_of("foreign key"):
            for column in fk.columns:
                assert any(entity == table.qualified_name.replace('"', "'") and line.split()[1] == column
                           for entity, line in attributes)


def test_a_small_schema_keeps_one_diagram_with_every_column(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE a (id bigint PRIMARY KEY, note text); "
                     "CREATE TABLE b (id bigint PRIMARY KEY, a_id bigint REFERENCES a)")
        text = render_database_md(read_schema(conn))
    assert _BLOCK_RE.findall(text) == ['erDiagram\n    "public.a" {\n        bigint id PK\n        text note\n    }\n'
                                       '    "public.b" {\n        bigint id PK\n        bigint a_id FK\n    }\n'
                                       '    "public.a" |o--o{ "public.b" : "a_id"']
    assert "key columns only" not in text


@pytest.fixture(scope="module")
def mermaid_parser(tmp_path_factory) -> Path:
    """tests/js/mermaid installed by `npm ci` in a copy (the repository stays untouched)."""
    if not (shutil.which("node") and shutil.which("npm")):
        if os.environ.get("PGSHIFT_SKIP_NODE_TESTS") == "1":
            pytest.skip("node/npm not installed and PGSHIFT_SKIP_NODE_TESTS=1")
        pytest.fail("node and npm are needed to parse Mermaid diagrams (install Node.js 20+), "
                    "or set PGSHIFT_SKIP_NODE_TESTS=1 to skip these tests knowingly")
    work = tmp_path_factory.mktemp("mermaid") / "check"
    shutil.copytree(MERMAID_CHECK, work, ignore=shutil.ignore_patterns("node_modules"))
    done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=work, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    return work


def _parse(parser: Path, blocks: list[str]) -> list[dict]:
    done = subprocess.run(["node", "parse.mjs"], cwd=parser, input=json.dumps(blocks), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_mermaid_parses_every_diagram(big_schema, mermaid_parser):
    schema, _, _ = big_schema
    blocks = _BLOCK_RE.findall(render_database_md(schema))
    blocks += [d.text for d in render_diagrams(schema, limit=900)]
    assert _parse(mermaid_parser, blocks) == [{"ok": True, "type": "er"}] * len(blocks)
    # The parser does catch what Mermaid cannot draw, so the check above can fail.
    assert not _parse(mermaid_parser, ['erDiagram\n    "a" {{ b'])[0]["ok"]

"""Indexes a no-transaction migration builds: an interrupted `CREATE INDEX CONCURRENTLY` leaves one INVALID.

PostgreSQL keeps such an index (`pg_index.indisvalid = false`): it is maintained on every write but never used,
and `CREATE INDEX CONCURRENTLY IF NOT EXISTS` skips it on a re-run. The way out is to drop it and build it
again (https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY).
"""

from __future__ import annotations

import psycopg

from engine.analysis import sql as sql_parser


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def created_indexes(sql_text: str) -> list[str]:
    """The (quoted, schema-qualified where written so) names of the indexes `sql_text` creates by name."""
    names = []
    for statement in sql_parser.parse(sql_text).statements:
        if statement.kind != "IndexStmt" or not statement.node.get("idxname"):
            continue
        schema = (statement.node.get("relation") or {}).get("schemaname")
        name = _quoted(statement.node["idxname"])
        names.append(f"{_quoted(schema)}.{name}" if schema else name)
    return names


def invalid_indexes(conn: psycopg.Connection, names: list[str]) -> list[str]:
    """Those of `names` that exist and are INVALID, as the catalog names them."""
    return list(invalid_index_names(conn, names).values())


def invalid_index_names(conn: psycopg.Connection, names: list[str]) -> dict[str, str]:
    """In one query: each of `names` that is INVALID, mapped to the name the catalog gives it."""
    if not names:
        return {}
    rows = conn.execute(
        "SELECT n.name, i.indexrelid::regclass::text FROM unnest(%s::text[]) AS n(name) "
        "JOIN pg_index i ON i.indexrelid = to_regclass(n.name) WHERE NOT i.indisvalid", (names,)).fetchall()
    return dict(rows)


def describe_invalid(names: list[str], version: str) -> tuple[str, str]:
    """The message and the way out, one wording for migrate, list and the editor."""
    listed = ", ".join(names)
    message = (f"index {listed} is INVALID (an interrupted or failed CREATE INDEX CONCURRENTLY): PostgreSQL "
               "maintains it on every write but never uses it")
    drops = "; ".join(f"DROP INDEX CONCURRENTLY {name}" for name in names)
    return message, (f"run `{drops};`, make the CREATE INDEX re-runnable (IF NOT EXISTS), then `pgshift migrate` "
                     f"again (it re-runs {version})")

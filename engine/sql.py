"""PostgreSQL's own parser (pglast) behind a small API: statements with exact character spans.

pglast reports byte offsets into the UTF-8 encoding; they are converted to character offsets here, once,
so that nothing else in pgshift ever sees a byte offset. The JSON form of the parse tree is used
because it is an order of magnitude faster to get than pglast's Python AST objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pglast import parser as _pg


@dataclass(frozen=True)
class Statement:
    """One top-level statement. `start`/`end` are character offsets of its first and last token."""

    index: int
    start: int
    end: int
    text: str
    kind: str
    node: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class SyntaxProblem:
    message: str
    offset: int


@dataclass(frozen=True)
class ParsedSql:
    sql: str
    statements: tuple[Statement, ...]
    error: SyntaxProblem | None = None


class _OffsetMap:
    """Byte offset to character offset for one text; free for ASCII, one pass otherwise."""

    def __init__(self, text: str) -> None:
        self.ascii = text.isascii()
        if not self.ascii:
            table = []
            for index, char in enumerate(text):
                table.extend([index] * len(char.encode("utf-8")))
            table.append(len(text))
            self.table = table

    def char(self, byte_offset: int) -> int:
        if self.ascii:
            return byte_offset
        return self.table[min(max(byte_offset, 0), len(self.table) - 1)]


def parse(sql: str) -> ParsedSql:
    """Parse a whole script; a syntax error is returned (with its character offset), never raised."""
    offsets = _OffsetMap(sql)
    try:
        tree = json.loads(_pg.parse_sql_json(sql))
    except _pg.ParseError as exc:
        byte_index = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        return ParsedSql(sql, (), SyntaxProblem(str(exc.args[0]), offsets.char(byte_index)))
    statements = []
    for index, raw in enumerate(tree.get("stmts", [])):
        byte_start = raw.get("stmt_location", 0)
        byte_len = raw.get("stmt_len", 0)
        start = offsets.char(byte_start)
        end = offsets.char(byte_start + byte_len) if byte_len else _end_of_last(sql, start)
        start = skip_blanks_and_comments(sql, start, end)
        end = _trim_end(sql, start, end)
        node = raw.get("stmt", {})
        kind = next(iter(node), "")
        statements.append(Statement(index, start, end, sql[start:end], kind, node.get(kind, {})))
    return ParsedSql(sql, tuple(statements))


def _end_of_last(sql: str, start: int) -> int:
    """pglast gives stmt_len 0 for a final statement with no semicolon: it runs to the end of the text."""
    return len(sql)


def skip_blanks_and_comments(sql: str, start: int, end: int) -> int:
    """Move past white space, `--` comments and `/* */` comments (nested, as PostgreSQL allows)."""
    i = start
    while i < end:
        if sql[i].isspace():
            i += 1
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = end if newline == -1 else newline + 1
        elif sql.startswith("/*", i):
            depth, i = 1, i + 2
            while i < end and depth:
                if sql.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif sql.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        else:
            break
    return min(i, end)


def _trim_end(sql: str, start: int, end: int) -> int:
    """Drop trailing white space, a trailing `;` and trailing `--` comments from a statement's span."""
    text = sql[start:end]
    # Trailing line comments: cut at the last line whose content is code.
    lines = text.split("\n")
    while len(lines) > 1 and (not lines[-1].strip() or lines[-1].lstrip().startswith("--")):
        lines.pop()
    text = "\n".join(lines).rstrip()
    if text.endswith(";"):
        text = text[:-1].rstrip()
    return start + len(text)

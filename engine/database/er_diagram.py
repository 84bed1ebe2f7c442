"""The Mermaid ER diagrams of DATABASE.md, each small enough for Mermaid to render.

Mermaid refuses a diagram longer than its `maxTextSize` (50,000 characters by default: GitHub and editor
previews then show "Maximum text size in diagram exceeded"), and a real 100-table schema passes it. So the
schema is drawn in one diagram when that fits, else one per schema; a schema whose diagram is still too
large shows only its key columns (PK, FK, UK), and if even that is too large it is split into parts along
connected groups of tables (by foreign key), then table by table. Every table and every foreign key is in
some diagram; every column is in the sections of DATABASE.md anyway. The output depends only on the schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from engine.database.snapshot import Schema, Table

# Mermaid's default maxTextSize; a diagram must stay below it.
MERMAID_MAX_TEXT_SIZE = 50_000

_WORD_RE = re.compile(r"[^A-Za-z0-9_]+")


@dataclass(frozen=True)
class Diagram:
    """One `erDiagram`. `caption` says what part of the schema it shows when it is not all of it."""

    lines: tuple[str, ...]
    caption: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def key_marks(table: Table) -> dict[str, str]:
    """Column name -> "PK", "FK", "UK" (several joined by ", ") for the columns in those constraints."""
    marks: dict[str, list[str]] = {}
    for constraint in table.constraints:
        mark = {"primary key": "PK", "foreign key": "FK", "unique": "UK"}.get(constraint.kind)
        if mark:
            for name in constraint.columns:
                if mark not in marks.setdefault(name, []):
                    marks[name].append(mark)
    return {name: ", ".join(sorted(found, key=["PK", "FK", "UK"].index)) for name, found in marks.items()}


def render_diagrams(schema: Schema, limit: int = MERMAID_MAX_TEXT_SIZE) -> list[Diagram]:
    """The diagrams for the schema's tables, each below `limit` characters (see the module docstring)."""
    whole = _units(schema.tables, keys_only=False)
    if _fits(_lines(whole), limit):
        return [Diagram(tuple(_lines(whole)))]
    diagrams = []
    for name in sorted({t.schema for t in schema.tables}):
        tables = [t for t in schema.tables if t.schema == name]
        full = _units(tables, keys_only=False)
        if _fits(_lines(full), limit):
            diagrams.append(Diagram(tuple(_lines(full)), f"Schema `{name}`"))
            continue
        keys = _units(tables, keys_only=True)
        if _fits(_lines(keys), limit):
            diagrams.append(Diagram(tuple(_lines(keys)), f"Schema `{name}`, key columns only"))
            continue
        parts = _pack(_groups(tables, keys), limit)
        diagrams += [Diagram(tuple(part), f"Schema `{name}`, key columns only, part {i} of {len(parts)}")
                     for i, part in enumerate(parts, 1)]
    return diagrams


def size(lines: Iterable[str]) -> int:
    """What Mermaid measures (JavaScript string length, UTF-16 units), counting each line end as CRLF."""
    return sum(len(line.encode("utf-16-le")) // 2 + 2 for line in lines)


def _fits(lines: list[str], limit: int) -> bool:
    return size(lines) < limit


# --------------------------------------------------------------------------------------------- one table

@dataclass(frozen=True)
class _Unit:
    """One table: its entity block (header, attribute lines) and the foreign keys it holds."""

    table: str
    entity: str
    attributes: tuple[str, ...]
    relationships: tuple[str, ...]

    def lines(self) -> list[str]:
        return _entity(self.entity, self.attributes) + list(self.relationships)


def _entity(entity: str, attributes: Iterable[str]) -> list[str]:
    attributes = list(attributes)
    return [f"    {entity} {{", *attributes, "    }"] if attributes else [f"    {entity}"]


def _units(tables: Iterable[Table], *, keys_only: bool) -> list[_Unit]:
    units = []
    for table in tables:
        marks = key_marks(table)
        attributes = tuple(f"        {_word(c.type)} {_word(c.name)}" + (f" {marks[c.name]}" if c.name in marks else "")
                           for c in table.columns if not keys_only or c.name in marks)
        units.append(_Unit(table.qualified_name, _name(table.qualified_name), attributes, _relationships(table)))
    return units


def _relationships(table: Table) -> tuple[str, ...]:
    by_name = {c.name: c for c in table.columns}
    unique_sets = {tuple(sorted(c.columns)) for c in table.constraints if c.kind in ("primary key", "unique")}
    lines = []
    for fk in table.constraints_of("foreign key"):
        optional = any(by_name.get(name) is not None and by_name[name].nullable for name in fk.columns)
        parent_end = "|o" if optional else "||"
        child_end = "o|" if tuple(sorted(fk.columns)) in unique_sets else "o{"
        label = ", ".join(fk.columns)
        lines.append(f"    {_name(fk.references or '')} {parent_end}--{child_end} "
                     f"{_name(table.qualified_name)} : {_name(label)}")
    return tuple(lines)


def _lines(units: Iterable[_Unit]) -> list[str]:
    units = list(units)
    return ["erDiagram", *(line for u in units for line in _entity(u.entity, u.attributes)),
            *(line for u in units for line in u.relationships)]


def _word(text: str) -> str:
    """Mermaid attribute types and names allow only word characters; others become `_`."""
    word = _WORD_RE.sub("_", text).strip("_") or "_"
    return word if not word[0].isdigit() else "_" + word


def _name(text: str) -> str:
    """A quoted Mermaid entity name or label: it ends at the next `"`, so those become `'`."""
    return '"' + text.replace('"', "'") + '"'


# --------------------------------------------------------------------------------------------- splitting

def _groups(tables: list[Table], units: list[_Unit]) -> list[list[_Unit]]:
    """The tables joined by foreign keys within the schema, each group in table order, groups by first table."""
    parent = {t.qualified_name: t.qualified_name for t in tables}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for table in tables:
        for fk in table.constraints_of("foreign key"):
            if fk.references in parent:
                a, b = sorted((root(table.qualified_name), root(fk.references)))
                parent[b] = a
    groups: dict[str, list[_Unit]] = {}
    for unit in units:
        groups.setdefault(root(unit.table), []).append(unit)
    return list(groups.values())


class _Part:
    """A diagram being filled, with its size kept as it grows (so packing stays linear in the lines)."""

    def __init__(self) -> None:
        self.lines = ["erDiagram"]
        self.used = size(self.lines)

    @property
    def empty(self) -> bool:
        return len(self.lines) == 1

    def fits(self, lines: list[str], limit: int) -> bool:
        return self.used + size(lines) < limit

    def add(self, lines: list[str]) -> None:
        self.lines += lines
        self.used += size(lines)


def _pack(groups: list[list[_Unit]], limit: int) -> list[list[str]]:
    """Fill diagrams in order: a group where it fits whole, else table by table, else line by line."""
    parts: list[list[str]] = []
    current = _Part()

    def fresh() -> _Part:
        if not current.empty:
            parts.append(current.lines)
        return _Part()

    def add(lines: list[str]) -> bool:
        nonlocal current
        if current.fits(lines, limit):
            current.add(lines)
            return True
        if not current.empty and _Part().fits(lines, limit):
            current = fresh()
            current.add(lines)
            return True
        return False

    for group in groups:
        if add(_lines(group)[1:]):
            continue
        for unit in group:
            if add(unit.lines()):
                continue
            # One table too large for a diagram of its own: its attributes over several blocks of the same
            # entity (Mermaid merges them), then its relationships, line by line.
            pending = list(unit.attributes)
            block = size(_entity(unit.entity, ["x"])) - size(["x"])  # the entity's opening and closing lines
            while pending:
                taken, used = 0, block
                while taken < len(pending) and current.used + used + size(pending[taken:taken + 1]) < limit:
                    used += size(pending[taken:taken + 1])
                    taken += 1
                if taken == 0 and not current.empty:
                    current = fresh()
                    continue
                taken = max(taken, 1)  # a lone attribute longer than the limit: only with an absurd limit
                current.add(_entity(unit.entity, pending[:taken]))
                pending = pending[taken:]
            for line in unit.relationships if unit.attributes else [_entity(unit.entity, ())[0], *unit.relationships]:
                if not add([line]):  # longer than the limit on its own: only with an absurd limit
                    current.add([line])
    if not current.empty:
        parts.append(current.lines)
    return parts

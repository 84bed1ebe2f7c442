"""Compare two `Schema` readings object by object: what exists in one and not the other, and what changed."""

from __future__ import annotations

from dataclasses import dataclass

from engine.database.snapshot import Column, Schema
from engine.analysis.sql_layout import same_but_white_space

Facts = dict[str, object]


@dataclass(frozen=True)
class Difference:
    """One object that differs. `change` is added (only in `after`), removed (only in `before`) or changed.

    `white_space_only`: a function's definition that differs only in white space outside literals (its
    body re-indented, say): the same function, told apart so that it is not mistaken for a real change.
    """

    kind: str
    name: str
    change: str
    attribute: str | None = None
    before: object = None
    after: object = None
    white_space_only: bool = False

    def describe(self, *, added: str = "was added", removed: str = "was removed") -> str:
        if self.change == "added":
            return f"{self.kind} {self.name} {added}"
        if self.change == "removed":
            return f"{self.kind} {self.name} {removed}"
        if self.white_space_only:
            return f"{self.kind} {self.name} {self.attribute} differs only in white space (outside string literals)"
        if _too_long(self.before) or _too_long(self.after):
            return f"{self.kind} {self.name} {self.attribute} changed"
        return f"{self.kind} {self.name} {self.attribute} changed from {_show(self.before)} to {_show(self.after)}"

    def __str__(self) -> str:
        return self.describe()


def _too_long(value: object) -> bool:
    return isinstance(value, str) and (len(value) > 100 or "\n" in value)


def _show(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return str(value)


def objects(schema: Schema) -> dict[tuple[str, str], Facts]:
    """Every object of the schema keyed by (kind, name), with the facts that make it what it is."""
    found: dict[tuple[str, str], Facts] = {}
    for info in schema.schemas:
        found[("schema", info.name)] = {"comment": info.comment, "privileges": info.privileges}
    for ext in schema.extensions:
        found[("extension", ext.name)] = {"version": ext.version, "schema": ext.schema}
    for table in schema.tables:
        name = table.qualified_name
        found[(table.kind, name)] = {
            "column order": tuple(c.name for c in table.columns), "row level security": table.row_security,
            "forced row level security": table.force_row_security,
            "partition key": table.partition_key, "partition of": table.partition_of,
            "partition bound": table.partition_bound, "comment": table.comment, "privileges": table.privileges}
        for column in table.columns:
            found[("column", f"{name}.{column.name}")] = _column_facts(column)
        for constraint in table.constraints:
            found[(f"{constraint.kind} constraint", f"{constraint.name} on {name}")] = {
                "definition": constraint.definition, "comment": constraint.comment}
        for index in table.indexes:
            found[("index", f"{table.schema}.{index.name}")] = {"definition": index.definition,
                                                                "comment": index.comment}
        for trigger in table.triggers:
            found[("trigger", f"{trigger.name} on {name}")] = {"definition": trigger.definition,
                                                               "enabled": trigger.enabled, "comment": trigger.comment}
        for policy in table.policies:
            found[("policy", f"{policy.name} on {name}")] = {
                "command": policy.command, "permissive": policy.permissive, "roles": policy.roles,
                "using": policy.using, "with check": policy.with_check}
    for view in schema.views:
        kind = "materialized view" if view.materialized else "view"
        found[(kind, view.qualified_name)] = {"definition": view.definition, "comment": view.comment,
                                              "privileges": view.privileges}
        for column in view.columns:  # a view's columns take defaults, comments and grants of their own
            found[("column", f"{view.qualified_name}.{column.name}")] = _column_facts(column)
        for index in view.indexes:
            found[("index", f"{view.schema}.{index.name}")] = {"definition": index.definition,
                                                               "comment": index.comment}
    for enum in schema.enums:
        found[("enum", enum.qualified_name)] = {"values": enum.values, "comment": enum.comment,
                                                "privileges": enum.privileges}
    for domain in schema.domains:
        found[("domain", domain.qualified_name)] = {
            "base type": domain.base_type, "nullable": domain.nullable, "default": domain.default,
            "checks": domain.constraints, "comment": domain.comment, "privileges": domain.privileges}
    for composite in schema.composite_types:
        found[("type", composite.qualified_name)] = {
            "attributes": tuple(f"{a} {t}" for a, t in composite.attributes), "comment": composite.comment,
            "privileges": composite.privileges}
    for sequence in schema.sequences:
        found[("sequence", sequence.qualified_name)] = {
            "type": sequence.type, "start": sequence.start, "increment": sequence.increment,
            "minimum": sequence.minimum, "maximum": sequence.maximum, "cycle": sequence.cycle,
            "owned by": sequence.owned_by, "privileges": sequence.privileges}
    for function in schema.functions:
        found[(function.kind, function.signature)] = {
            "result type": function.returns, "language": function.language, "definition": function.definition,
            "comment": function.comment, "privileges": function.privileges}
    return found


def _column_facts(column: Column) -> Facts:
    return {"type": column.type, "nullable": column.nullable, "default": column.default,
            "identity": column.identity, "generated": column.generated, "collation": column.collation,
            "comment": column.comment, "privileges": column.privileges, "statistics target": column.statistics,
            "storage": column.storage}


def diff_schemas(before: Schema, after: Schema) -> list[Difference]:
    """What changed from `before` to `after`, sorted by kind and name; empty when they are the same."""
    old, new = objects(before), objects(after)
    differences: list[Difference] = []
    for key in sorted(old.keys() | new.keys()):
        kind, name = key
        if key not in new:
            differences.append(Difference(kind, name, "removed"))
        elif key not in old:
            differences.append(Difference(kind, name, "added"))
        else:
            for attribute, was in old[key].items():
                now = new[key].get(attribute)
                if was == now:
                    continue
                # A column added or removed is reported as such; the order only matters among the same columns.
                if attribute == "column order" and set(was) != set(now):  # type: ignore[arg-type]
                    continue
                layout = (attribute == "definition" and "language" in old[key] and isinstance(was, str)
                          and isinstance(now, str) and old[key]["language"] == new[key].get("language")
                          and same_but_white_space(was, now, body_language=str(old[key]["language"])))
                differences.append(Difference(kind, name, "changed", attribute, was, now, layout))
    return differences

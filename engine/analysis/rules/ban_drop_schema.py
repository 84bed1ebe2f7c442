"""ban-drop-schema: DROP SCHEMA deletes every object in the schema (with CASCADE) or fails (without).

Instead of:

    DROP SCHEMA reporting CASCADE;

Use:

    -- drop the schema's tables one by one after checking nothing uses them, then:
    -- pgshift-ignore ban-drop-schema: empty since release 42
    DROP SCHEMA reporting;
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, string_value


@rule("ban-drop-schema", Severity.WARNING, kinds={"DropStmt"})
def check(statement, ctx: Context):
    if statement.node.get("removeType") != "OBJECT_SCHEMA":
        return
    names = ", ".join(string_value(o) for o in statement.node.get("objects", []))
    cascade = statement.node.get("behavior") == "DROP_CASCADE"
    yield Report(f"dropping schema '{names}'" + (" with CASCADE deletes every table and row in it" if cascade
                                                 else " deletes everything in it"),
                 "drop its objects explicitly after making sure nothing uses them, then drop the schema with "
                 "'-- pgshift-ignore ban-drop-schema: <why it is safe>'",
                 start=statement.start, end=statement.end)

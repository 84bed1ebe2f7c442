r"""ban-copy-from-stdin: `COPY ... FROM stdin` waits for data that pgshift cannot send.

psql feeds the lines after `COPY ... FROM stdin;` (up to `\.`) to the server; pgshift runs SQL only, so
the statement would wait for data that never comes and then fail.

Instead of:

    COPY countries (code, name) FROM stdin;

Use:

    INSERT INTO countries (code, name) VALUES ('NO', 'Norway'), ('SE', 'Sweden');
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report


@rule("ban-copy-from-stdin", Severity.ERROR, kinds={"CopyStmt"})
def check(statement, ctx: Context):
    node = statement.node
    if node.get("is_from") and not node.get("filename") and not node.get("is_program"):
        yield Report("COPY FROM stdin needs psql to send the data; run by pgshift it has no data and fails",
                     "load the rows with INSERT ... VALUES, or COPY from a file on the database server "
                     "(COPY ... FROM '/path/file.csv')",
                     start=statement.start, end=statement.end)

"""unneeded-no-transaction: the migration runs without a transaction although nothing in it needs that.

`-- pgshift: no-transaction` gives up atomicity: a failure part-way leaves a half-applied migration. Use it
only for statements PostgreSQL refuses to run in a transaction (CONCURRENTLY, VACUUM...).

Instead of:

    -- pgshift: no-transaction
    ALTER TABLE orders ADD COLUMN note text;

Use:

    ALTER TABLE orders ADD COLUMN note text;
"""

from __future__ import annotations

from engine.analysis.files import DIRECTIVE_RE
from engine.analysis.findings import Edit, Fix, Position, Severity, Span
from engine.analysis.rules import FILE, rule
from engine.analysis.rules._support import Context, Report, needs_no_transaction


@rule("unneeded-no-transaction", Severity.WARNING, scope=FILE)
def check(ctx: Context):
    if not ctx.migration.no_transaction or not ctx.statements or ctx.script.errors:
        return
    if any(needs_no_transaction(s, ctx.target_version) for s in ctx.statements):
        return
    lines = ctx.migration.text.split("\n")
    line = next((i for i, text in enumerate(lines) if DIRECTIVE_RE.match(text.strip())
                 and "no-transaction" in text.lower()), 0)
    yield Report("nothing in this migration needs to run outside a transaction, but it will: a failure "
                 "part-way would leave it half-applied",
                 "remove the '-- pgshift: no-transaction' line",
                 span=ctx.index.line_span(line),
                 fix=Fix("Remove the no-transaction directive",
                         (Edit(Span(Position(line, 0), Position(line + 1, 0)), ""),)))

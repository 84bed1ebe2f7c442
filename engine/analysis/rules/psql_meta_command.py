r"""psql-meta-command: a psql backslash command (`\set`, `\i`, `\connect`...) is not SQL, and pgshift runs SQL.

Migrations are sent to PostgreSQL as SQL; psql meta-commands are interpreted by psql itself and would be
a syntax error on the server. pgshift finds them at their exact line rather than reporting a confusing
parse error.

Instead of:

    \set ON_ERROR_STOP on
    CREATE TABLE audit_log (id bigint PRIMARY KEY);

Use:

    CREATE TABLE audit_log (id bigint PRIMARY KEY);
"""

from __future__ import annotations

from engine.analysis.findings import Fix, Severity
from engine.analysis.rules import FILE, rule
from engine.analysis.rules._support import Context, Report, edit


@rule("psql-meta-command", Severity.ERROR, scope=FILE)
def check(ctx: Context):
    for meta in ctx.script.meta_commands:
        command = ctx.script.sql[meta.start:meta.end].split(None, 1)[0]
        yield Report(f"'{command}' is a psql command, not SQL: PostgreSQL will reject the migration here",
                     "pgshift runs migrations as SQL, not as psql scripts: write the SQL it stands for "
                     "(e.g. the file an \\i includes), or remove it",
                     start=meta.start, end=meta.end,
                     fix=Fix(f"Remove '{command}'", (edit(ctx, meta.start, meta.end, ""),)))
    if ctx.rollback_script is not None:
        for meta in ctx.rollback_script.meta_commands:
            command = ctx.rollback_script.sql[meta.start:meta.end].split(None, 1)[0]
            yield Report(f"'{command}' in the rollback is a psql command, not SQL: the rollback will fail here",
                         "write plain SQL in the ROLLBACK block",
                         span=ctx.migration.rollback_span(meta.start, meta.end))

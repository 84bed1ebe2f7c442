"""The words the assistant reads: server instructions, tool descriptions, the conventions and the workflow prompt."""

from __future__ import annotations

CONVENTIONS_SHORT = (
    "pgshift conventions: every schema change is a plain SQL file in the migrations folder named "
    "YYYY-MM-DD_HHMM_description.sql (new_migration picks the name); one change per migration; below the forward "
    "SQL a '-- ROLLBACK:' line followed by the SQL that undoes it, every line commented out with '-- '; never edit "
    "an applied migration (write a new one); check, verify and migrate with dry_run=true before applying for real; "
    "refresh DATABASE.md with snapshot afterwards."
)

INSTRUCTIONS = (
    "pgshift manages this project's PostgreSQL schema as migration files. " + CONVENTIONS_SHORT +
    " Never change the database any other way, and never run SQL yourself. Rollback (and migrate to a database "
    "other than the embedded development one, or with data loss) needs the user's explicit confirmation, which "
    "you cannot give. Read the resource pgshift://schema for the current schema and "
    "pgshift://conventions for the full rules."
)

LIST = (
    "Show every migration and its state (applied, pending, changed, missing, failed, running), as `pgshift list`. "
    "Read-only. 'changed' means an applied file was edited: restore it and write a new migration instead."
)

NEW = (
    "Create a new migration file in the migrations folder and return its path, text and analysis findings. "
    "The file is named YYYY-MM-DD_HHMM_<description words>.sql from the current time (never overwriting an "
    "existing file); `description` is a few words such as 'add instagram url to business'. Put ONE change per "
    "migration in `sql` (it is written to the file, not executed). Give `rollback_sql` that undoes it exactly; "
    "when omitted it is inferred where possible, else a TODO placeholder is written that you must replace. The "
    "ROLLBACK block goes below a '-- ROLLBACK:' line, each line commented out with '-- '. Set no_transaction for "
    "statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY); keep such a file to those "
    "statements. Next: fix any findings, then check_migration, verify_migration, and migrate with dry_run=true."
)

CHECK = (
    "Analyse a migration and return its findings (code, severity, message, 1-based line and column, help). Give "
    "`path` of a file in the migrations folder (relative to the project or the migrations folder), or `sql` text "
    "to check before writing a file (it is only parsed, never executed). Error-level findings stop migrate; fix "
    "them, or suppress one with '-- pgshift-ignore RULE: reason' on the line before the statement. The resource "
    "rule://CODE explains a finding's rule and shows the safe way to write the change."
)

HISTORY = (
    "Every migration that creates, alters, uses or drops a table, view or sequence, in version order, with "
    "file, line and column (ROLLBACK blocks included), as `pgshift history NAME`. Read-only; no database needed. "
    "Use it to see which migration made a table what it is before changing it again."
)

MIGRATE = (
    "Apply the pending migrations in order, each in its own transaction, stopping at the first failure with "
    "PostgreSQL's error at file:line:col (earlier ones stay applied). ALWAYS call it with dry_run=true first: that "
    "runs everything pending in a transaction that is rolled back and reports what would happen; then call it "
    "again with dry_run=false to apply. `to` stops after that version. Error-level check findings in a pending "
    "file, or an applied file that was edited, stop it before anything runs. Progress is reported per migration."
)

VERIFY = (
    "Verify a migration in a scratch database: apply everything up to it, run its ROLLBACK, and check that the "
    "schema returns exactly to where it was, then apply it again. Does not touch the project's database. Use it "
    "on a new migration before migrate."
)

ROLLBACK = (
    "Undo the newest applied migration (or `steps` of them, or every migration after `to`) by running each one's "
    "ROLLBACK SQL. This REQUIRES the user's explicit confirmation, which you must never give yourself. The user is "
    "asked directly, with the exact SQL shown, through MCP elicitation. A client without elicitation gets an error "
    "that changes nothing and names the terminal command for the user to run themselves."
)

TOKENS = (
    " This project enables confirmation tokens: without elicitation the first call (without confirmation_token) "
    "changes nothing and returns the plan and a confirmation_token valid for a few minutes; show the user the "
    "migrations and the exact SQL, ask them, and only after they explicitly say yes call again with the same "
    "arguments and that confirmation_token. A token works once, only for that exact plan."
)

MIGRATE_GATE = (
    " A real run (dry_run=false) asks the user first, showing the SQL, when it would change a database other than "
    "the embedded development one or apply a migration that deletes data (project setting mcp_confirm_migrate); "
    "a client without elicitation then gets an error naming the terminal command for the user to run."
)


def rollback_description(tokens: bool) -> str:
    return ROLLBACK + (TOKENS if tokens else "")


def migrate_description(mode: str, tokens: bool) -> str:
    return MIGRATE + ("" if mode == "never" else MIGRATE_GATE + (TOKENS if tokens else ""))


SNAPSHOT = (
    "Write the database's current schema to DATABASE.md (tables, columns, keys, indexes, views, types, functions, "
    "an ER diagram) and return its text. Run it after migrate or rollback and commit DATABASE.md with the migration."
)

BACKUP = (
    "Dump the project's database with pg_dump into a timestamped plain-SQL file in the backup folder "
    "(backup_dir, default backups/) and return its path and size. Does not change the database. Call it before "
    "migrate or rollback on any database other than the embedded development one."
)

BUILTIN_CONVENTIONS = """\
# Migration conventions (pgshift)

1. One change per migration: small files are easy to review, verify and roll back.
2. File name: `YYYY-MM-DD_HHMM_description.sql` (the time it was written, lower-case words joined by `_`).
   The `new_migration` tool / `pgshift new` picks it.
3. Every file ends with a ROLLBACK block that undoes the forward SQL exactly, in reverse order:

   ```sql
   -- Add the Instagram URL to businesses
   ALTER TABLE business ADD COLUMN instagram_url text;

   -- ROLLBACK:
   -- ALTER TABLE business DROP COLUMN instagram_url;
   ```

   Everything below `-- ROLLBACK:` is commented out with `-- ` so it never runs forward.
4. Never edit an applied migration: its checksum is recorded and migrate refuses to run. Write a new one.
5. Statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY) go in their own file whose leading
   comment block contains `-- pgshift: no-transaction`.
6. Before applying: check, verify, then migrate as a dry run; then migrate for real; then snapshot DATABASE.md.
7. Rollback always needs a person's explicit confirmation.
"""


def schema_change_prompt(change: str, backup_first: bool = False) -> str:
    """The workflow; `backup_first` (a database other than the embedded development one) adds a backup step."""
    backup = ("   Before that real run, call backup (this is not the development database) and tell the user the "
              "backup file.\n" if backup_first else "")
    return f"""\
Make this database schema change with pgshift: {change}

Work through these steps in order, and stop to report to the user whenever one fails:

1. Read the resource pgshift://schema to see the current tables, and pgshift://conventions for the rules.
2. Call new_migration with a short description, the forward SQL for ONE change, and rollback_sql that undoes it
   exactly. (Several changes? Several migrations.)
3. Call check_migration with the returned path. Fix every error (edit the file, or make a new migration);
   consider the warnings.
4. Call verify_migration with the new version, to prove the ROLLBACK really undoes the change.
5. Call migrate with dry_run=true and read the result. Then call migrate with dry_run=false to apply it.
{backup}6. Call snapshot to refresh DATABASE.md, and tell the user which files to review and commit (the migration and
   DATABASE.md).

Never run SQL against the database yourself, and never edit a migration that is already applied.
"""

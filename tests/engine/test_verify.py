"""engine.shadow.verify against real servers: good migrations pass, incomplete rollbacks and SQL errors are placed."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from engine.errors import UsageError
from engine.analysis.findings import Severity
from engine.shadow.verify import FAILED, NO_ROLLBACK, OK, verify
from tests.conftest import write_migration

USERS = """CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
-- ROLLBACK:
-- DROP TABLE users;
"""


def _scratch_databases(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'pgshift_verify_%'")]


def test_a_good_migration_passes_and_the_scratch_database_is_gone(project):
    write_migration(project, "2024-01-01_1000_create_users.sql", USERS)
    write_migration(project, "2024-01-02_1000_add_index.sql", """CREATE INDEX users_email_idx ON users (email);
ALTER TABLE users ADD COLUMN name text DEFAULT 'x';
-- ROLLBACK:
-- ALTER TABLE users DROP COLUMN name;
-- DROP INDEX users_email_idx;
""")
    result = verify(project)
    assert result.ok
    assert [(m.version, m.status) for m in result.migrations] == [
        ("2024-01-01_1000_create_users", OK), ("2024-01-02_1000_add_index", OK)]
    assert _scratch_databases(project.database_url) == []
    # The real database was not touched.
    with psycopg.connect(project.database_url) as conn:
        assert conn.execute("SELECT to_regclass('public.users')").fetchone() == (None,)


def test_a_rollback_that_forgets_an_index_fails_naming_it(project):
    write_migration(project, "2024-01-01_1000_create_users.sql", USERS)
    path = write_migration(project, "2024-01-02_1000_add_index.sql", """CREATE INDEX users_email_idx ON users (email);
ALTER TABLE users ADD COLUMN name text;
-- ROLLBACK:
-- ALTER TABLE users DROP COLUMN name;
""")
    result = verify(project, ["2024-01-02_1000_add_index"])
    assert not result.ok
    [verdict] = result.migrations
    assert (verdict.status, verdict.step) == (FAILED, "rollback")
    assert verdict.differences == ("index public.users_email_idx still exists after the rollback",)
    [finding] = verdict.findings
    assert finding.code == "rollback-incomplete" and finding.path == path
    assert finding.span.start.line == 2  # the ROLLBACK marker
    assert "users_email_idx" in finding.render()
    assert _scratch_databases(project.database_url) == []


def test_a_rollback_that_restores_the_wrong_type_says_so(project):
    write_migration(project, "2024-01-01_1000_create_t.sql", "CREATE TABLE t (c integer);\n-- ROLLBACK:\n-- DROP TABLE t;\n")
    write_migration(project, "2024-01-02_1000_widen.sql", """ALTER TABLE t ALTER COLUMN c TYPE bigint;
-- ROLLBACK:
-- ALTER TABLE t ALTER COLUMN c TYPE numeric;
""")
    [verdict] = verify(project, ["2024-01-02"]).migrations
    assert verdict.differences == ("column public.t.c type changed from integer to numeric",)


def test_broken_forward_sql_fails_with_file_line_col(project):
    write_migration(project, "2024-01-01_1000_create_users.sql", USERS)
    write_migration(project, "2024-01-02_1000_broken.sql", """-- a comment first
ALTER TABLE users ADD COLUMN age integer;
SELECT   nosuchcolumn FROM users;
-- ROLLBACK:
-- ALTER TABLE users DROP COLUMN age;
""")
    [verdict] = verify(project, ["2024-01-02_1000_broken.sql"]).migrations
    assert (verdict.status, verdict.step) == (FAILED, "forward")
    assert verdict.message.startswith('2024-01-02_1000_broken.sql:3:10: the forward SQL failed: column '
                                      '"nosuchcolumn" does not exist')
    rendered = verdict.findings[0].render(project.project_root)
    assert rendered.startswith("migrations/2024-01-02_1000_broken.sql:3:10: error[migration-failed]:")
    assert _scratch_databases(project.database_url) == []


def test_broken_rollback_sql_is_placed_in_the_rollback_block(project):
    write_migration(project, "2024-01-01_1000_create_users.sql", """CREATE TABLE users (id int);
-- ROLLBACK:
-- DROP TABLE users;
--   DROP TABLE nosuchtable;
""")
    [verdict] = verify(project).migrations
    assert (verdict.status, verdict.step) == (FAILED, "rollback")
    assert verdict.findings[0].code == "rollback-failed"
    # Line 4 of the file, column of `DROP` after the `-- ` prefix and two spaces.
    assert verdict.findings[0].render().split(": error")[0].endswith(":4:6")
    assert 'table "nosuchtable" does not exist' in verdict.message


def test_a_rollback_that_leaves_something_behind_fails_on_reapply_or_diff(project):
    write_migration(project, "2024-01-01_1000_seq.sql", """CREATE SEQUENCE counter;
-- ROLLBACK:
-- SELECT 1;
""")
    [verdict] = verify(project).migrations
    assert verdict.status == FAILED
    assert "sequence public.counter still exists after the rollback" in verdict.differences


def test_a_migration_without_rollback_cannot_be_fully_verified(project):
    write_migration(project, "2024-01-01_1000_create_users.sql", "CREATE TABLE users (id int);\n")
    [verdict] = verify(project).migrations
    assert verdict.status == NO_ROLLBACK and not verdict.ok
    assert verdict.message == "cannot verify rollback: no ROLLBACK block"


def test_an_empty_rollback_block_is_called_empty_not_missing(project):
    write_migration(project, "2024-01-01_1000_create_users.sql", "CREATE TABLE users (id int);\n-- ROLLBACK:\n"
                                                                 "-- DROP TABLE users;\n")
    write_migration(project, "2024-01-02_1000_set.sql", "SELECT set_config('app.x', '1', false);\n\n-- ROLLBACK:\n")
    verdict = verify(project).migrations[1]
    assert verdict.status == NO_ROLLBACK
    assert "the ROLLBACK block is empty (nothing to undo)" in verdict.message and "no ROLLBACK block" not in verdict.message
    assert verdict.findings[0].code == "empty-rollback" and verdict.findings[0].span.start.line == 2


def test_no_transaction_migrations_run_statement_by_statement(project):
    write_migration(project, "2024-01-01_1000_create_users.sql", USERS)
    write_migration(project, "2024-01-02_1000_index_concurrently.sql", """-- pgshift: no-transaction
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);
-- ROLLBACK:
-- DROP INDEX CONCURRENTLY users_email_idx;
""")
    assert verify(project, ["2024-01-02"]).ok


def test_default_is_the_pending_migrations(project):
    from engine.database.runner import migrate

    write_migration(project, "2024-01-01_1000_create_users.sql", USERS)
    migrate(project)
    write_migration(project, "2024-01-02_1000_add_name.sql",
                    "ALTER TABLE users ADD COLUMN name text;\n-- ROLLBACK:\n-- ALTER TABLE users DROP COLUMN name;\n")
    result = verify(project)
    assert result.selection == "pending"
    assert [m.version for m in result.migrations] == ["2024-01-02_1000_add_name"]
    assert result.ok


def test_unknown_version_is_a_usage_error(project):
    write_migration(project, "2024-01-01_1000_create_users.sql", USERS)
    with pytest.raises(UsageError):
        verify(project, ["2030"])


@pytest.fixture
def without_createdb(project):
    """(settings, role) for a role that may log in but not create databases (the test servers trust local logins)."""
    role = "nocreate_" + uuid.uuid4().hex[:8]
    with psycopg.connect(project.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN NOCREATEDB')
    try:
        settings = project.with_overrides(database_url=psycopg.conninfo.make_conninfo(project.database_url, user=role))
        psycopg.connect(settings.database_url).close()
        yield settings, role
    finally:
        with psycopg.connect(project.database_url, autocommit=True) as conn:
            conn.execute(f'DROP ROLE "{role}"')


def test_without_create_database_the_embedded_server_is_used(without_createdb):
    from engine.database.db import start_embedded, stop_embedded

    settings, _role = without_createdb
    write_migration(settings, "2024-01-01_1000_create_users.sql", USERS)
    try:
        result = verify(settings)
        assert result.ok
        assert result.scratch_server.startswith("embedded PostgreSQL")
        assert _scratch_databases(start_embedded(settings.embedded_dir)) == []
    finally:
        stop_embedded(settings.embedded_dir)


def test_a_broken_earlier_migration_is_named_when_setting_up(project):
    write_migration(project, "2024-01-01_1000_broken.sql", "CREATE TABLE users (id nosuchtype);\n"
                                                           "-- ROLLBACK:\n-- DROP TABLE users;\n")
    write_migration(project, "2024-01-02_1000_add_name.sql",
                    "ALTER TABLE users ADD COLUMN name text;\n-- ROLLBACK:\n-- ALTER TABLE users DROP COLUMN name;\n")
    [verdict] = verify(project, ["2024-01-02"]).migrations
    assert (verdict.status, verdict.step) == (FAILED, "setup")
    assert "earlier migration 2024-01-01_1000_broken.sql failed" in verdict.message
    assert verdict.findings[0].render().split(": error")[0].endswith("2024-01-01_1000_broken.sql:1:24")
    assert _scratch_databases(project.database_url) == []


def test_a_rollback_that_forgets_to_revoke_a_grant_fails_naming_it(project):
    role = "r_" + uuid.uuid4().hex[:8]
    with psycopg.connect(project.database_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} NOLOGIN")  # roles are per server: the scratch database sees it too
    try:
        write_migration(project, "2024-01-01_1000_create_users.sql", USERS)
        write_migration(project, "2024-01-02_1000_grant.sql", f"""GRANT SELECT ON users TO {role};
GRANT UPDATE (email) ON users TO {role};
GRANT USAGE ON SCHEMA public TO {role};
-- ROLLBACK:
-- REVOKE SELECT ON users FROM {role};
""")
        result = verify(project, ["2024-01-02_1000_grant"])
        assert [m.status for m in result.migrations] == [FAILED]
        differences = " | ".join(result.migrations[0].differences)
        assert "column public.users.email privileges changed" in differences
        assert "schema public privileges changed" in differences
        assert "table public.users privileges" not in differences
    finally:
        with psycopg.connect(project.database_url, autocommit=True) as conn:
            conn.execute(f"DROP ROLE {role}")


OBJECTS = """CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
CREATE INDEX users_email_idx ON users (email);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE TYPE pair AS (a integer, b integer);
CREATE SEQUENCE counter;
CREATE VIEW user_emails AS SELECT id, email FROM users;
-- ROLLBACK:
-- DROP VIEW user_emails;
-- DROP SEQUENCE counter;
-- DROP TYPE pair;
-- DROP DOMAIN positive;
-- DROP TYPE mood;
-- DROP TABLE users;
-- DROP FUNCTION touch();
"""


@pytest.mark.parametrize("forward, expected", [
    ("REVOKE USAGE ON TYPE mood FROM PUBLIC;\nREVOKE USAGE ON DOMAIN positive FROM PUBLIC;\n"
     "REVOKE USAGE ON TYPE pair FROM PUBLIC;",
     ["domain public.positive privileges changed", "enum public.mood privileges changed",
      "type public.pair privileges changed"]),
    ("COMMENT ON INDEX users_email_idx IS 'for login';",
     ["index public.users_email_idx comment changed from none to for login"]),
    ("COMMENT ON CONSTRAINT users_pkey ON users IS 'the key';",
     ["primary key constraint users_pkey on public.users comment changed from none to the key"]),
    ("COMMENT ON TRIGGER users_touch ON users IS 'stamps';",
     ["trigger users_touch on public.users comment changed from none to stamps"]),
    ("ALTER TABLE users DISABLE TRIGGER users_touch;",
     ["trigger users_touch on public.users enabled changed from origin to disabled"]),
    ("ALTER TABLE users ENABLE ROW LEVEL SECURITY;\nALTER TABLE users FORCE ROW LEVEL SECURITY;",
     ["table public.users forced row level security changed from no to yes",
      "table public.users row level security changed from no to yes"]),
    ("ALTER SEQUENCE counter OWNED BY users.id;",
     ["sequence public.counter owned by changed from none to public.users.id"]),
    ("ALTER TABLE users ALTER COLUMN email SET STATISTICS 500;\nALTER TABLE users ALTER COLUMN email SET STORAGE main;",
     ["column public.users.email statistics target changed from none to 500",
      "column public.users.email storage changed from none to main"]),
    ("ALTER VIEW user_emails ALTER COLUMN email SET DEFAULT 'none';\nCOMMENT ON COLUMN user_emails.email IS 'login';",
     ["column public.user_emails.email comment changed from none to login",
      "column public.user_emails.email default changed from none to 'none'::text"]),
], ids=["type-privileges", "index-comment", "constraint-comment", "trigger-comment", "trigger-disabled",
        "row-security-forced", "sequence-owned-by", "column-statistics-storage", "view-column-default-comment"])
def test_a_rollback_that_forgets_a_catalog_detail_fails_naming_it(project, forward, expected):
    write_migration(project, "2024-01-01_1000_objects.sql", OBJECTS)
    write_migration(project, "2024-01-02_1000_change.sql", forward + "\n-- ROLLBACK:\n-- SELECT 1;\n")
    [verdict] = verify(project, ["2024-01-02"]).migrations
    assert (verdict.status, verdict.step) == (FAILED, "rollback")
    # Privileges name the server's roles; the rest is compared whole.
    differences = sorted(verdict.differences)
    assert [d if "privileges" not in d else d.split(" from ")[0] for d in differences] == expected


def test_a_reapply_that_lands_on_another_schema_fails_naming_the_difference(project):
    # The rollback restores the schema but leaves the row the forward SQL counts: the second run differs.
    write_migration(project, "2024-01-01_1000_runs.sql",
                    "CREATE TABLE runs (n int);\n-- ROLLBACK:\n-- DROP TABLE runs;\n")
    path = write_migration(project, "2024-01-02_1000_numbered.sql", """INSERT INTO runs VALUES (1);
DO $$ BEGIN EXECUTE format('CREATE TABLE part_%s (id int)', (SELECT count(*) FROM runs)); END $$;
-- ROLLBACK:
-- DO $$ BEGIN EXECUTE format('DROP TABLE part_%s', (SELECT count(*) FROM runs)); END $$;
""")
    [verdict] = verify(project, ["2024-01-02"]).migrations
    assert (verdict.status, verdict.step) == (FAILED, "reapply")
    assert verdict.differences == (
        "column public.part_1.id is missing after the reapply (the first run created it)",
        "column public.part_2.id exists after the reapply but not after the first run",
        "table public.part_1 is missing after the reapply (the first run created it)",
        "table public.part_2 exists after the reapply but not after the first run")
    assert verdict.message.startswith("running the migration again after its rollback gives a different schema: ")
    finding = verdict.findings[0]
    assert (finding.code, finding.path, finding.span.start.line) == ("reapply-differs", path, 2)
    assert _scratch_databases(project.database_url) == []


def test_an_extension_missing_on_the_embedded_fallback_is_explained(without_createdb):
    from engine.database.db import stop_embedded

    settings, role = without_createdb
    write_migration(settings, "2024-01-01_1000_create_users.sql", USERS)
    path = write_migration(settings, "2024-01-02_1000_ext.sql", """-- needs an extension
CREATE EXTENSION IF NOT EXISTS pgshift_not_installed_anywhere;
-- ROLLBACK:
-- DROP EXTENSION pgshift_not_installed_anywhere;
""")
    try:
        first, second = verify(settings).migrations
    finally:
        stop_embedded(settings.embedded_dir)
    assert first.ok
    assert (second.status, second.step) == (FAILED, "forward")
    [finding] = second.findings
    assert (finding.code, finding.path, finding.span.start.line) == ("extension-unavailable", path, 1)
    assert finding.message.startswith(
        'extension "pgshift_not_installed_anywhere" is not available on the server that held the scratch '
        "database, the embedded PostgreSQL in ")
    assert f'verify used it because the role "{role}" may not create databases on postgresql://{role}@' \
        in finding.message
    assert finding.help == (f'grant it CREATEDB (ALTER ROLE "{role}" CREATEDB) so that verify runs on that '
                            "server, or verify against a server that has the extension (--database-url)")
    assert second.message.startswith('2024-01-02_1000_ext.sql:2:1: extension "pgshift_not_installed_anywhere"')


def test_an_extension_missing_on_the_configured_server_keeps_postgresql_s_error(project):
    write_migration(project, "2024-01-01_1000_ext.sql",
                    "CREATE EXTENSION pgshift_not_installed_anywhere;\n"
                    "-- ROLLBACK:\n-- DROP EXTENSION pgshift_not_installed_anywhere;\n")
    [verdict] = verify(project).migrations
    assert verdict.findings[0].code == "migration-failed"
    assert 'extension "pgshift_not_installed_anywhere" is not available' in verdict.message



SHOUT = """CREATE FUNCTION shout(word text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN upper(word) || '!  '; -- two  spaces
END
$$;
-- ROLLBACK:
-- DROP FUNCTION shout(text);
"""


def _replace_shout(body: str, rollback_body: str) -> str:
    """A migration that replaces shout() with `body` and whose (commented) rollback puts back `rollback_body`."""
    create = "CREATE OR REPLACE FUNCTION shout(word text) RETURNS text LANGUAGE plpgsql AS $$\n{}$$;"
    rollback = "\n".join(f"-- {line}" for line in create.format(rollback_body).splitlines())
    return f"{create.format(body)}\n-- ROLLBACK:\n{rollback}\n"


def test_a_rollback_that_restores_a_function_with_other_indentation_passes_with_a_note(project):
    write_migration(project, "2024-01-01_1000_shout.sql", SHOUT)
    path = write_migration(project, "2024-01-02_1000_louder.sql", _replace_shout(
        "BEGIN\n    RETURN upper(word) || '!!';\nEND\n",
        # the original body re-indented, re-spaced and with a comment's spacing changed; the literal is the same
        "  BEGIN\n\tRETURN   upper( word )\n   || '!  ';    --  two spaces\n  END\n"))
    [verdict] = verify(project, ["2024-01-02"]).migrations
    assert (verdict.status, verdict.differences) == (OK, ()), verdict.message
    [note] = verdict.findings
    assert (note.code, note.severity, note.path) == ("white-space-differs", Severity.INFO, path)
    assert note.message == ("after the rollback, function public.shout(word text) definition differs from "
                            "the original only in white space (outside string literals)")
    assert note.span.start.line == path.read_text().splitlines().index("-- ROLLBACK:")


def test_white_space_inside_a_string_literal_of_a_function_body_still_fails_the_rollback(project):
    write_migration(project, "2024-01-01_1000_shout.sql", SHOUT)
    write_migration(project, "2024-01-02_1000_louder.sql", _replace_shout(
        "BEGIN\n    RETURN upper(word) || '!!';\nEND\n",
        "BEGIN\n    RETURN upper(word) || '! '; -- two  spaces\nEND\n"))  # one space fewer in the literal
    [verdict] = verify(project, ["2024-01-02"]).migrations
    assert (verdict.status, verdict.step) == (FAILED, "rollback")
    assert verdict.differences == ("function public.shout(word text) definition changed",)
    assert [f.code for f in verdict.findings] == ["rollback-incomplete"]

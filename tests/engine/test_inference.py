"""engine.analysis.inference: the rollback inferred for each supported statement, and honest TODOs where it cannot know."""

from __future__ import annotations

import pytest

from engine.analysis.inference import infer_rollback, rollback_block

CASES = [
    ("CREATE TABLE app.orders (id bigint);", "DROP TABLE app.orders;"),
    ('CREATE TABLE "Order" (id bigint);', 'DROP TABLE "Order";'),
    ("CREATE INDEX orders_idx ON app.orders (id);", "DROP INDEX app.orders_idx;"),
    ("CREATE INDEX CONCURRENTLY orders_idx ON orders (id);", "DROP INDEX CONCURRENTLY orders_idx;"),
    ("CREATE VIEW v AS SELECT 1;", "DROP VIEW v;"),
    ("CREATE MATERIALIZED VIEW mv AS SELECT 1;", "DROP MATERIALIZED VIEW mv;"),
    ("CREATE TYPE mood AS ENUM ('ok');", "DROP TYPE mood;"),
    ("CREATE TYPE pair AS (a int, b int);", "DROP TYPE pair;"),
    ("CREATE DOMAIN positive AS int CHECK (VALUE > 0);", "DROP DOMAIN positive;"),
    ("CREATE SCHEMA billing;", "DROP SCHEMA billing;"),
    ("CREATE SEQUENCE invoice_no;", "DROP SEQUENCE invoice_no;"),
    ("CREATE FUNCTION add(a int, b int, OUT c int) AS $$ SELECT a + b $$ LANGUAGE sql;",
     "DROP FUNCTION add(integer, integer);"),
    ("CREATE PROCEDURE p(x text) LANGUAGE sql AS $$ SELECT 1 $$;", "DROP PROCEDURE p(text);"),
    ("CREATE EXTENSION pgcrypto;", "DROP EXTENSION pgcrypto;"),
    ("CREATE TRIGGER t_audit AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION audit();", "DROP TRIGGER t_audit ON t;"),
    ("ALTER TABLE t ADD COLUMN note text;", "ALTER TABLE t DROP COLUMN note;"),
    ("ALTER TABLE t ADD CONSTRAINT positive CHECK (a > 0) NOT VALID;", "ALTER TABLE t DROP CONSTRAINT positive;"),
    ("ALTER TABLE t ADD COLUMN a int, ADD COLUMN b int;", "ALTER TABLE t DROP COLUMN b;\nALTER TABLE t DROP COLUMN a;"),
    ("ALTER TABLE t ALTER COLUMN a SET NOT NULL;", "ALTER TABLE t ALTER COLUMN a DROP NOT NULL;"),
    ("ALTER TABLE t ALTER COLUMN a DROP NOT NULL;", "ALTER TABLE t ALTER COLUMN a SET NOT NULL;"),
    ("ALTER TABLE t RENAME TO u;", "ALTER TABLE u RENAME TO t;"),
    ("ALTER TABLE s.t RENAME TO u;", "ALTER TABLE s.u RENAME TO t;"),
    ("ALTER TABLE t RENAME COLUMN a TO b;", "ALTER TABLE t RENAME COLUMN b TO a;"),
    ("ALTER INDEX i RENAME TO j;", "ALTER INDEX j RENAME TO i;"),
    ("GRANT SELECT ON t TO reader;", "REVOKE SELECT ON TABLE t FROM reader;"),
    ("SET lock_timeout = '1s';", None),
    ("ALTER TABLE t VALIDATE CONSTRAINT c;", None),
]


@pytest.mark.parametrize("forward,expected", CASES)
def test_exact_inverse(forward, expected):
    inferred = infer_rollback(forward)
    assert inferred.sql == expected
    assert inferred.complete


def test_statements_are_undone_in_reverse_order():
    inferred = infer_rollback("CREATE TABLE a (id int);\nCREATE INDEX a_idx ON a (id);\nCOMMENT ON TABLE a IS 'x';")
    assert inferred.sql == "COMMENT ON TABLE a IS NULL;\nDROP INDEX a_idx;\nDROP TABLE a;"


@pytest.mark.parametrize("forward,todo", [
    ("DROP TABLE old;", "cannot infer DROP TABLE's inverse"),
    ("ALTER TABLE t DROP COLUMN c;", "a dropped column comes back empty"),
    ("ALTER TABLE t ALTER COLUMN c TYPE bigint;", "previous type"),
    ("ALTER TYPE mood ADD VALUE 'meh';", "cannot remove an enum value"),
    ("UPDATE t SET a = 1 WHERE b;", "undo the data change by hand"),
    ("CREATE INDEX ON t (a);", "unnamed index"),
    ("CREATE OR REPLACE VIEW v AS SELECT 2;", "previous definition"),
    ("ALTER TABLE t ALTER COLUMN c DROP DEFAULT;", "previous default is unknown"),
])
def test_what_cannot_be_inferred_becomes_a_todo_and_a_note(forward, todo):
    inferred = infer_rollback(forward)
    assert not inferred.complete
    assert inferred.sql.startswith("-- TODO: ") and todo in inferred.sql
    assert any(todo in note for note in inferred.notes)


def test_set_default_is_undone_by_drop_default_with_a_caveat():
    inferred = infer_rollback("ALTER TABLE t ALTER COLUMN c SET DEFAULT 0;")
    assert inferred.sql == "ALTER TABLE t ALTER COLUMN c DROP DEFAULT;"
    assert not inferred.complete and "had a default before" in inferred.notes[0]


def test_unnamed_constraints_use_postgresqls_default_names_and_say_so():
    inferred = infer_rollback("ALTER TABLE t ADD PRIMARY KEY (id), ADD UNIQUE (a, b), ADD FOREIGN KEY (c) REFERENCES u (id);")
    assert inferred.sql.split("\n") == ["ALTER TABLE t DROP CONSTRAINT t_c_fkey;", "ALTER TABLE t DROP CONSTRAINT t_a_b_key;",
                                        "ALTER TABLE t DROP CONSTRAINT t_pkey;"]
    assert "assumed" in inferred.notes[0]


def test_nothing_to_undo_and_unparseable_sql():
    assert infer_rollback("").sql is None and infer_rollback("").complete
    broken = infer_rollback("CREATE TABL x;")
    assert broken.sql is None and not broken.complete and "does not parse" in broken.notes[0]


def test_rollback_block_comments_out_every_line():
    block = rollback_block(infer_rollback("CREATE TABLE a (id int);\nDROP TABLE b;"))
    assert block == ("-- ROLLBACK:\n-- -- TODO: cannot infer DROP TABLE's inverse: recreate the dropped object by hand "
                     "(its data is not restored)\n-- DROP TABLE a;\n")
    assert rollback_block(infer_rollback("")) == "-- ROLLBACK:\n-- -- TODO: write the rollback\n"


def test_a_search_path_set_by_the_forward_sql_is_set_again_before_the_undo():
    # The rollback runs in another session: without the SET, `users` would resolve to public.users (or fail).
    inferred = infer_rollback("SET search_path = app;\nCREATE TABLE things (id int);\nALTER TABLE users ADD COLUMN nick text;")
    assert inferred.sql == ("SET search_path = app;\nALTER TABLE users DROP COLUMN nick;\nDROP TABLE things;")
    assert inferred.complete


def test_undo_runs_under_the_search_path_each_statement_ran_under():
    inferred = infer_rollback("CREATE TABLE a (id int);\nSET search_path = app;\nCREATE TABLE b (id int);\n"
                              "RESET search_path;\nCREATE TABLE c (id int);")
    assert inferred.sql == ("DROP TABLE c;\nSET search_path = app;\nDROP TABLE b;\nRESET search_path;\n"
                            "DROP TABLE a;")


def test_a_grant_with_grant_option_is_revoked_whole():
    inferred = infer_rollback("GRANT SELECT ON app.users TO reader WITH GRANT OPTION;")
    # REVOKE GRANT OPTION FOR ... would leave SELECT granted.
    assert inferred.sql == "REVOKE SELECT ON TABLE app.users FROM reader CASCADE;"


def test_a_revoke_is_not_undone_by_granting_what_may_never_have_been_held():
    # GRANT ALL ... TO PUBLIC would open a table PUBLIC never had access to.
    inferred = infer_rollback("REVOKE ALL ON app.orgs FROM PUBLIC;")
    assert not inferred.complete
    assert inferred.sql.startswith("-- TODO: ") and "GRANT ALL PRIVILEGES ON TABLE app.orgs TO PUBLIC" in inferred.sql
    assert all(not line.startswith("GRANT") for line in inferred.sql.split("\n"))


def test_a_constraint_built_from_an_index_of_the_same_migration_is_undone_without_dropping_the_index_twice():
    inferred = infer_rollback("CREATE UNIQUE INDEX k_id_idx ON app.k (id);\n"
                              "ALTER TABLE app.k ADD CONSTRAINT k_pkey PRIMARY KEY USING INDEX k_id_idx;")
    # DROP CONSTRAINT drops the index it took over (and renamed): a DROP INDEX after it fails.
    assert inferred.sql == "ALTER TABLE app.k DROP CONSTRAINT k_pkey;"
    assert inferred.complete


def test_a_constraint_built_from_an_older_index_says_the_index_must_be_recreated():
    inferred = infer_rollback("ALTER TABLE app.users ADD CONSTRAINT users_public_id_key UNIQUE USING INDEX "
                              "users_public_id_idx;")
    assert inferred.sql.split("\n") == [
        "ALTER TABLE app.users DROP CONSTRAINT users_public_id_key;",
        "-- TODO: dropping users_public_id_key also dropped the index users_public_id_idx it was built from: "
        "recreate it (CREATE UNIQUE INDEX CONCURRENTLY users_public_id_idx ...)"]
    assert not inferred.complete


def test_if_not_exists_inverse_is_marked_as_not_exact():
    inferred = infer_rollback("CREATE TABLE IF NOT EXISTS t (id int);\nALTER TABLE t ADD COLUMN IF NOT EXISTS c int;")
    assert not inferred.complete
    assert sum("existed before this migration" in note for note in inferred.notes) == 2
    assert inferred.sql == "ALTER TABLE t DROP COLUMN c;\nDROP TABLE t;"

"""The shadow and its trace against real PostgreSQL: each class with a known answer, errors placed, the cache."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from engine.shadow.cache import TEMPLATE_PREFIX, WORK_PREFIX
from engine.shadow.trace import METADATA, NOT_TRACED, REWRITE, SCAN, trace
from tests.conftest import write_migration


@pytest.fixture
def shadowed(project, server_url):
    """The project with its shadow on the test server; the shadow databases it made are dropped afterwards."""
    settings = project.with_overrides(shadow_database_url=server_url)
    yield settings
    with psycopg.connect(server_url, autocommit=True) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE left(datname, 15) = %s",
                                            (TEMPLATE_PREFIX,))]
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _base(settings) -> None:
    # A unique comment: a template another test built for the same files is never what this one sees.
    write_migration(settings, "2024-01-01_1000_create_t.sql",
                    f"-- {uuid.uuid4()}\nCREATE TABLE t (id int PRIMARY KEY, v varchar(10));\n"
                    "-- ROLLBACK:\n-- DROP TABLE t;\n")


def _trace_one(settings, sql: str, rollback: str = ""):
    _base(settings)
    write_migration(settings, "2024-01-02_1000_change.sql", f"{sql}\n-- ROLLBACK:\n{rollback}")
    result = trace(settings, ["2024-01-02_1000_change"])
    (migration,) = result.migrations
    return migration


@pytest.mark.parametrize(("sql", "kind", "locks", "rewrites"), [
    ("ALTER TABLE t ADD COLUMN note text;", METADATA, [("public.t", "AccessExclusiveLock")], []),
    ("ALTER TABLE t ALTER COLUMN v SET NOT NULL;", SCAN, [("public.t", "AccessExclusiveLock")], []),
    ("ALTER TABLE t ALTER COLUMN id TYPE bigint;", REWRITE,
     [("public.t", "ShareLock"), ("public.t", "AccessExclusiveLock"), ("public.t_pkey", "AccessExclusiveLock")],
     ["public.t"]),
    ("ALTER TABLE t ALTER COLUMN v TYPE varchar(20);", METADATA, [("public.t", "AccessExclusiveLock")], []),
    ("CREATE INDEX t_v_idx ON t (v);", SCAN, [("public.t", "ShareLock")], []),
    ("ALTER TABLE t ADD COLUMN r float8 DEFAULT random();", REWRITE,
     [("public.t", "ShareLock"), ("public.t", "AccessExclusiveLock"), ("public.t_pkey", "AccessExclusiveLock")],
     ["public.t"]),
])
def test_each_statement_class_and_its_locks(shadowed, sql, kind, locks, rewrites):
    migration = _trace_one(shadowed, sql)
    (statement,) = migration.statements
    assert statement.kind == kind
    assert [(x.relation, x.mode) for x in statement.locks] == locks
    assert list(statement.rewrites) == rewrites
    assert statement.error is None


def test_not_valid_check_is_metadata_then_validate_scans_under_share_update_exclusive(shadowed):
    migration = _trace_one(shadowed, "ALTER TABLE t ADD CONSTRAINT positive CHECK (id > 0) NOT VALID;\n"
                                     "ALTER TABLE t VALIDATE CONSTRAINT positive;",
                           "-- ALTER TABLE t DROP CONSTRAINT positive;\n")
    add, validate = migration.statements
    assert (add.kind, [(x.relation, x.mode) for x in add.locks]) == (METADATA, [("public.t", "AccessExclusiveLock")])
    assert (validate.kind, [(x.relation, x.mode) for x in validate.locks]) == (
        SCAN, [("public.t", "ShareUpdateExclusiveLock")])
    assert validate.locks[0].blocks == "blocks other schema changes and VACUUM; reads and writes go on"
    assert (validate.line, migration.rollback.restores_schema) == (2, True)
    assert migration.ok


def test_a_column_dropped_two_migrations_earlier_is_an_error_at_file_line_col(shadowed):
    _base(shadowed)
    write_migration(shadowed, "2024-01-02_1000_add_old.sql", "ALTER TABLE t ADD COLUMN old text;\n")
    write_migration(shadowed, "2024-01-03_1000_drop_old.sql", "ALTER TABLE t DROP COLUMN old;\n")
    write_migration(shadowed, "2024-01-04_1000_use_old.sql",
                    "ALTER TABLE t ADD COLUMN n int;\nUPDATE t\n   SET v = old;\nALTER TABLE t ADD COLUMN m int;\n")
    (migration,) = trace(shadowed, ["2024-01-04_1000_use_old"]).migrations
    first, failing, after = migration.statements
    assert first.kind == METADATA and first.error is None
    assert failing.error is not None and not migration.ok
    assert failing.error.finding.render(shadowed.project_root) == (
        'migrations/2024-01-04_1000_use_old.sql:3:12: error[migration-failed]: column "old" does not exist '
        "(SQLSTATE 42703)")
    assert (after.kind, after.reason) == (NOT_TRACED, "not traced: an earlier statement of the migration fails")


def test_an_incomplete_rollback_is_reported_and_nothing_stays_in_the_shadow(shadowed):
    migration = _trace_one(shadowed, "ALTER TABLE t ADD COLUMN note text;\nCREATE INDEX t_v_idx ON t (v);",
                           "-- ALTER TABLE t DROP COLUMN note;\n")
    assert migration.rollback.restores_schema is False
    assert migration.rollback.leftovers == ("index public.t_v_idx still exists after the rollback",)
    assert not migration.ok
    # Tracing again gives the same answer: the first trace was rolled back, the template kept its schema.
    again = trace(shadowed, ["2024-01-02_1000_change"]).migrations[0]
    assert again.shadow.reused and again.to_dict() == migration.to_dict()


def test_a_no_transaction_migration_is_not_traced_and_says_why(shadowed):
    migration = _trace_one(shadowed, "-- pgshift: no-transaction\nCREATE INDEX CONCURRENTLY t_v_idx ON t (v);")
    (statement,) = migration.statements
    assert statement.kind == NOT_TRACED
    assert "without a transaction" in statement.reason
    assert statement.line == 2


def test_the_user_database_is_never_touched(shadowed):
    _trace_one(shadowed, "ALTER TABLE t ADD COLUMN note text;")
    with psycopg.connect(shadowed.database_url) as conn:
        assert conn.execute("SELECT to_regclass('public.t')").fetchone() == (None,)


def test_templates_are_reused_and_an_edit_rebuilds_only_what_follows_it(shadowed, server_url):
    _base(shadowed)
    write_migration(shadowed, "2024-01-02_1000_a.sql", "ALTER TABLE t ADD COLUMN a int;\n")
    write_migration(shadowed, "2024-01-03_1000_b.sql", "ALTER TABLE t ADD COLUMN b int;\n")
    write_migration(shadowed, "2024-01-04_1000_c.sql", "ALTER TABLE t ADD COLUMN c int;\n")
    targets = ["2024-01-02_1000_a", "2024-01-03_1000_b", "2024-01-04_1000_c"]

    def uses():
        return [(m.shadow.reused, m.shadow.replayed) for m in trace(shadowed, targets).migrations]

    assert uses() == [(False, ("2024-01-01_1000_create_t",)), (False, ("2024-01-02_1000_a",)),
                      (False, ("2024-01-03_1000_b",))]
    assert uses() == [(True, ()), (True, ()), (True, ())]
    write_migration(shadowed, "2024-01-03_1000_b.sql", "ALTER TABLE t ADD COLUMN b bigint;\n")
    assert uses() == [(True, ()), (True, ()), (False, ("2024-01-03_1000_b",))]
    with psycopg.connect(server_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE left(datname, %s) = %s",
                            (len(WORK_PREFIX), WORK_PREFIX)).fetchone() == (0,)


def test_an_earlier_migration_that_fails_is_named_at_its_file_line_col(shadowed):
    _base(shadowed)
    write_migration(shadowed, "2024-01-02_1000_broken.sql", "ALTER TABLE t\n  ADD COLUMN x no_such_type;\n")
    write_migration(shadowed, "2024-01-03_1000_next.sql", "ALTER TABLE t ADD COLUMN y int;\n")
    broken, following = trace(shadowed, ["2024-01-02_1000_broken", "2024-01-03_1000_next"]).migrations
    assert broken.statements[0].error.finding.span.start.line == 1
    assert following.statements == () and not following.ok
    assert following.error.finding.render(shadowed.project_root).splitlines()[0] == (
        "migrations/2024-01-02_1000_broken.sql:2:16: error[shadow-failed]: not traced: the earlier migration "
        '2024-01-02_1000_broken.sql fails in the shadow: type "no_such_type" does not exist (SQLSTATE 42704)')


def test_the_cache_keeps_the_most_recently_used_templates(shadowed):
    from engine.shadow.cache import ShadowServer

    _base(shadowed)
    write_migration(shadowed, "2024-01-02_1000_a.sql", "ALTER TABLE t ADD COLUMN a int;\n")
    write_migration(shadowed, "2024-01-03_1000_b.sql", "ALTER TABLE t ADD COLUMN b int;\n")
    first, second = trace(shadowed, ["2024-01-02_1000_a", "2024-01-03_1000_b"]).migrations
    trace(shadowed, ["2024-01-02_1000_a"])  # the template before a is now the most recently used
    server = ShadowServer.open(shadowed)
    try:
        mine = {first.shadow.template, second.shadow.template}
        assert server.templates()[0] == first.shadow.template
        server.prune(keep=1)
        assert mine & set(server.templates()) == {first.shadow.template}
    finally:
        server.close()


def test_tracing_many_migrations_keeps_every_nth_prefix_so_a_late_edit_replays_little(shadowed, monkeypatch):
    from engine.shadow import cache
    from engine.shadow import trace as trace_module

    monkeypatch.setattr(cache, "CHECKPOINT_EVERY", 2)
    monkeypatch.setattr(trace_module, "SAVE_EACH_PREFIX_UP_TO", 0)  # as for a long history: no copy per prefix
    _base(shadowed)
    names = [f"2024-01-0{day}_1000_c{day}" for day in range(2, 6)]
    for day, name in enumerate(names, 2):
        write_migration(shadowed, f"{name}.sql", f"ALTER TABLE t ADD COLUMN c{day} int;\n")
    trace(shadowed)  # every migration: the user's database has none applied
    write_migration(shadowed, f"{names[2]}.sql", "ALTER TABLE t ADD COLUMN c4 bigint;\n")  # the 4th file
    (last,) = trace(shadowed, [names[3]]).migrations
    # The prefix of files 1-2 was kept on the way; only files 3 and 4 are replayed.
    assert last.shadow.replayed == (names[1], names[2])

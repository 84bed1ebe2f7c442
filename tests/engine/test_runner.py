"""migrate / rollback against a real PostgreSQL: ordering, failures, checksums, locking, no-transaction."""

from __future__ import annotations

import threading

import psycopg
import pytest

from engine.database import runner
from engine.errors import (ChecksumMismatchError, LintFailedError, LockTimeoutError, MigrationFailedError,
                           MigrationFileError, OutOfOrderError, RollbackError, UsageError)
from engine.database.status import State, list_migrations
from tests.conftest import write_migration

CREATE = "CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL);\n\n-- ROLLBACK:\n-- DROP TABLE accounts;\n"
ADD = "ALTER TABLE accounts ADD COLUMN email text;\n\n-- ROLLBACK:\n-- ALTER TABLE accounts DROP COLUMN email;\n"


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def columns(url: str, table: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            (table,))]


def states(settings) -> dict[str, State]:
    return {m.version: m.state for m in list_migrations(settings).migrations}


def test_applies_pending_in_order_and_records_them(project, database_url):
    write_migration(project, "2025-01-02_1000_add_email.sql", ADD)
    write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    result = runner.migrate(project)
    assert [a.version for a in result.applied] == ["2025-01-01_1000_create_accounts", "2025-01-02_1000_add_email"]
    assert columns(database_url, "accounts") == ["id", "name", "email"]
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT version, state, length(checksum), rollback_sql, applied_by, execution_ms "
                            "FROM system.schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == ["2025-01-01_1000_create_accounts", "2025-01-02_1000_add_email"]
    assert all(r[1] == "applied" and r[2] == 32 and r[4] and r[5] is not None for r in rows)
    assert "DROP TABLE accounts" in rows[0][3]
    assert runner.migrate(project).applied == []  # second run: nothing to do


def test_failure_mid_run_keeps_earlier_and_points_at_the_statement(project, database_url):
    write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    bad = write_migration(project, "2025-01-02_1000_add_things.sql",
                          "ALTER TABLE accounts ADD COLUMN a int;\nUPDATE accounts SET name = nmae;\n")
    write_migration(project, "2025-01-03_1000_later.sql", "CREATE TABLE later (id int);\n")
    with pytest.raises(MigrationFailedError) as caught:
        runner.migrate(project)
    error = caught.value
    assert error.version == "2025-01-02_1000_add_things"
    assert error.applied == ["2025-01-01_1000_create_accounts"]
    finding = error.findings[0]
    assert finding.path == bad
    assert (finding.span.start.line, finding.span.start.column) == (1, 27)  # "nmae" on line 2
    assert 'column "nmae" does not exist' in finding.message
    assert columns(database_url, "accounts") == ["id", "name"]  # column a rolled back with its migration
    assert "later" not in tables(database_url)
    assert states(project) == {"2025-01-01_1000_create_accounts": State.APPLIED,
                               "2025-01-02_1000_add_things": State.PENDING, "2025-01-03_1000_later": State.PENDING}


def test_error_without_position_is_placed_on_the_failing_statement(project):
    path = write_migration(project, "2025-01-01_1000_twice.sql",
                           "CREATE TABLE t (id int);\n\nCREATE TABLE t (id int);\n")
    with pytest.raises(MigrationFailedError) as caught:
        runner.migrate(project)
    finding = caught.value.findings[0]
    assert finding.path == path and finding.span.start.line == 2
    assert (finding.span.end.line, finding.span.end.column) == (2, 23)
    assert "already exists" in finding.message


def test_changed_applied_file_blocks_migrate(project):
    path = write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    runner.migrate(project)
    write_migration(project, "2025-01-02_1000_add_email.sql", ADD)
    path.write_text(CREATE.replace("name text", "full_name text"))
    with pytest.raises(ChecksumMismatchError) as caught:
        runner.migrate(project)
    assert "2025-01-01_1000_create_accounts" in caught.value.message
    assert caught.value.findings[0].path == path
    assert states(project)["2025-01-01_1000_create_accounts"] is State.CHANGED
    assert states(project)["2025-01-02_1000_add_email"] is State.PENDING


def test_line_endings_and_rollback_edits_do_not_count_as_changes(project):
    path = write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    runner.migrate(project)
    path.write_bytes(("\ufeff" + CREATE.replace("DROP TABLE accounts;", "DROP TABLE IF EXISTS accounts;"))
                     .replace("\n", "\r\n").encode())
    assert states(project)["2025-01-01_1000_create_accounts"] is State.APPLIED
    runner.migrate(project)


def test_missing_applied_file_blocks_migrate(project):
    path = write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    runner.migrate(project)
    path.unlink()
    write_migration(project, "2025-01-02_1000_other.sql", "CREATE TABLE other (id int);\n")
    with pytest.raises(ChecksumMismatchError) as caught:
        runner.migrate(project)
    assert "missing" in caught.value.findings[0].message
    assert states(project)["2025-01-01_1000_create_accounts"] is State.MISSING


def test_bad_file_name_blocks_everything(project, database_url):
    write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    write_migration(project, "add_users.sql", "CREATE TABLE users (id int);\n")
    with pytest.raises(MigrationFileError) as caught:
        runner.migrate(project)
    assert caught.value.findings[0].code == "file-name"
    assert tables(database_url) == set()


def test_out_of_order_is_refused_unless_allowed(project, database_url):
    write_migration(project, "2025-01-02_1000_create_accounts.sql", CREATE)
    runner.migrate(project)
    write_migration(project, "2025-01-01_1000_branch.sql", "CREATE TABLE branch (id int);\n")
    with pytest.raises(OutOfOrderError) as caught:
        runner.migrate(project)
    assert caught.value.findings[0].code == "out-of-order"
    assert "branch" not in tables(database_url)
    result = runner.migrate(project, allow_out_of_order=True)
    assert [a.version for a in result.applied] == ["2025-01-01_1000_branch"]


def test_to_stops_at_version_and_rejects_unknown(project, database_url):
    write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    write_migration(project, "2025-01-02_1000_add_email.sql", ADD)
    with pytest.raises(UsageError):
        runner.migrate(project, to="2099-01-01_0000_nope")
    result = runner.migrate(project, to="2025-01-01_1000_create_accounts")
    assert [a.version for a in result.applied] == ["2025-01-01_1000_create_accounts"]
    assert columns(database_url, "accounts") == ["id", "name"]


def test_dry_run_changes_nothing(project, database_url):
    write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    write_migration(project, "2025-01-02_1000_add_email.sql", ADD)
    result = runner.migrate(project, dry_run=True)
    assert result.dry_run and len(result.applied) == 2
    assert tables(database_url) == set()
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('system.schema_migrations')").fetchone() == (None,)


def test_dry_run_reports_the_failure_with_position(project, database_url):
    write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    write_migration(project, "2025-01-02_1000_add_email.sql", "ALTER TABLE acounts ADD COLUMN email text;\n")
    with pytest.raises(MigrationFailedError) as caught:
        runner.migrate(project, dry_run=True)
    assert caught.value.findings[0].span.start.line == 0
    assert tables(database_url) == set()


def test_concurrent_runs_apply_each_migration_exactly_once(project, database_url):
    for day in range(1, 6):
        write_migration(project, f"2025-01-0{day}_1000_step_{day}.sql",
                        f"CREATE TABLE step_{day} (id int);\nINSERT INTO runs VALUES ({day});\nSELECT pg_sleep(0.05);\n")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE runs (step int)")
    results, errors, events = [], [], []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        try:
            results.append(runner.migrate(project, on_event=events.append))
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    applied = sorted(a.version for r in results for a in r.applied)
    assert applied == sorted(f"2025-01-0{d}_1000_step_{d}" for d in range(1, 6))
    with psycopg.connect(database_url) as conn:
        assert sorted(r[0] for r in conn.execute("SELECT step FROM runs")) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("sql", [
    "CREATE TABLE raced (id int);\n",           # fails the second time: "relation already exists"
    "INSERT INTO runs VALUES (1);\n",           # succeeds twice unless the tracking row stops it
])
def test_a_migration_applied_by_another_runner_after_this_one_began_is_skipped(project, database_url, sql):
    """The other runner finishes it between this run's first read and its lock: no waiting is ever seen."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE runs (step int)")
    first = write_migration(project, "2025-01-01_1000_raced.sql", sql)
    write_migration(project, "2025-01-02_1000_after.sql", "INSERT INTO runs VALUES (2);\n")
    events = []

    def other_runner_first(event) -> None:
        events.append(event)
        if isinstance(event, runner.Started) and event.path == first:
            runner.migrate(project, to="2025-01-01_1000_raced")

    result = runner.migrate(project, on_event=other_runner_first)
    assert [a.version for a in result.applied] == ["2025-01-02_1000_after"]
    assert result.skipped == ["2025-01-01_1000_raced"]
    assert any(isinstance(e, runner.Skipped) and "another pgshift" in e.reason for e in events)
    with psycopg.connect(database_url) as conn:
        assert sorted(r[0] for r in conn.execute("SELECT step FROM runs")) == ([1, 2] if "INSERT" in sql else [2])
    assert set(states(project).values()) == {State.APPLIED}


def test_waiting_runner_says_what_it_waits_for(project, database_url):
    write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    runner.migrate(project)
    write_migration(project, "2025-01-02_1000_add_email.sql", ADD)
    from engine.database import tracking
    with psycopg.connect(database_url) as blocker:
        blocker.execute("SELECT pg_advisory_xact_lock(%s)", (tracking.lock_key(project),))
        events = []
        thread = threading.Thread(target=lambda: runner.migrate(project, on_event=events.append))
        thread.start()
        import time
        deadline = time.monotonic() + 20
        while not any(isinstance(e, runner.Waiting) for e in events) and time.monotonic() < deadline:
            time.sleep(0.05)
        blocker.rollback()
    thread.join(20)
    waits = [e for e in events if isinstance(e, runner.Waiting)]
    assert waits and "another pgshift" in waits[0].reason and "pid" in waits[0].reason
    assert any(isinstance(e, runner.Applied) for e in events)


def test_lock_timeout_fails_fast_instead_of_queueing(project, database_url):
    write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    runner.migrate(project)
    write_migration(project, "2025-01-02_1000_add_email.sql", ADD)
    fast = project.with_overrides(lock_timeout="200ms")
    with psycopg.connect(database_url) as holder:
        holder.execute("SELECT * FROM accounts")  # holds ACCESS SHARE in an open transaction
        with pytest.raises(LockTimeoutError) as caught:
            runner.migrate(fast)
        holder.rollback()
    assert caught.value.findings[0].path.name == "2025-01-02_1000_add_email.sql"
    assert columns(database_url, "accounts") == ["id", "name"]
    assert states(project)["2025-01-02_1000_add_email"] is State.PENDING


NO_TX = """-- pgshift: no-transaction
CREATE INDEX CONCURRENTLY accounts_name ON accounts (name);
CREATE INDEX CONCURRENTLY accounts_nope ON accounts (nope);
"""


def test_no_transaction_failure_part_way_is_recorded_and_recoverable(project, database_url):
    write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    path = write_migration(project, "2025-01-02_1000_index_accounts.sql", NO_TX)
    with pytest.raises(MigrationFailedError) as caught:
        runner.migrate(project)
    error = caught.value
    assert error.statements_run == 1
    assert "statement 2" in error.message and "1-1 ran" in error.help
    assert error.findings[0].path == path and error.findings[0].span.start.line == 2
    status = {m.version: m for m in list_migrations(project).migrations}["2025-01-02_1000_index_accounts"]
    assert status.state is State.FAILED and status.statements_run == 1 and "nope" in status.error
    # fix the file (idempotently) and re-run: the failed migration is retried and recorded as applied
    path.write_text(NO_TX.replace("CONCURRENTLY accounts_name", "CONCURRENTLY IF NOT EXISTS accounts_name")
                    .replace("(nope)", "(id)"))
    result = runner.migrate(project)
    assert [a.version for a in result.applied] == ["2025-01-02_1000_index_accounts"]
    assert states(project)["2025-01-02_1000_index_accounts"] is State.APPLIED


def test_rollback_last_and_steps(project, database_url):
    write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    write_migration(project, "2025-01-02_1000_add_email.sql", ADD)
    runner.migrate(project)
    plan = runner.plan_rollback(project)
    assert [s.version for s in plan.steps] == ["2025-01-02_1000_add_email"]
    assert plan.steps[0].sql == "ALTER TABLE accounts DROP COLUMN email;"
    runner.rollback(project, plan)
    assert columns(database_url, "accounts") == ["id", "name"]
    assert states(project)["2025-01-02_1000_add_email"] is State.PENDING
    runner.migrate(project)
    plan = runner.plan_rollback(project, steps=2)
    runner.rollback(project, plan)
    assert tables(database_url) == set()


def test_rollback_refused_without_rollback_sql(project, database_url):
    write_migration(project, "2025-01-01_1000_create_things.sql", "CREATE TABLE things (id int);\n")
    runner.migrate(project)
    with pytest.raises(RollbackError) as caught:
        runner.plan_rollback(project)
    assert "no rollback SQL" in caught.value.message
    assert "things" in tables(database_url)


def test_failing_rollback_is_undone_and_placed_in_the_rollback_block(project, database_url):
    path = write_migration(project, "2025-01-01_1000_create_accounts.sql",
                           "CREATE TABLE accounts (id int);\n-- ROLLBACK:\n-- DROP TABLE acounts;\n")
    runner.migrate(project)
    with pytest.raises(RollbackError) as caught:
        runner.rollback(project, runner.plan_rollback(project))
    finding = caught.value.findings[0]
    assert finding.path == path and finding.span.start.line == 2 and finding.span.start.column == 3
    assert "accounts" in tables(database_url)
    assert states(project)["2025-01-01_1000_create_accounts"] is State.APPLIED


def test_unreachable_server_is_a_clear_error(tmp_path):
    from engine.config import load_settings
    from engine.errors import DatabaseUnavailableError
    (tmp_path / "migrations").mkdir()
    settings = load_settings(tmp_path, database_url="postgresql://someone:hunter2@127.0.0.1:1/nowhere", environ={})
    with pytest.raises(DatabaseUnavailableError) as caught:
        runner.migrate(settings)
    assert "127.0.0.1:1" in caught.value.message and "hunter2" not in caught.value.message


def test_non_superuser_role_can_migrate(project, database_url):
    from psycopg import conninfo
    role = "app_" + conninfo.conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB')
        conn.execute(f'GRANT CREATE ON DATABASE "{conninfo.conninfo_to_dict(database_url)["dbname"]}" TO "{role}"')
        conn.execute(f'GRANT CREATE ON SCHEMA public TO "{role}"')
    try:
        as_app = project.with_overrides(database_url=conninfo.make_conninfo(database_url, user=role))
        write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
        assert len(runner.migrate(as_app).applied) == 1
        assert "accounts" in tables(database_url)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


def test_role_without_create_gets_a_remedy(project, database_url):
    from psycopg import conninfo
    from engine.errors import DatabaseUnavailableError
    role = "ro_" + conninfo.conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER')
        conn.execute(f'REVOKE CREATE ON DATABASE "{conninfo.conninfo_to_dict(database_url)["dbname"]}" FROM PUBLIC')
    try:
        write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
        with pytest.raises(DatabaseUnavailableError) as caught:
            runner.migrate(project.with_overrides(database_url=conninfo.make_conninfo(database_url, user=role)))
        assert "system.schema_migrations" in caught.value.message and "CREATE" in caught.value.help
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP ROLE "{role}"')


def test_a_foreign_tracking_table_is_refused_not_altered(project, database_url):
    from engine.errors import ConfigError
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA system; CREATE TABLE system.schema_migrations "
                     "(id serial PRIMARY KEY, filename text NOT NULL, applied_at timestamptz DEFAULT now())")
    write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    for attempt in (runner.migrate, list_migrations):
        with pytest.raises(ConfigError) as caught:
            attempt(project)
        assert "not created by pgshift" in caught.value.message and "tracking_table" in caught.value.help
    with psycopg.connect(database_url) as conn:
        assert [r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE "
                                           "table_name = 'schema_migrations' ORDER BY ordinal_position")] == \
            ["id", "filename", "applied_at"]
    assert "accounts" not in tables(database_url)


def test_an_older_pgshift_table_gains_the_new_columns(project, database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA system; CREATE TABLE system.schema_migrations "
                     "(version text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz DEFAULT now())")
    write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    assert len(runner.migrate(project).applied) == 1
    assert states(project) == {"2025-01-01_1000_create_accounts": State.APPLIED}


def test_lock_timeout_is_retried_when_configured(project, database_url):
    write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    runner.migrate(project)
    write_migration(project, "2025-01-02_1000_add_email.sql", ADD)
    patient = project.with_overrides(lock_timeout="300ms", lock_retries=3)
    events: list = []
    holder = psycopg.connect(database_url)
    holder.execute("SELECT * FROM accounts")  # ACCESS SHARE held until the first retry is announced

    def release_after_first_retry(event) -> None:
        events.append(event)
        if isinstance(event, runner.Retrying) and not holder.closed:
            holder.rollback()
            holder.close()

    result = runner.migrate(patient, on_event=release_after_first_retry)
    retries = [e for e in events if isinstance(e, runner.Retrying)]
    assert len(retries) == 1 and retries[0].attempt == 1 and "lock" in retries[0].reason
    assert [a.version for a in result.applied] == ["2025-01-02_1000_add_email"]
    assert columns(database_url, "accounts") == ["id", "name", "email"]


def test_session_settings_do_not_leak_into_the_next_migration(project, database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA elsewhere")
    write_migration(project, "2025-01-01_1000_switch_path.sql",
                    "SET search_path = elsewhere;\nCREATE TABLE first (id int);\n")
    write_migration(project, "2025-01-02_1000_plain.sql", "CREATE TABLE second (id int);\n")
    runner.migrate(project)
    with psycopg.connect(database_url) as conn:
        placed = dict(conn.execute("SELECT tablename, schemaname FROM pg_tables "
                                   "WHERE tablename IN ('first', 'second')").fetchall())
    assert placed == {"first": "elsewhere", "second": "public"}


def test_a_concurrent_index_migration_rolls_back_outside_a_transaction(project, database_url):
    write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    write_migration(project, "2025-01-02_1000_index_name.sql",
                    "-- pgshift: no-transaction\nCREATE INDEX CONCURRENTLY accounts_name ON accounts (name);\n"
                    "-- ROLLBACK:\n-- DROP INDEX CONCURRENTLY accounts_name;\n")
    runner.migrate(project)
    plan = runner.plan_rollback(project)
    assert plan.steps[0].no_transaction
    runner.rollback(project, plan)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('accounts_name')").fetchone() == (None,)
    assert states(project)["2025-01-02_1000_index_name"] is State.PENDING


def test_reading_an_older_pgshift_table_changes_nothing(project, database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA system; CREATE TABLE system.schema_migrations "
                     "(version text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz DEFAULT now())")
        conn.execute("INSERT INTO system.schema_migrations (version, checksum) VALUES ('2025-01-01_1000_old', 'x')")
    assert states(project) == {"2025-01-01_1000_old": State.MISSING}
    with psycopg.connect(database_url) as conn:
        count = conn.execute("SELECT count(*) FROM information_schema.columns "
                             "WHERE table_name = 'schema_migrations'").fetchone()[0]
    assert count == 3  # list only read; migrate is what adds pgshift's newer columns


def test_error_level_findings_stop_migrate_before_anything_runs(project, database_url):
    write_migration(project, "2025-01-01_1000_create_accounts.sql", CREATE)
    path = write_migration(project, "2025-01-02_1000_wrapped.sql",
                           "BEGIN;\nCREATE TABLE wrapped (id int);\nCOMMIT;\n-- ROLLBACK:\n-- DROP TABLE wrapped;\n")
    with pytest.raises(LintFailedError) as caught:
        runner.migrate(project)
    assert {f.code for f in caught.value.findings} == {"transaction-nesting"}
    assert caught.value.findings[0].path == path
    assert tables(database_url) == set()  # not even the first, valid migration ran


def test_reported_duration_is_the_recorded_one(project, database_url):
    write_migration(project, "2025-01-01_1000_slow.sql", "SELECT pg_sleep(0.05);\nCREATE TABLE slow (id int);\n")
    [applied] = runner.migrate(project).applied
    [status] = list_migrations(project).migrations
    assert applied.milliseconds == status.execution_ms >= 50

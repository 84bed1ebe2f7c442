"""rollback and migrate meeting another pgshift: the plan is re-checked under the lock, and a runner that
waits for the migration lock says whom it waits for, once, then reminds, and gives up within a bound."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from engine.database import runner, tracking
from engine.errors import LockTimeoutError, RollbackError
from engine.database.status import State, list_migrations
from tests.conftest import write_migration

CREATE = "CREATE TABLE accounts (id bigint PRIMARY KEY);\n\n-- ROLLBACK:\n-- DROP TABLE accounts;\n"


def states(settings) -> dict[str, State]:
    return {m.version: m.state for m in list_migrations(settings).migrations}


def lock_is_held(url: str, settings) -> bool:
    key = tracking.lock_key(settings)
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
                            "AND classid = %s AND objid = %s)", ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF)
                            ).fetchone()[0]


def until(condition, what: str, limit: float = 30) -> None:
    """Poll a condition the test needs before its next step (not an assertion about speed)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.02)


def test_rollback_planned_before_a_racing_migrate_refuses_instead_of_leaving_a_hole(project, database_url):
    write_migration(project, "2025-01-01_1000_a.sql", CREATE)
    runner.migrate(project)
    write_migration(project, "2025-01-02_1000_b.sql",
                    "SELECT pg_sleep(1);\nCREATE TABLE b (id int);\n-- ROLLBACK:\n-- DROP TABLE b;\n")
    plan = runner.plan_rollback(project)
    assert [s.version for s in plan.steps] == ["2025-01-01_1000_a"]
    migrating = threading.Thread(target=runner.migrate, args=(project,))
    migrating.start()
    until(lambda: lock_is_held(database_url, project), "migrate took the migration lock")
    with pytest.raises(RollbackError) as caught:
        runner.rollback(project, plan)
    migrating.join(60)
    assert "refusing to roll back 2025-01-01_1000_a: 2025-01-02_1000_b is now applied after it" in caught.value.message
    assert "nothing was rolled back" in caught.value.message
    assert states(project) == {"2025-01-01_1000_a": State.APPLIED, "2025-01-02_1000_b": State.APPLIED}
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('accounts')").fetchone()[0] is not None


@pytest.mark.parametrize("no_transaction", [False, True])
def test_rollback_says_whom_it_waits_for_and_gives_up_within_the_bound(project, database_url, no_transaction):
    rollback_sql = "-- DROP INDEX CONCURRENTLY a_id;" if no_transaction else "-- DROP TABLE accounts;"
    write_migration(project, "2025-01-01_1000_a.sql", "CREATE TABLE accounts (id bigint);\n"
                    + ("CREATE INDEX a_id ON accounts (id);\n" if no_transaction else "")
                    + f"-- ROLLBACK:\n{rollback_sql}\n")
    runner.migrate(project)
    patient = project.with_overrides(lock_wait_timeout=1.0)
    plan = runner.plan_rollback(patient)
    assert plan.steps[0].no_transaction is no_transaction
    events: list = []
    outcome: list = []

    def roll_back() -> None:
        try:
            runner.rollback(patient, plan, on_event=events.append)
        except Exception as exc:
            outcome.append(exc)

    with psycopg.connect(database_url, application_name="deploy-script") as blocker:
        blocker.execute("SELECT pg_advisory_xact_lock(%s)", (tracking.lock_key(project),))
        thread = threading.Thread(target=roll_back)
        thread.start()
        thread.join(60)
        still_waiting = thread.is_alive()
        blocker.rollback()
    thread.join(60)
    assert not still_waiting, "rollback waited for the migration lock without a bound"
    waits = [e for e in events if isinstance(e, runner.Waiting)]
    assert waits and "pid" in waits[0].reason and "deploy-script" in waits[0].reason
    [error] = outcome
    assert isinstance(error, LockTimeoutError)
    assert "gave up after waiting" in error.message and "deploy-script" in error.message
    assert "lock_wait_timeout" in error.help
    assert set(states(project).values()) == {State.APPLIED}


def test_a_waiting_migrate_says_so_once_per_wait_not_once_per_migration(project, database_url, monkeypatch):
    monkeypatch.setattr(runner, "WAIT_REMINDER_SECONDS", 3600.0, raising=False)
    for n in range(1, 9):
        write_migration(project, f"2025-01-0{n}_1000_step_{n}.sql", f"SELECT pg_sleep(0.2);\nCREATE TABLE s{n} ();\n")
    events = {"first": [], "second": []}
    errors: list = []

    def run(name: str) -> None:
        try:
            runner.migrate(project, on_event=events[name].append)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    first = threading.Thread(target=run, args=("first",))
    first.start()
    until(lambda: lock_is_held(database_url, project), "the first migrate took the migration lock")
    second = threading.Thread(target=run, args=("second",))
    second.start()
    first.join(120)
    second.join(120)
    assert errors == []
    waits = {name: [e for e in seen if isinstance(e, runner.Waiting)] for name, seen in events.items()}
    assert waits["second"], "the second runner never waited (the test proves nothing)"
    assert [len(w) for w in waits.values()] in ([0, 1], [1, 1], [1, 0])
    assert set(states(project).values()) == {State.APPLIED}


def test_a_long_wait_is_reminded_with_how_long_it_has_waited(project, database_url, monkeypatch):
    monkeypatch.setattr(runner, "WAIT_REMINDER_SECONDS", 0.2, raising=False)
    write_migration(project, "2025-01-01_1000_a.sql", CREATE)
    runner.migrate(project)
    write_migration(project, "2025-01-02_1000_b.sql", "CREATE TABLE b (id int);\n")
    events: list = []
    with psycopg.connect(database_url, application_name="other-deploy") as blocker:
        blocker.execute("SELECT pg_advisory_xact_lock(%s)", (tracking.lock_key(project),))
        thread = threading.Thread(target=runner.migrate, args=(project,), kwargs={"on_event": events.append})
        thread.start()
        until(lambda: sum(isinstance(e, runner.Waiting) for e in events) >= 2, "a reminder while waiting")
        blocker.rollback()
    thread.join(60)
    first, second = [e for e in events if isinstance(e, runner.Waiting)][:2]
    assert first.reason.startswith("another pgshift is migrating this database: pid")
    assert second.reason.startswith("still waiting (") and "other-deploy" in second.reason
    assert set(states(project).values()) == {State.APPLIED}


def test_rollback_under_an_interrupted_newer_run_is_refused_before_asking(project, database_url):
    write_migration(project, "2025-01-01_1000_a.sql", CREATE)
    runner.migrate(project)
    with psycopg.connect(database_url, autocommit=True) as conn:  # what a killed no-transaction run leaves
        conn.execute("INSERT INTO system.schema_migrations (version, checksum, state, statements_run) "
                     "VALUES ('2025-01-02_1000_b', 'x', 'running', 1)")
    with pytest.raises(RollbackError) as caught:
        runner.plan_rollback(project)
    assert "2025-01-02_1000_b is being run by another pgshift, or was interrupted" in caught.value.message
    assert "pgshift repair 2025-01-02_1000_b" in caught.value.help


def test_lock_wait_timeout_is_a_duration_setting(tmp_path):
    from engine.config import load_settings
    from engine.errors import ConfigError
    (tmp_path / "pyproject.toml").write_text('[tool.pgshift]\nlock_wait_timeout = "30s"\n')
    assert load_settings(tmp_path, environ={}).lock_wait_timeout == 30.0
    assert load_settings(tmp_path, environ={"PGSHIFT_LOCK_WAIT_TIMEOUT": "0"}).lock_wait_timeout == 0.0
    (tmp_path / "pyproject.toml").write_text('[tool.pgshift]\nlock_wait_timeout = "a while"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ={})
    assert "lock_wait_timeout 'a while' is not a duration" in caught.value.message
    assert "pyproject.toml" in caught.value.message

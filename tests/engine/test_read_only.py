"""A database that only reads (default_transaction_read_only, a hot standby): `list` works, writes refuse.

The standby is real: pg_basebackup -R of a throwaway PostgreSQL 15 server, streaming from it.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from engine.database import repair, runner
from engine.config import load_settings
from engine.errors import ReadOnlyDatabaseError
from engine.database.status import State, list_migrations
from tests.conftest import write_migration
from tests.throwaway import fresh_database, throwaway_server  # noqa: F401 - fixture

FIRST = "2025-01-01_1000_first"
SECOND = "2025-01-02_1000_second"


def _files(settings) -> None:
    write_migration(settings, f"{FIRST}.sql", "CREATE TABLE first (id int);\n\n-- ROLLBACK:\n-- DROP TABLE first;\n")
    write_migration(settings, f"{SECOND}.sql", "CREATE TABLE second (id int);\n\n-- ROLLBACK:\n-- DROP TABLE second;\n")


def _make_read_only(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{conn.info.dbname}" SET default_transaction_read_only = on')


def _every_write_refuses(settings) -> list[str]:
    """The message of each write verb's refusal; raises if one does not refuse as read-only."""
    messages = []
    for attempt in (lambda: runner.migrate(settings), lambda: runner.migrate(settings, dry_run=True),
                    lambda: runner.plan_rollback(settings), lambda: repair.plan_repair(settings),
                    lambda: repair.plan_mark(settings, [SECOND], applied=True)):
        with pytest.raises(ReadOnlyDatabaseError) as caught:
            attempt()
        assert caught.value.exit_code == 2
        messages.append(caught.value.message)
    return messages


def test_list_reads_a_read_only_database_without_a_tracking_table_and_every_write_refuses(project, database_url):
    _files(project)
    _make_read_only(database_url)
    assert [(m.version, m.state) for m in list_migrations(project).migrations] == [(FIRST, State.PENDING),
                                                                                  (SECOND, State.PENDING)]
    for message in _every_write_refuses(project):
        assert message.startswith("database is read-only") and "transaction_read_only is on" in message
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regnamespace('system')").fetchone() == (None,)


def test_where_migrations_were_applied_the_refusal_says_read_only_not_fix_the_sql(project, database_url):
    _files(project)
    runner.migrate(project, to=FIRST)
    _make_read_only(database_url)
    assert {m.version: m.state for m in list_migrations(project).migrations} == {FIRST: State.APPLIED,
                                                                                 SECOND: State.PENDING}
    with pytest.raises(ReadOnlyDatabaseError) as caught:
        runner.migrate(project)
    assert "fix the SQL" not in (caught.value.help or "") and "`pgshift list` works" in caught.value.help
    _every_write_refuses(project)


def test_a_hot_standby_is_named_as_such_and_list_works_there(tmp_path: Path, throwaway_server):
    primary_url = fresh_database(throwaway_server, "primary_db")
    (tmp_path / "migrations").mkdir()
    primary = load_settings(tmp_path, database_url=primary_url, environ={})
    _files(primary)
    runner.migrate(primary, to=FIRST)
    standby = throwaway_server.standby()
    standby.wait_ready()
    on_standby = load_settings(tmp_path, database_url=standby.url_for("primary_db"), environ={})
    # the base backup was taken after FIRST was applied, so the standby has its row
    assert [m.state for m in list_migrations(on_standby).migrations] == [State.APPLIED, State.PENDING]
    for message in _every_write_refuses(on_standby):
        assert message.startswith("database is read-only") and "hot standby" in message

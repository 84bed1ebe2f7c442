"""A session the server ends (pg_terminate_backend: what a restart does to it) is a ConnectionLostError with the
server's message, never psycopg's traceback; a rollback cut off this way leaves the migration applied."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from engine.database import db, runner, tracking
from engine.errors import ConnectionLostError
from engine.database.status import State, list_migrations
from tests.conftest import write_migration

VERSION = "2025-01-01_1000_slow_rollback"


def _terminate(url: str, fragment: str) -> None:
    """End the session running a query containing `fragment`, once it runs."""
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(600):
            if conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                            "AND query LIKE %s", (f"%{fragment}%",)).fetchall():
                return
            time.sleep(0.05)


def test_a_read_whose_session_is_ended_by_the_server_says_the_connection_was_lost(project, database_url):
    with pytest.raises(ConnectionLostError) as lost:
        with db.session(project) as (conn, _):
            with psycopg.connect(database_url, autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
            tracking.read_applied(conn, project)
    assert lost.value.exit_code == 2
    assert lost.value.message.startswith("lost the connection to ")
    assert "terminating connection due to administrator command" in lost.value.message


def test_a_rollback_cut_off_by_the_server_is_reported_and_leaves_the_migration_applied(project, database_url):
    write_migration(project, f"{VERSION}.sql",
                    "CREATE TABLE slow (id int);\n\n-- ROLLBACK:\n-- SELECT pg_sleep(30);\n-- DROP TABLE slow;\n")
    runner.migrate(project)
    plan = runner.plan_rollback(project)
    killer = threading.Thread(target=_terminate, args=(database_url, "pg_sleep(30)"))
    killer.start()
    try:
        with pytest.raises(ConnectionLostError) as lost:
            runner.rollback(project, plan)
    finally:
        killer.join()
    assert "terminating connection due to administrator command" in lost.value.message
    assert [m.state for m in list_migrations(project).migrations] == [State.APPLIED]

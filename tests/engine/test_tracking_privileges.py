"""A role without CREATE on the database: the remedy pgshift prints, run exactly as printed, makes it work."""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest

from engine.database import runner
from engine.config import load_settings
from engine.errors import DatabaseUnavailableError
from engine.database.status import State, list_migrations
from tests.conftest import write_migration

VERSION = "2025-01-01_1000_notes"


@pytest.fixture
def plain_role(database_url):
    """A login role with no privilege beyond CONNECT and TEMP (PUBLIC's defaults); its URL."""
    name = "r_" + uuid.uuid4().hex[:10]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD 'pw'")
    yield psycopg.conninfo.make_conninfo(database_url, user=name, password="pw")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {name}")
        conn.execute(f"DROP ROLE {name}")


def test_the_printed_remedy_for_a_role_without_create_on_the_database_works_as_printed(tmp_path, database_url,
                                                                                        plain_role):
    (tmp_path / "migrations").mkdir()
    settings = load_settings(tmp_path, database_url=plain_role, environ={})
    write_migration(settings, f"{VERSION}.sql",
                    "CREATE TABLE system.notes (id int);\n\n-- ROLLBACK:\n-- DROP TABLE system.notes;\n")
    with pytest.raises(DatabaseUnavailableError) as refused:
        runner.migrate(settings)
    assert "permission denied for database" in refused.value.message
    printed = re.findall(r"`([^`]*;)`", refused.value.help)
    assert printed and printed[0].startswith("CREATE SCHEMA")
    with psycopg.connect(database_url, autocommit=True) as admin:  # the administrator follows the help
        admin.execute(printed[0])
    result = runner.migrate(settings)
    assert [a.version for a in result.applied] == [VERSION]
    assert [m.state for m in list_migrations(settings).migrations] == [State.APPLIED]


def test_a_role_given_only_its_own_tracking_schema_can_migrate(tmp_path, database_url, plain_role):
    (tmp_path / "migrations").mkdir()
    settings = load_settings(tmp_path, database_url=plain_role, environ={})
    write_migration(settings, f"{VERSION}.sql",
                    "CREATE TABLE system.notes (id int);\n\n-- ROLLBACK:\n-- DROP TABLE system.notes;\n")
    role = psycopg.conninfo.conninfo_to_dict(plain_role)["user"]
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA system AUTHORIZATION {role}")
    assert [a.version for a in runner.migrate(settings).applied] == [VERSION]

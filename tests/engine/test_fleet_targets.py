"""Fleet targets in the settings: checked when settings load, resolved to databases when a command asks."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from engine.config import load_settings
from engine.errors import ConfigError, UsageError
from engine.fleet.targets import resolve, select
from tests.conftest import url_for_database


def settings_with(tmp_path, text: str):
    (tmp_path / "pgshift.toml").write_text(text, encoding="utf-8")
    return load_settings(tmp_path, environ={})


@pytest.mark.parametrize("text, said", [
    ("[targets.eu]\n", "must have exactly one of url, url_env, discover, schemas, not none"),
    ("[targets.eu]\nurl = \"postgresql://h/db\"\nurl_env = \"EU\"\n", "not url and url_env"),
    ("[targets.eu]\nurl = 5\n", "url must be a connection string"),
    ("[targets.eu]\nurll = \"x\"\n", "unknown key 'urll'"),
    ("[targets.eu]\ndiscover = \"postgresql://h/db\"\n", "discover must be a table"),
    ("[targets.eu]\ndiscover = { url = \"postgresql://h/db\" }\n", "discover.query must be a non-empty string"),
    ("[targets.all]\nurl = \"postgresql://h/db\"\n", "may not be named 'all'"),
    ("targets = 3\n", "targets must be a table"),
    ("[targets.shop]\nschemas = { url = \"postgresql://h/db\", query = \"SELECT 1\", tracking_table = \"t\" }\n",
     "schemas.tracking_table 't' must be written schema.table"),
    ("[targets.shop]\ndiscover = { url = \"postgresql://h/db\", query = \"SELECT 1\", tracking_table = \"a.b\" }\n",
     "discover: unknown key 'tracking_table'"),
])
def test_a_malformed_target_is_a_config_error_naming_the_key_and_file(tmp_path, text, said):
    with pytest.raises(ConfigError) as caught:
        settings_with(tmp_path, text)
    assert said in caught.value.message and "pgshift.toml" in caught.value.message
    assert "[tool.pgshift.targets" in caught.value.message or "targets must" in caught.value.message


def test_url_and_url_env_targets_resolve_and_select_by_name_glob_and_all(tmp_path):
    settings = settings_with(tmp_path, "[targets.eu]\nurl = \"postgresql://h/eu\"\n"
                                       "[targets.us]\nurl_env = \"US_URL\"\n")
    targets = resolve(settings.targets, {"US_URL": "postgresql://h/us"})
    assert [(t.name, t.database_url) for t in targets] == [("eu", "postgresql://h/eu"), ("us", "postgresql://h/us")]
    assert [t.name for t in select(targets, "all")] == ["eu", "us"]
    assert [t.name for t in select(targets, "u*")] == ["us"]
    with pytest.raises(UsageError, match="no configured target matches"):
        select(targets, "asia")
    with pytest.raises(ConfigError, match="US_URL is not set"):
        resolve(settings.targets, {})


def test_discover_names_every_database_its_query_returns_read_only(tmp_path, server_url):
    prefix = "fd_" + uuid.uuid4().hex[:6]
    with psycopg.connect(server_url, autocommit=True) as conn:
        for n in range(3):
            conn.execute(f'CREATE DATABASE "{prefix}_{n}"')
    try:
        query = f"SELECT datname FROM pg_database WHERE datname LIKE '{prefix}\\\\_%'"
        settings = settings_with(tmp_path, f"[targets.tenants]\ndiscover = {{ url = \"{server_url}\", "
                                           f"query = \"{query}\" }}\n")
        targets = resolve(settings.targets)
        assert [t.name for t in targets] == [f"tenants/{prefix}_{n}" for n in range(3)]
        with psycopg.connect(targets[1].database_url) as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == f"{prefix}_1"
        writing = settings_with(tmp_path, f"[targets.tenants]\ndiscover = {{ url = \"{server_url}\", "
                                          "query = \"CREATE TABLE sneaky (id int) \" }\n")
        with pytest.raises(ConfigError, match="read-only transaction"):
            resolve(writing.targets)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            for n in range(3):
                conn.execute(f'DROP DATABASE IF EXISTS "{prefix}_{n}" WITH (FORCE)')

"""Where pgshift finds its database and settings."""

from __future__ import annotations

from engine.config import load_settings


def test_database_url_precedence_flag_env_dotenv_project_libpq_embedded(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.pgshift]\ndatabase_url = "postgresql://from-project/db"\n')
    assert load_settings(tmp_path, environ={}).database_source == "[tool.pgshift] database_url"
    (tmp_path / ".env").write_text('# local\nexport DATABASE_URL="postgresql://from-dotenv/db"  \nOTHER=1\n')
    settings = load_settings(tmp_path, environ={})
    assert (settings.database_url, settings.database_source) == ("postgresql://from-dotenv/db", "DATABASE_URL in .env")
    settings = load_settings(tmp_path, environ={"DATABASE_URL": "postgresql://from-env/db"})
    assert settings.database_url == "postgresql://from-env/db"
    settings = load_settings(tmp_path, database_url="postgresql://from-flag/db",
                             environ={"DATABASE_URL": "postgresql://from-env/db"})
    assert settings.database_url == "postgresql://from-flag/db"


def test_libpq_variables_then_the_embedded_database(tmp_path):
    assert load_settings(tmp_path, environ={"PGHOST": "db.internal"}).database_source.startswith("libpq")
    settings = load_settings(tmp_path, environ={})
    assert settings.database_url is None and settings.uses_embedded_database


def test_the_environment_wins_over_the_project_file_for_lock_timeout(tmp_path):
    import pytest
    from engine.errors import ConfigError
    (tmp_path / "pgshift.toml").write_text('lock_timeout = "2s"\n')
    assert load_settings(tmp_path, environ={}).lock_timeout == "2s"
    assert load_settings(tmp_path, environ={"PGSHIFT_LOCK_TIMEOUT": "250ms"}).lock_timeout == "250ms"
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ={"PGSHIFT_LOCK_TIMEOUT": "abc"})
    assert caught.value.message.startswith("PGSHIFT_LOCK_TIMEOUT:")

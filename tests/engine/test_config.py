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


# --- typed settings (issue 10, item 10) ---

import pytest

from engine.errors import ConfigError


def config_error(tmp_path, text: str, **kwargs) -> ConfigError:
    (tmp_path / "migrations").mkdir(exist_ok=True)
    (tmp_path / "pyproject.toml").write_text("[tool.pgshift]\n" + text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ=kwargs.get("environ", {}))
    return caught.value


@pytest.mark.parametrize(("line", "said"), [
    ('allow_rollback = "false"', 'allow_rollback must be true or false (without quotes), not a string'),
    ("allow_rollback = 0", "allow_rollback must be true or false"),
    ("lock_retries = true", "lock_retries must be a whole number"),
    ('lock_retries = "3"', "lock_retries must be a whole number"),
    ("lock_retries = -1", "lock_retries must be 0 or more"),
    ('target_version = "16"', "target_version must be a PostgreSQL major version"),
    ("target_version = 7", "target_version 7 is not a PostgreSQL version"),
    ("migrations_dir = 5", "migrations_dir must be a folder path"),
    ("tracking_table = 1.5", "tracking_table must be a string"),
    ("lock_timeout = true", "lock_timeout must be a duration"),
    ("rules = 1", "rules must be a table"),
    ("[tool.pgshift.rules]\nmissing-rollback = 1", "[rules] missing-rollback must be a string"),
])
def test_a_value_of_the_wrong_type_is_an_error_naming_the_key_and_file(tmp_path, line, said):
    error = config_error(tmp_path, line + "\n")
    assert error.message.startswith(str(tmp_path / "pyproject.toml") + ": ")
    assert said in error.message and error.exit_code == 2


def test_a_database_url_of_the_wrong_type_is_not_echoed(tmp_path):
    error = config_error(tmp_path, "database_url = { password = 's3cret' }\n")
    assert "database_url must be a connection string, not a table" in error.message and "s3cret" not in error.message


def test_an_unknown_key_says_which_one_was_meant(tmp_path):
    error = config_error(tmp_path, 'lock_timout = "5s"\n')
    assert "unknown setting 'lock_timout' (did you mean 'lock_timeout'?)" in error.message
    assert "known settings: migrations_dir" in error.help


@pytest.mark.parametrize(("value", "as_set"), [('"5s"', "5s"), ('"500 ms"', "500ms"), ('"1.5min"', "1.5min"),
                                               ("0", "0"), ("2147483647", "2147483647"), ('"1d"', "1d"),
                                               ('"24d"', "24d"), ('"2000us"', "2000us")])
def test_lock_timeout_takes_what_postgresql_takes(tmp_path, value, as_set):
    (tmp_path / "pgshift.toml").write_text(f"lock_timeout = {value}\n")
    assert load_settings(tmp_path, environ={}).lock_timeout == as_set


@pytest.mark.parametrize("value", ['"99999999999999999999h"', '"25d"', "2147483648", '"-1s"', '"5 sec"', '"5S"',
                                   '"1e400ms"', '"soon"'])
def test_lock_timeout_postgresql_would_refuse_is_refused_here(tmp_path, value):
    error = config_error(tmp_path, f"lock_timeout = {value}\n")
    assert "lock_timeout" in error.message and str(tmp_path / "pyproject.toml") in error.message


def test_lock_timeout_from_the_environment_is_checked_too(tmp_path):
    error = config_error(tmp_path, "", environ={"PGSHIFT_LOCK_TIMEOUT": "99999999999999999999h"})
    assert error.message.startswith("PGSHIFT_LOCK_TIMEOUT: lock_timeout") and "range" in error.message


# --- the migrations folder (issue 10, item 11) ---

@pytest.mark.parametrize(("given", "origin"), [
    ({"toml": 'migrations_dir = "migraitons"\n'}, "migrations_dir in {root}/pyproject.toml"),
    ({"flag": "migraitons"}, "--migrations-dir"),
    ({"environ": {"PGSHIFT_MIGRATIONS_DIR": "migraitons"}}, "PGSHIFT_MIGRATIONS_DIR"),
])
def test_a_configured_migrations_folder_that_does_not_exist_is_an_error(tmp_path, given, origin):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.pgshift]\n" + given.get("toml", ""))
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, migrations_dir=given.get("flag"), environ=given.get("environ", {}))
    assert caught.value.message == (f"the migrations folder {tmp_path / 'migraitons'} "
                                    f"({origin.format(root=tmp_path)}) does not exist")


def test_the_default_folder_may_be_missing_and_init_may_create_a_configured_one(tmp_path):
    assert load_settings(tmp_path, environ={}).migrations_dir == tmp_path / "migrations"
    (tmp_path / "pgshift.toml").write_text('migrations_dir = "db/migrations"\n')
    settings = load_settings(tmp_path, environ={}, create_migrations_dir=True)
    assert settings.migrations_dir == tmp_path / "db" / "migrations"

"""No password reaches the terminal, whatever shape the URL holding it has (issue 10, item 9).

The sweep runs the real CLI in-process against an address nothing listens on (every form must fail cleanly
without a password in sight); one case connects for real with a role whose password has every awkward
character, to prove that the scrubbing does not stand in the way of connecting.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from psycopg import conninfo, sql

from server.cli import main
from tests.passwords import PASSWORDS, leaks, url_forms

PGSHIFT = str(Path(sys.executable).with_name("pgshift"))
MIGRATION = "CREATE TABLE t (id int);\n\n-- ROLLBACK:\n-- DROP TABLE t;\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sweep")
    (root / "migrations").mkdir()
    (root / "migrations" / "2025-01-01_1000_t.sql").write_text(MIGRATION)
    return root


@contextlib.contextmanager
def environment(**values: str):
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "PGPASSWORD", *values)}
    for key in saved:
        os.environ.pop(key, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None)
            if value is not None:
                os.environ[key] = value


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(PASSWORDS, st.sampled_from(range(6)), st.sampled_from(["flag", "env"]))
def test_no_password_in_stdout_stderr_or_json(folder, password, form, given_as):
    url = url_forms(password)[form]
    flag = ["--database-url", url] if given_as == "flag" else []
    with environment(**({} if given_as == "flag" else {"DATABASE_URL": url})):
        for command in (["list"], ["migrate"], ["--json", "list"], ["--json", "migrate", "--dry-run"]):
            code, out, err = run("-C", str(folder), *flag, *command)
            assert code == 2, (command, out, err)
            assert not leaks(password, out, err), (command, out, err)
            if "--json" in command:
                assert json.loads(out)["ok"] is False


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(PASSWORDS)
def test_no_pgpassword_in_output(folder, password):
    with environment(PGPASSWORD=password):
        code, out, err = run("-C", str(folder), "--database-url", "postgresql://app@127.0.0.1:1/shop", "list")
    assert code == 2 and "127.0.0.1" in err and not leaks(password, out, err)


@pytest.mark.parametrize("url", ["postgresql://app:S3cr3t%zz@127.0.0.1:1/shop", "app:S3cr3t/x@127.0.0.1:1/shop",
                                 "postgresql://app:S3c@r3t/x@127.0.0.1:1/shop"])
def test_the_installed_command_says_what_is_wrong_without_the_password(folder, url):
    done = subprocess.run([PGSHIFT, "--database-url", url, "migrate"], cwd=folder, capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PGPASSWORD")})
    assert done.returncode == 2 and "S3c" not in done.stdout + done.stderr
    assert "error[config]: the connection string from --database-url is not valid" in done.stderr
    assert "percent-encoded" in done.stderr and "Traceback" not in done.stderr


AWKWARD = "p@ss/w:rd%zz?#& é'\"\\日"


def test_a_role_with_such_a_password_connects_and_migrates(tmp_path, server_url, database_url):
    role = "r_" + uuid.uuid4().hex[:8]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(sql.Identifier(role),
                                                                                  sql.Literal(AWKWARD)))
    try:
        params = conninfo.conninfo_to_dict(database_url)
        host = params.get("host", "localhost")
        place = f"{quote(host, safe='')}:{params.get('port', 5432)}"
        url = f"postgresql://{role}:{quote(AWKWARD, safe='')}@{place}/{params['dbname']}"
        (tmp_path / "migrations").mkdir()
        (tmp_path / "migrations" / "2025-01-01_1000_t.sql").write_text(MIGRATION)
        code, out, err = run("-C", str(tmp_path), "--database-url", url, "migrate")
        assert code == 0, err
        assert "applied" in out and f"postgresql://{role}@" in err
        assert not leaks(AWKWARD, out, err)
        with psycopg.connect(database_url) as conn:
            assert conn.execute("SELECT to_regclass('public.t') IS NOT NULL").fetchone()[0]
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(role)))
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_a_password_in_any_output_is_scrubbed_on_the_way_out(folder):
    """The scrubbing is where output leaves, so a message that merely quotes the text is covered too."""
    sql = folder / "stray.sql"
    sql.write_text("SELECT 1 Hunter2Hunter2 Hunter2Hunter2;\n")
    for json_flag in ([], ["--json"]):
        code, out, err = run("-C", str(folder), *json_flag, "--database-url",
                             "postgresql://app:Hunter2Hunter2@127.0.0.1:1/x", "check", str(sql))
        assert code == 1 and "Hunter2Hunter2" not in out + err
        assert 'syntax error at or near "***"' in (err if not json_flag else json.loads(out) and out.replace('\\"', '"'))

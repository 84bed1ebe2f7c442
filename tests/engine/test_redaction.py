"""Passwords found as the user wrote them, whatever a URL parser makes of the string (issue 10, item 9)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given, settings, strategies as st

from engine.database.db import Target, check_connection_string, display_url
from engine.errors import ConfigError
from engine.redaction import Redactor, url_password
from tests.passwords import PASSWORDS, url_forms


@pytest.mark.parametrize(("url", "written"), [
    ("postgresql://u:S3cr3t%zz@h/db", "S3cr3t%zz"),
    ("postgresql://u:S3cr3t%@h/db", "S3cr3t%"),
    ("postgresql://u:pa/ss@h:5432/db", "pa/ss"),
    ("postgresql://u:p@ss@h/db", "p@ss"),
    ("u:pass@h/db", "pass"),
    ("postgresql://u:a?b#c@h/db", "a?b#c"),
    ("postgresql://u@h/db", None),
    ("postgresql://h:5432/db", None),
    ("host=h password=x", None),
])
def test_the_password_is_read_from_the_raw_string(url, written):
    assert url_password(url) == written


def test_libpq_quoting_a_bad_token_is_scrubbed():
    redactor = Redactor.of(["postgresql://u:S3cr3t%zz@h/db"], environ={"PGPASSWORD": "fromenv-99"})
    assert redactor.text('invalid percent-encoded token: "S3cr3t%zz"; fromenv-99') == \
        'invalid percent-encoded token: "***"; ***'


def test_the_mask_never_spells_a_password():
    redactor = Redactor.of(["postgresql://u:%2A%2A%2A%2A%2A%2A@h/db"], environ={})  # "******"
    assert "******" not in redactor.text("password ****** and *******")


@settings(max_examples=300, deadline=None)
@given(PASSWORDS, st.sampled_from(range(6)))
def test_no_password_survives_redaction_or_display(password, form):
    url = url_forms(password)[form]
    redactor = Redactor.of([url], environ={})
    libpq_said = f'invalid percent-encoded token: "{password}"; connection to {url} failed for {password!s}'
    for text in (libpq_said, redactor.text(libpq_said), display_url(url), Target(url, "DATABASE_URL").display):
        scrubbed = redactor.text(text)
        assert password not in scrubbed and quote(password, safe="") not in scrubbed


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://u:pw@/db?host=/tmp/sock", "postgresql://u@/db?host=/tmp/sock"),
    ("postgresql://u@%2Ftmp%2Fsock/db", "postgresql://u@/db?host=/tmp/sock"),
    ("postgresql://u@/db?host=/tmp/sock&port=5433", "postgresql://u@/db?host=/tmp/sock&port=5433"),
    ("host=/var/run/postgresql dbname=app user=me password=x", "postgresql://me@/app?host=/var/run/postgresql"),
    ("postgresql://u:pw@db.example.com:6432/app?sslmode=require", "postgresql://u@db.example.com:6432/app?sslmode=require"),
    ("postgresql://u@[::1]:5433/app", "postgresql://u@[::1]:5433/app"),
])
def test_a_unix_socket_url_is_shown_in_a_form_psql_accepts(url, shown):
    from psycopg import conninfo
    assert display_url(url) == shown
    expected = {k: v for k, v in conninfo.conninfo_to_dict(url).items() if k != "password"}
    assert conninfo.conninfo_to_dict(shown) == expected  # the same connection, as libpq reads it


@pytest.mark.parametrize("url", ["postgresql://u:S3cr3t%zz@h/db", "postgresql://u:pa/ss@h/db",
                                 "postgresql://u:p@ss@h/db", "u:hunter2x@h/db"])
def test_a_string_libpq_would_misread_is_refused_before_connecting_without_quoting_it(url):
    with pytest.raises(ConfigError) as caught:
        check_connection_string(Target(url, "DATABASE_URL"))
    text = caught.value.message + (caught.value.help or "")
    assert "DATABASE_URL" in caught.value.message and url_password(url) not in text


def test_the_libpq_environment_is_shown_as_a_url_too(monkeypatch):
    for name, value in {"PGHOST": "/run/postgresql", "PGPORT": "5433", "PGUSER": "me", "PGDATABASE": "app",
                        "PGPASSWORD": "never-shown"}.items():
        monkeypatch.setenv(name, value)
    shown = Target("", "libpq environment (PG* variables)").display
    assert shown == "postgresql://me@/app?host=/run/postgresql&port=5433 (from libpq environment (PG* variables))"

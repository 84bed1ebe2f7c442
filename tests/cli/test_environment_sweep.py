"""Every CLI command through every failure of its environment: a clear message and exit 2, never a traceback.

The commands come from the CLI's own parser, so a new command is driven too (it must be given arguments in
ARGUMENTS, or a reason in NOT_DRIVEN). The failures: a database that cannot be reached, a read-only
database, a migrations folder that cannot be read (by a non-root user: root reads everything), and a
migrations folder that does not exist.
"""

from __future__ import annotations

import contextlib
import io
import os
import pwd
import shutil
import socket
import tempfile
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from engine.database.db import stop_embedded
from tests.conftest import url_for_database
import importlib

cli = importlib.import_module("server.cli.main")  # `server.cli.main` as an attribute is the function

APPLIED = "2025-01-01_1000_create_accounts"
PENDING = "2025-01-02_1000_add_email"
FILES = {
    APPLIED: "CREATE TABLE accounts (id bigint PRIMARY KEY);\n\n-- ROLLBACK:\n-- DROP TABLE accounts;\n",
    PENDING: "ALTER TABLE accounts ADD COLUMN email text;\n\n-- ROLLBACK:\n-- ALTER TABLE accounts DROP COLUMN email;\n",
}

# How each command is driven, and what it uses: "db" (reads the database), "writes" (changes it), "folder".
ARGUMENTS: dict[str, tuple[list[str], set[str]]] = {
    "migrate": (["migrate"], {"db", "writes", "folder"}),
    "list": (["list"], {"db", "folder"}),
    "rollback": (["rollback", "--yes"], {"db", "writes", "folder"}),
    "mark": (["mark", PENDING, "--applied", "--yes"], {"db", "writes", "folder"}),
    "repair": (["repair", "--yes"], {"db", "writes", "folder"}),
    "check": (["check"], {"folder"}),
    "verify": (["verify", PENDING], {"folder"}),  # a scratch database: the embedded one when the server is away
    "snapshot": (["snapshot", "--stdout"], {"db"}),
    "backup": (["backup"], {"db"}),
    "history": (["history", "accounts"], {"folder"}),
    "drift": (["drift"], {"db", "folder"}),
    "trace": (["trace", PENDING], {"folder"}),  # the shadow: on the embedded server, whatever the user's does
    "new": (["new", "add phone"], {"folder"}),
    "rules": (["rules"], set()),
    "init": (["init", "--dry-run"], set()),
    "embedded": (["embedded", "status"], set()),
    "editor": (["editor", "install"], set()),
}
NOT_DRIVEN = {
    "lsp": "a server on stdio: environment failures become diagnostics (tests/lsp)",
    "mcp": "a server on stdio: environment failures become tool errors (tests/mcp)",
    "watch": "runs until interrupted; it reports each failure and keeps watching (tests/cli/test_cli_processes.py)",
    "hook": "answers an editor's hook from stdin; touches neither the database nor the folder",
}


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def _run(argv: list[str]) -> Outcome:
    """`pgshift ARGV` in this process; an exception escaping main() is what a user sees as a traceback."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 2
        except BaseException:
            err.write(traceback.format_exc())
            code = -1
    return Outcome(code, out.getvalue(), err.getvalue())


def _project(root: Path, *, folder: bool = True) -> Path:
    root.mkdir()
    root.chmod(0o777)
    if folder:
        (root / "migrations").mkdir()
        for version, text in FILES.items():
            (root / "migrations" / f"{version}.sql").write_text(text)
    return root


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql://nobody@127.0.0.1:{port}/nothing"


@contextlib.contextmanager
def _as_user(name: str):
    """Run as a non-root user for a moment (root reads any folder, whatever its mode)."""
    uid = pwd.getpwnam(name).pw_uid
    os.seteuid(uid)
    try:
        yield
    finally:
        os.seteuid(0)


@pytest.fixture
def open_folder():
    """A folder other users can reach (pytest's own tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="pgshift-sweep-"))
    folder.chmod(0o755)
    yield folder
    for path in folder.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def writable_url(server_url):
    """A second database, left writable, for the folder failures (the first one is made read-only)."""
    name = "t_rw_" + uuid.uuid4().hex[:10]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url_for_database(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_every_command_meets_every_environment_failure_with_a_clear_message_and_no_traceback(open_folder,
                                                                                            database_url,
                                                                                            writable_url):
    tmp_path = open_folder
    commands = {module.NAME for module in cli.discover_commands()}
    assert commands == set(ARGUMENTS) | set(NOT_DRIVEN), "give the new command arguments here, or a reason"
    with psycopg.connect(database_url, autocommit=True) as conn:  # the read-only database has history
        conn.execute("CREATE TABLE accounts (id bigint PRIMARY KEY)")
    seeded = _project(tmp_path / "seed")
    assert _run(["mark", APPLIED, "--applied", "--yes", "-C", str(seeded), "--database-url", database_url]).code == 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{conn.info.dbname}" SET default_transaction_read_only = on')

    unreachable = _closed_port_url()
    failures = []
    for name, (argv, uses) in sorted(ARGUMENTS.items()):
        cases = {  # the database URL, whether the folder exists, as whom, the part that fails, what must be said
            "unreachable database": (unreachable, True, None, "db", ["cannot connect to"]),
            "read-only database": (database_url, True, None, "writes", ["database is read-only"]),
            "unreadable folder": (writable_url, True, "nobody", "folder", ["/migrations", "Permission denied"]),
            "missing folder": (writable_url, False, None, "folder", ["migrations"]),
        }
        for case, (url, folder, user, part, words) in cases.items():
            root = _project(tmp_path / f"{name}-{case.replace(' ', '-')}", folder=folder)
            if user:
                (root / "migrations").chmod(0)
            with _as_user(user) if user else contextlib.nullcontext():
                outcome = _run([*argv, "-C", str(root), "--database-url", url])
            stop_embedded(root / ".pgshift")  # verify, trace and drift may have started one for their scratch work
            problems = []
            said = outcome.err + outcome.out
            if "Traceback" in outcome.err or outcome.code == -1:
                problems.append("a traceback")
            if part in uses and case == "missing folder":  # said, whatever the command then makes of it
                if not all(w in said for w in words):
                    problems.append(f"exit {outcome.code} without naming the missing folder")
            elif part in uses:
                if outcome.code != 2:
                    problems.append(f"exit {outcome.code}, not 2")
                problems.extend(f"no {w!r} in stderr" for w in words if w not in outcome.err)
            elif case == "read-only database" and "db" in uses:  # reading works on a read-only database
                if outcome.code != 0:
                    problems.append(f"exit {outcome.code}, not 0: it only reads")
            elif outcome.code not in (0, 1, 2):  # it does not need what failed; as a non-root user it may
                problems.append(f"exit {outcome.code}")  # not reach the test server's socket either
            if problems:
                failures.append(f"{name} / {case}: {', '.join(problems)}\n{outcome.err[-800:]}")
    assert not failures, "\n\n".join(failures)

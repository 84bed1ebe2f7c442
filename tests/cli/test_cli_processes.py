"""`pgshift` as a separate process: the embedded default database, and `watch` stopped with Ctrl-C."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

PGSHIFT = str(Path(sys.executable).with_name("pgshift"))
CREATE = "CREATE TABLE accounts (id bigint PRIMARY KEY);\n\n-- ROLLBACK:\n-- DROP TABLE accounts;\n"


def clean_env() -> dict[str, str]:
    """The environment of a fresh machine: no DATABASE_URL, no PG* variables."""
    return {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("PG")}


def test_with_nothing_configured_the_embedded_database_is_used_and_announced(tmp_path):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "2025-01-01_1000_create_accounts.sql").write_text(CREATE)
    try:
        done = subprocess.run([PGSHIFT, "migrate"], cwd=tmp_path, env=clean_env(), capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        assert "embedded development database" in done.stderr and ".pgshift" in done.stderr
        assert "2025-01-01_1000_create_accounts" in done.stdout
        assert (tmp_path / ".pgshift" / "pgdata" / "PG_VERSION").read_text().strip() == "18"
        assert (tmp_path / ".pgshift" / ".gitignore").exists()
        listed = subprocess.run([PGSHIFT, "list"], cwd=tmp_path, env=clean_env(), capture_output=True, text=True,
                                timeout=60)
        assert listed.stdout.startswith("applied")
        verified = subprocess.run([PGSHIFT, "verify", "2025-01-01_1000_create_accounts"], cwd=tmp_path,
                                  env=clean_env(), capture_output=True, text=True, timeout=120)
        assert verified.returncode == 0, verified.stderr
        assert "embedded development database" in verified.stderr
        assert "because no database is configured" in verified.stderr
    finally:
        subprocess.run([PGSHIFT, "embedded", "stop"], cwd=tmp_path, env=clean_env(), capture_output=True, timeout=60)


def test_watch_applies_saved_migrations_and_stops_cleanly_on_ctrl_c(tmp_path, database_url):
    (tmp_path / "migrations").mkdir()
    process = subprocess.Popen([PGSHIFT, "--database-url", database_url, "watch", "--no-snapshot"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=clean_env())
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()

    def wait_for(text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} not printed; got: {''.join(seen)}")

    try:
        wait_for("watching")
        wait_for("up to date")
        (tmp_path / "migrations" / "2025-01-01_1000_create_accounts.sql").write_text(CREATE)
        wait_for("applying 2025-01-01_1000_create_accounts")
        wait_for("applied in")
        process.send_signal(signal.SIGINT)
        wait_for("stopped watching")
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def run_with_terminal(args: list[str], cwd: Path, answer: str) -> tuple[int, str]:
    """Run pgshift with a real terminal on stdin (a pty), type `answer`, return exit code and stderr."""
    import pty
    controller, terminal = pty.openpty()
    process = subprocess.Popen([PGSHIFT, *args], cwd=cwd, stdin=terminal, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=clean_env())
    os.close(terminal)
    os.write(controller, answer.encode() + b"\n")
    out, err = process.communicate(timeout=60)
    os.close(controller)
    return process.returncode, err


def test_rollback_on_a_terminal_defaults_to_no_and_runs_on_yes(tmp_path, database_url):
    import psycopg
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "2025-01-01_1000_create_accounts.sql").write_text(CREATE)
    base = ["--database-url", database_url]
    assert subprocess.run([PGSHIFT, *base, "migrate"], cwd=tmp_path, env=clean_env(), capture_output=True,
                          timeout=60).returncode == 0
    code, err = run_with_terminal([*base, "rollback"], tmp_path, "")  # just Enter
    assert code == 1 and "[y/N]" in err and "cancelled" in err
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('accounts')").fetchone()[0] is not None
    code, err = run_with_terminal([*base, "rollback"], tmp_path, "y")
    assert code == 0, err
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('accounts')").fetchone()[0] is None

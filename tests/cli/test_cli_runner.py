"""The `pgshift` command as a user runs it: output, file:line:col errors, exit codes, confirmation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from server.cli import main

CREATE = "CREATE TABLE accounts (id bigint PRIMARY KEY);\n\n-- ROLLBACK:\n-- DROP TABLE accounts;\n"


@pytest.fixture
def cli(tmp_path: Path, database_url: str, capsys):
    (tmp_path / "migrations").mkdir()

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["-C", str(tmp_path), "--database-url", database_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    run.root = tmp_path
    return run


def test_new_migrate_list_round_trip(cli):
    code, out, _ = cli("new", "Add Accounts!", "--sql", "CREATE TABLE accounts (id bigint PRIMARY KEY)")
    assert code == 0 and "created migrations/" in out and out.strip().endswith("_add_accounts.sql")
    path = next((cli.root / "migrations").glob("*_add_accounts.sql"))
    code, out, err = cli("migrate")
    assert code == 0 and "applied" in out and path.stem in out
    code, out, _ = cli("list")
    assert code == 0 and out.startswith("applied") and path.stem in out
    code, out, _ = cli("--json", "list")
    data = json.loads(out)
    assert data["migrations"][0]["state"] == "applied" and data["migrations"][0]["version"] == path.stem


def test_list_exit_code_for_ci_gates(cli):
    (cli.root / "migrations" / "2025-01-01_1000_create_accounts.sql").write_text(CREATE)
    assert cli("list", "--exit-code")[0] == 1
    cli("migrate")
    assert cli("list", "--exit-code")[0] == 0


def test_failed_migration_prints_file_line_col_and_exits_1(cli):
    (cli.root / "migrations" / "2025-01-01_1000_broken.sql").write_text(
        "CREATE TABLE a (id int);\nSELECT no_such_column FROM a;\n")
    code, _, err = cli("migrate")
    assert code == 1
    assert "migrations/2025-01-01_1000_broken.sql:2:8: error[migration-failed]:" in err
    assert 'column "no_such_column" does not exist' in err
    assert "help: fix the SQL" in err


def test_rollback_without_terminal_refuses_and_changes_nothing(cli, database_url):
    (cli.root / "migrations" / "2025-01-01_1000_create_accounts.sql").write_text(CREATE)
    cli("migrate")
    code, _, err = cli("rollback")
    assert code == 1 and "error[confirmation-required]" in err and "--yes" in err
    assert "DROP TABLE accounts;" in err  # the plan was shown before asking
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('accounts')").fetchone()[0] is not None
    code, out, _ = cli("rollback", "--yes")
    assert code == 0 and "rolled back 2025-01-01_1000_create_accounts" in out
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('accounts')").fetchone()[0] is None


def test_rollback_list_shows_availability(cli):
    (cli.root / "migrations" / "2025-01-01_1000_create_accounts.sql").write_text(CREATE)
    (cli.root / "migrations" / "2025-01-02_1000_no_rollback.sql").write_text("CREATE TABLE b (id int);\n")
    cli("migrate")
    code, out, _ = cli("rollback", "--list")
    lines = out.splitlines()
    assert code == 0
    assert "2025-01-02_1000_no_rollback" in lines[0] and "NO rollback SQL" in lines[0]
    assert "2025-01-01_1000_create_accounts" in lines[1] and "can roll back" in lines[1]


def test_repair_accepts_a_reviewed_checksum(cli):
    path = cli.root / "migrations" / "2025-01-01_1000_create_accounts.sql"
    path.write_text(CREATE)
    cli("migrate")
    path.write_text("-- reviewed: comment added\n" + CREATE)
    code, _, err = cli("migrate")
    assert code == 1 and "error[applied-file-changed]" in err
    assert cli("repair")[0] == 1  # no terminal, no --yes: refused
    code, out, _ = cli("repair", "--yes")
    assert code == 0 and "accept-checksum" in out
    assert cli("migrate")[0] == 0


def test_mark_adopts_an_existing_database(cli, database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE accounts (id bigint PRIMARY KEY)")
    (cli.root / "migrations" / "2025-01-01_1000_create_accounts.sql").write_text(CREATE)
    code, out, _ = cli("mark", "2025-01-01_1000_create_accounts", "--applied", "--yes")
    assert code == 0
    code, out, _ = cli("list")
    assert out.startswith("applied")
    assert cli("migrate")[0] == 0


def test_unreachable_database_exits_2_without_the_password(tmp_path, capsys):
    (tmp_path / "migrations").mkdir()
    code = main(["-C", str(tmp_path), "--database-url", "postgresql://app:s3cret@127.0.0.1:1/app", "list"])
    err = capsys.readouterr().err
    assert code == 2 and "error[database-unavailable]" in err and "127.0.0.1:1" in err
    assert "s3cret" not in err


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["rollback", "--steps", "many"])
    assert caught.value.code == 2
    assert "invalid int value" in capsys.readouterr().err


def test_installed_command_runs(tmp_path):
    """The console script is wired: `pgshift --help` from the environment's bin folder."""
    exe = Path(sys.executable).with_name("pgshift")
    done = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "migrate" in done.stdout and "rollback" in done.stdout


def test_migrate_backup_dumps_before_applying(cli):
    (cli.root / "migrations" / "2025-01-01_1000_create_accounts.sql").write_text(CREATE)
    cli("migrate")
    (cli.root / "migrations" / "2025-01-02_1000_add_email.sql").write_text(
        "ALTER TABLE accounts ADD COLUMN email text;\n-- ROLLBACK:\n-- ALTER TABLE accounts DROP COLUMN email;\n")
    code, out, _ = cli("migrate", "--backup")
    assert code == 0 and "backup written to" in out
    [dump] = list((cli.root / "backups").glob("*.sql"))
    text = dump.read_text()
    assert "CREATE TABLE public.accounts" in text and "email" not in text  # taken before the new migration


def test_migrate_json_is_one_document(cli):
    (cli.root / "migrations" / "2025-01-01_1000_create_accounts.sql").write_text(CREATE)
    code, out, _ = cli("--json", "migrate", "--dry-run")
    data = json.loads(out)
    assert code == 0 and data["dry_run"] is True
    assert [a["version"] for a in data["applied"]] == ["2025-01-01_1000_create_accounts"]
    assert data["applied"][0]["path"] == "migrations/2025-01-01_1000_create_accounts.sql"


def test_missing_folder_and_missing_file_are_explained(cli):
    (cli.root / "migrations" / "2025-01-01_1000_create_accounts.sql").write_text(CREATE)
    cli("migrate")
    (cli.root / "migrations" / "2025-01-01_1000_create_accounts.sql").unlink()
    (cli.root / "migrations").rmdir()
    code, _, err = cli("migrate")
    assert code == 1
    assert "there is no migrations folder at" in err
    # a problem without a file has no file:line:col in front of it
    assert "\nerror[applied-file-missing]: 2025-01-01_1000_create_accounts is applied but its file is missing" in err


def test_global_options_work_after_the_command_name(cli, database_url, capsys):
    (cli.root / "migrations" / "2025-01-01_1000_create_accounts.sql").write_text(CREATE)
    code = main(["migrate", "-C", str(cli.root), "--database-url", database_url])
    assert code == 0 and "applied" in capsys.readouterr().out
    code, out, _ = cli("list", "--json")
    assert json.loads(out)["migrations"][0]["state"] == "applied"


def test_new_with_sql_shows_what_check_will_say(cli):
    code, out, err = cli("new", "broken", "--sql", "SELEC 1")
    assert code == 0 and "created migrations/" in out
    assert "_broken.sql:2:1: error[syntax-error]" in err


def test_new_transliterates_accented_letters_in_the_name(cli):
    code, out, _ = cli("new", "café über Straße")
    assert code == 0 and out.strip().endswith("_cafe_uber_strasse.sql")
    assert [p.name[16:] for p in (cli.root / "migrations").glob("*.sql")] == ["cafe_uber_strasse.sql"]

"""`pgshift check`: file:line:col output with help lines, exit codes, --fail-on, json and github formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.cli.main import main


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "2024-01-01_1200_orders.sql").write_text(
        "CREATE TABLE orders (id bigint PRIMARY KEY);\n-- ROLLBACK:\n-- DROP TABLE orders;\n", encoding="utf-8")
    return tmp_path


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / "migrations" / name
    path.write_text(text, encoding="utf-8")
    return path


def test_clean_project_exits_0_with_a_summary(folder, capsys):
    assert main(["-C", str(folder), "check"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "checked 1 file: no problems found" and err == ""


def test_warnings_exit_0_unless_fail_on_warning(folder, capsys):
    write(folder, "2024-01-02_1200_index.sql", "CREATE INDEX orders_idx ON orders (id);\n-- ROLLBACK:\n-- DROP INDEX orders_idx;\n")
    assert main(["-C", str(folder), "check"]) == 0
    out, err = capsys.readouterr()
    assert err == ("migrations/2024-01-02_1200_index.sql:1:1: warning[require-concurrent-index-creation]: building "
                   "this index blocks all writes to 'orders' until it is done\n"
                   "  help: use CREATE INDEX CONCURRENTLY in a migration of its own with '-- pgshift: no-transaction'\n")
    assert out.strip() == "checked 2 files: 1 warning"
    assert main(["-C", str(folder), "check", "--fail-on", "warning"]) == 1


def test_errors_exit_1_and_name_the_place(folder, capsys):
    write(folder, "2024-01-02_1200_broken.sql", "-- ünïcode\nALTER TABLE orders ADD COLUMN x int DEFALT 1;\n")
    assert main(["-C", str(folder), "check"]) == 1
    err = capsys.readouterr().err
    assert 'migrations/2024-01-02_1200_broken.sql:2:37: error[syntax-error]: PostgreSQL will reject this migration: ' \
           'syntax error at or near "DEFALT"' in err


def test_paths_limit_the_check(folder, capsys):
    write(folder, "2024-01-02_1200_broken.sql", "SELEC 1;\n")
    assert main(["-C", str(folder), "check", "migrations/2024-01-01_1200_orders.sql"]) == 0
    assert "checked 1 file" in capsys.readouterr().out


def test_missing_path_is_a_usage_error(folder, capsys):
    assert main(["-C", str(folder), "check", "nope.sql"]) == 2
    assert "error[usage]" in capsys.readouterr().err


def test_json_output(folder, capsys):
    write(folder, "2024-01-02_1200_drop.sql", "DROP TABLE orders;\n-- ROLLBACK:\n-- CREATE TABLE orders (id bigint);\n")
    assert main(["-C", str(folder), "check", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["files_checked"] == 2 and data["counts"]["warning"] == 1
    [finding] = data["findings"]
    assert (finding["code"], finding["path"], finding["line"], finding["column"]) == \
           ("ban-drop-table", "migrations/2024-01-02_1200_drop.sql", 1, 1)


def test_global_json_flag_works_too(folder, capsys):
    assert main(["-C", str(folder), "--json", "check"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_github_annotations(folder, capsys):
    write(folder, "2024-01-02_1200_vacuum.sql", "VACUUM orders;\n-- ROLLBACK:\n-- SELECT 1;\n")
    assert main(["-C", str(folder), "check", "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("::error file=migrations/2024-01-02_1200_vacuum.sql,line=1,col=1,endLine=1,"
                               "title=ban-non-transactional-statement-in-transaction::VACUUM cannot run inside")
    assert "%0Aadd '-- pgshift: no-transaction'" in lines[0]
    assert lines[-1] == "checked 2 files: 1 error"


def test_project_rule_settings_apply(folder, capsys):
    (folder / "pgshift.toml").write_text('[rules]\nban-drop-table = "error"\n', encoding="utf-8")
    write(folder, "2024-01-02_1200_drop.sql", "DROP TABLE orders;\n-- ROLLBACK:\n-- SELECT 1;\n")
    assert main(["-C", str(folder), "check"]) == 1
    assert "error[ban-drop-table]" in capsys.readouterr().err


def test_server_package_never_imports_pglast_or_psycopg():
    import ast
    root = Path(__file__).resolve().parents[2] / "server" / "cli" / "commands" / "check.py"
    tree = ast.parse(root.read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
               {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m and m.split(".")[0] in ("pglast", "psycopg")}

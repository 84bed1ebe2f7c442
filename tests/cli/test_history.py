"""`pgshift history NAME`: every migration that names a table, in order, with what it does there."""

from __future__ import annotations

import json
from pathlib import Path

from server.cli.main import main


def write(folder: Path, name: str, text: str) -> None:
    (folder / "migrations").mkdir(exist_ok=True)
    (folder / "migrations" / name).write_text(text, encoding="utf-8")


def test_history_of_a_table_in_order_with_file_line_col(tmp_path, capsys):
    write(tmp_path, "2025-03-01_1000_create.sql", "CREATE TABLE orders (id int);\n-- ROLLBACK:\n-- DROP TABLE orders;\n")
    write(tmp_path, "2025-03-02_1000_note.sql", "ALTER TABLE public.orders ADD COLUMN note text;\n")
    write(tmp_path, "2025-03-03_1000_other.sql", "CREATE TABLE items (id int);\n")
    assert main(["-C", str(tmp_path), "history", "Orders"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines[:3]] == [
        ["2025-03-01_1000_create", "creates", "migrations/2025-03-01_1000_create.sql:1:14"],
        ["2025-03-01_1000_create", "drops", "migrations/2025-03-01_1000_create.sql:3:15", "(rollback)"],
        ["2025-03-02_1000_note", "alters", "migrations/2025-03-02_1000_note.sql:1:13"]]
    assert lines[-1] == "public.orders: named in 2 migrations"
    assert main(["-C", str(tmp_path), "--json", "history", "items"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(r["version"], r["role"]) for r in data["references"]] == [("2025-03-03_1000_other", "creates")]


def test_a_name_that_is_not_one_is_a_usage_error(tmp_path, capsys):
    assert main(["-C", str(tmp_path), "history", "a.b.c"]) == 2
    assert "is not a table name" in capsys.readouterr().err

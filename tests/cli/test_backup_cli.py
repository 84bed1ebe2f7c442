"""`pgshift backup`: writes the dump, says where, `--json` gives path and size; failures exit non-zero."""

from __future__ import annotations

import json

from server.cli.main import main


def _cli(project, *args: str) -> int:
    return main(["-C", str(project.project_root), "--database-url", project.database_url, *args])


def test_backup_writes_the_file_and_says_where(project, capsys):
    assert _cli(project, "backup", "--output", "dump.sql") == 0
    out = capsys.readouterr().out
    assert out.startswith("Wrote dump.sql (")
    assert "-- PostgreSQL database dump" in (project.project_root / "dump.sql").read_text(encoding="utf-8")


def test_backup_json(project, capsys):
    assert _cli(project, "backup", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["path"].startswith("backups/") and data["bytes"] > 0


def test_backup_of_an_unreachable_database_exits_2_without_the_password(tmp_path, capsys):
    assert main(["-C", str(tmp_path), "--database-url", "postgresql://u:hunter2@127.0.0.1:1/x", "backup"]) == 2
    err = capsys.readouterr().err
    assert "error[database-unavailable]" in err and "hunter2" not in err

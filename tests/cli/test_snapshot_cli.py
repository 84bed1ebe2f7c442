"""`pgshift snapshot`: writes DATABASE.md, `--check` fails when it is stale, `--json` is one document."""

from __future__ import annotations

import json

import psycopg

from server.cli.main import main


def _cli(project, *args: str) -> int:
    return main(["-C", str(project.project_root), "--database-url", project.database_url, *args])


def test_snapshot_writes_database_md(project, capsys):
    with psycopg.connect(project.database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.things (id bigint PRIMARY KEY)")
    assert _cli(project, "snapshot") == 0
    assert capsys.readouterr().out == "Wrote DATABASE.md\n"
    assert "### Table `public.things`" in (project.project_root / "DATABASE.md").read_text(encoding="utf-8")

    assert _cli(project, "snapshot", "--check") == 0
    assert capsys.readouterr().out == "DATABASE.md is up to date\n"


def test_check_fails_when_the_schema_moved_on(project, capsys):
    assert _cli(project, "snapshot") == 0
    with psycopg.connect(project.database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.later (id int)")
    capsys.readouterr()
    assert _cli(project, "snapshot", "--check") == 1
    assert "DATABASE.md is out of date" in capsys.readouterr().err
    assert "later" not in (project.project_root / "DATABASE.md").read_text(encoding="utf-8")


def test_json_output(project, capsys):
    assert _cli(project, "snapshot", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {"ok": True, "path": "DATABASE.md", "changed": True, "written": True}


def test_unreachable_database_exits_2(tmp_path, capsys):
    code = main(["-C", str(tmp_path), "--database-url", "postgresql://u:secret@127.0.0.1:1/x", "snapshot"])
    assert code == 2
    err = capsys.readouterr().err
    assert "error[database-unavailable]" in err and "secret" not in err


def test_stdout_prints_the_markdown_and_writes_nothing(project, capsys):
    assert _cli(project, "snapshot", "--stdout") == 0
    assert capsys.readouterr().out.startswith("# Database schema\n")
    assert not (project.project_root / "DATABASE.md").exists()

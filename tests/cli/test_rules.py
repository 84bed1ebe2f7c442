"""`pgshift rules`: every rule with its level in this project, one rule explained, and unknown ids named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from engine.analysis.rules import all_rules
from server.cli.main import main

REPO = Path(__file__).resolve().parents[2]


def test_lists_every_rule_with_the_level_this_project_gives_it(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pgshift.rules]\nrequire-concurrent-index-creation = "error"\nban-cluster = "off"\n', encoding="utf-8")
    assert main(["-C", str(tmp_path), "rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    listed = {line.split()[1]: line for line in lines if line and not line.startswith(str(len(all_rules())))}
    assert set(listed) == set(all_rules())
    assert listed["require-concurrent-index-creation"].startswith("error")
    assert listed["require-concurrent-index-creation"].endswith("(default warning)")
    assert listed["ban-cluster"].startswith("off")
    assert listed["ban-drop-database"].startswith("error") and "default" not in listed["ban-drop-database"]


def test_explains_a_rule_with_its_examples(tmp_path, capsys):
    assert main(["-C", str(tmp_path), "rules", "require-concurrent-index-creation"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("### require-concurrent-index-creation")
    assert "Instead of:" in out and "CONCURRENTLY" in out


def test_an_unknown_rule_is_a_usage_error_that_suggests_the_closest(tmp_path, capsys):
    assert main(["-C", str(tmp_path), "rules", "ban-drop-databse"]) == 2
    assert "did you mean 'ban-drop-database'?" in capsys.readouterr().err


def test_json(tmp_path, capsys):
    assert main(["-C", str(tmp_path), "--json", "rules", "syntax-error"]) == 0
    [rule] = json.loads(capsys.readouterr().out)["rules"]
    assert (rule["id"], rule["default"], rule["level"]) == ("syntax-error", "error", "error")
    assert "PostgreSQL" in rule["documentation"]


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `pgshift rules | head -0`
    try:
        done = subprocess.run([sys.executable, "-m", "server", "-C", str(tmp_path), "rules"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, cwd=REPO, timeout=60)
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr

"""`check` does only the work its answer needs: a fix's edits are worked out when something reads them."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from engine.analysis.findings import DeferredFix, Edit, Fix, Span

ROOT = Path(__file__).resolve().parents[2]


def test_a_deferred_fix_is_made_once_when_first_read_and_replaces_like_a_fix():
    calls = []
    edit = Edit(Span.at(0, 0), "-- DROP TABLE t;\n")
    fix = DeferredFix("Fill in", make=lambda: calls.append(1) or (edit,))
    assert calls == []
    assert fix.edits == (edit,) and fix.edits == (edit,)
    assert calls == [1]
    changed = replace(fix, edits=(replace(edit, new_text="x"),))
    assert changed.title == "Fill in" and changed.edits[0].new_text == "x"
    assert isinstance(changed, Fix)


def test_checking_a_file_with_an_empty_rollback_does_not_infer_the_rollback(tmp_path):
    # Inferring a rollback parses the file into pglast's AST: a terminal `check` never shows that fix.
    path = tmp_path / "2024-01-01_0000_orders.sql"
    path.write_text("CREATE TABLE orders (id int);\n-- ROLLBACK:\n", encoding="utf-8")
    code = ("import sys; from engine.analysis.lint import check_migration; from engine.analysis.files import read_migration; "
            f"found = check_migration(read_migration(__import__('pathlib').Path({str(path)!r}))); "
            "print([f.code for f in found], 'engine.analysis.inference' in sys.modules, "
            "[e.new_text for f in found for e in f.fix.edits], 'engine.analysis.inference' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['empty-rollback'] False ['-- DROP TABLE orders;\\n'] True"

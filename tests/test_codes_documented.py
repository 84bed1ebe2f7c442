"""Every code pgshift can report is explained by `pgshift rules CODE`, the editor's hover, MCP's rule://CODE
and docs/rules.md: the codes are read from the source (tests/codes.py), not listed by hand.

The MCP resource is read for every code in tests/mcp/test_resources.py, and a real editor's hover on
findings that are not rules in tests/lsp/test_hover.py.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from engine.analysis.codes import END, START, code_docs, render_codes_markdown
from engine.config import load_settings
from engine.analysis.lint import documented_codes
from engine.analysis.rules import all_rules
from server.cli.main import main
from server.lsp.hover import hover_for
from tests.codes import REPO, emitted_codes

EMITTED = emitted_codes()
DOCS = REPO / "docs" / "rules.md"


def test_every_code_in_the_source_can_be_traced():
    """A code the scan cannot trace to literals could be one nobody documented: write it as a literal or constant."""
    assert EMITTED.untraced == []
    assert {"file-name", "rollback-not-commented", "migration-failed", "usage", "internal-error"} <= set(EMITTED.found)


def test_every_code_the_source_emits_is_documented():
    missing = {code: where for code, where in EMITTED.found.items() if code not in documented_codes()}
    assert missing == {}, "document these in engine/analysis/codes.py (FINDINGS or ERRORS): " + ", ".join(
        f"{code} ({where})" for code, where in sorted(missing.items()))


def test_nothing_is_documented_that_pgshift_never_reports():
    assert sorted(set(code_docs()) - set(EMITTED.found) - set(all_rules())) == []


@pytest.mark.parametrize("code", sorted(EMITTED.found))
def test_pgshift_rules_explains_each_code(code, tmp_path, capsys):
    assert main(["-C", str(tmp_path), "rules", code]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"### {code}\n") and len(out) > len(code) + 60


@pytest.mark.parametrize("code", sorted(EMITTED.found))
def test_hover_explains_each_code(code, tmp_path):
    shown = hover_for([code], load_settings(tmp_path, environ={}))
    assert shown is not None and shown.contents.value.startswith(f"### {code}\n")


def test_docs_rules_md_has_a_section_for_each_code_and_is_generated_from_the_catalog():
    text = DOCS.read_text(encoding="utf-8")
    headings = set(re.findall(r"^### ([a-z0-9-]+)$", text, re.MULTILINE))
    assert sorted(set(EMITTED.found) - headings) == []
    assert text[text.index(START):text.index(END) + len(END)] == render_codes_markdown(), (
        "docs/rules.md is out of date: run .venv/bin/python -c \"from pathlib import Path; "
        "from engine.analysis.codes import update_codes_doc; update_codes_doc(Path('docs/rules.md'))\"")


def test_the_scan_finds_codes_however_they_are_passed_and_names_the_ones_it_cannot_trace(tmp_path):
    """The scan itself can fail: a code hidden behind a parameter, a dict or a constant is still found."""
    (tmp_path / "emitter.py").write_text(textwrap.dedent('''
        NUL = "nul-byte"

        class OddError(Exception):
            code = "odd-error"

        def _place(code, message):
            return Finding(code, Severity.ERROR, message, None)

        def check(kind, text):
            yield _place("directory-named-like-a-migration", "a directory")
            yield Finding(NUL, Severity.ERROR, "a NUL byte", None)
            yield Finding({"a": "invalid-index"}[kind], Severity.ERROR, "an index", None)
            yield replace(text, code="copied-code")
            yield Finding(text.lower(), Severity.ERROR, "untraceable", None)
        '''), encoding="utf-8")
    codes = emitted_codes((tmp_path,))
    assert set(codes.found) == {"nul-byte", "odd-error", "directory-named-like-a-migration", "invalid-index",
                                "copied-code"}
    assert [entry.split(": ", 1)[1] for entry in codes.untraced] == ["text.lower()"]


def test_an_unknown_code_is_a_usage_error_naming_the_closest(tmp_path, capsys):
    assert main(["-C", str(tmp_path), "rules", "file-nme"]) == 2
    assert "did you mean 'file-name'?" in capsys.readouterr().err


def test_a_file_format_code_shows_the_level_this_project_gives_it(tmp_path, capsys):
    Path(tmp_path / "pyproject.toml").write_text('[tool.pgshift.rules]\nfile-name = "warning"\n', encoding="utf-8")
    assert main(["-C", str(tmp_path), "--json", "rules", "file-name"]) == 0
    import json
    [info] = json.loads(capsys.readouterr().out)["rules"]
    assert (info["id"], info["default"], info["level"]) == ("file-name", "error", "warning")

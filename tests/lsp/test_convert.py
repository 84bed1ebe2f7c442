"""The pure converters: engine columns (code points) to each LSP position encoding and back."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from engine.analysis.findings import Finding, Position, Severity, Span
from server.lsp.convert import (UTF8, UTF16, UTF32, engine_text, from_position, newline_of, to_diagnostic,
                                 to_position)

LINES = ["SELECT '😀é' AS x;"]


def test_columns_count_code_units_of_the_negotiated_encoding():
    after = Position(0, len("SELECT '😀é'"))
    assert to_position(after, LINES, UTF16).character == len("SELECT '") + 2 + 1 + 1
    assert to_position(after, LINES, UTF8).character == len("SELECT '") + 4 + 2 + 1
    assert to_position(after, LINES, UTF32).character == after.column


def test_positions_round_trip():
    for encoding in (UTF8, UTF16, UTF32):
        for column in range(len(LINES[0]) + 1):
            lsp = to_position(Position(0, column), LINES, encoding)
            assert from_position(lsp, LINES, encoding) == Position(0, column)


def test_a_finding_becomes_a_diagnostic_with_code_link_and_help():
    finding = Finding("ban-drop-column", Severity.WARNING, "dropping breaks readers", Path("m.sql"),
                      Span.at(0, 0, 0, 6), help="deploy code first")
    diagnostic = to_diagnostic(finding, LINES)
    assert diagnostic.severity == types.DiagnosticSeverity.Warning
    assert diagnostic.code == "ban-drop-column" and diagnostic.source == "pgshift"
    assert diagnostic.code_description.href == finding.docs_url
    assert diagnostic.message == "dropping breaks readers\nhelp: deploy code first"


def test_lone_carriage_returns_become_line_feeds_one_for_one():
    assert engine_text("a\rb\r\nc\nd\r") == "a\nb\r\nc\nd\n"  # CRLF stays: the engine already counts it
    assert len(engine_text("x\r" * 5)) == len("x\r" * 5)
    assert newline_of("a\rb\r") == "\r" and newline_of("a\r\nb") == "\n" and newline_of("ab") == "\n"

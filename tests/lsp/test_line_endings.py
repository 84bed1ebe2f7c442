"""Documents whose lines end in a lone `\\r` (classic Mac OS): positions, fixes and checksums as the editor
counts lines (LSP counts `\\n`, `\\r\\n` and `\\r` as line breaks)."""

from __future__ import annotations

from lsprotocol import types

from engine.database import runner
from engine.analysis.lint import check_text
from tests.lsp.conftest import (READING, change_document, codes, next_diagnostics, open_document, wait_for_diagnostics,
                                write)
from tests.lsp.test_code_actions import actions, apply_text_edits, edits_of

NAME = "2024-05-01_1200_create_accounts.sql"
CREATE = "CREATE TABLE accounts (id bigint PRIMARY KEY);\n-- ROLLBACK:\n-- DROP TABLE accounts;\n"


def apply_cr_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply edits as an editor does to a `\\r`-only text."""
    return apply_text_edits(text, edits, newline="\r")


async def test_findings_in_a_cr_only_document_are_on_the_lines_the_editor_shows(client, project_dir):
    text = "CREATE TABLE accounts (id bigint);\r-- ROLLBACK:\r-- DROP TABLE accounts;\rDROP TABLE accounts;\r"
    uri = open_document(client, write(project_dir, NAME, "SELECT 1;\n"), text)

    diagnostics = await wait_for_diagnostics(client, uri, lambda d: "rollback-not-commented" in codes(d))

    finding = next(d for d in diagnostics if d.code == "rollback-not-commented")
    assert finding.range == types.Range(start=types.Position(line=3, character=0),
                                        end=types.Position(line=3, character=len("DROP TABLE accounts;")))


async def test_a_fix_in_a_cr_only_document_lands_at_the_right_place_with_cr_line_breaks(client, project_dir):
    text = "-- accounts\rCREATE TABLE accounts (id bigint PRIMARY KEY);\r"
    uri = open_document(client, write(project_dir, NAME, "SELECT 1;\n"), text)
    await wait_for_diagnostics(client, uri, lambda d: "missing-rollback" in codes(d))

    add = next(a for a in await actions(client, uri) if "ROLLBACK" in a.title)

    edits = edits_of(add)
    assert edits[0].range.start == types.Position(line=2, character=0)
    fixed = apply_cr_edits(text, edits)
    assert "\n" not in fixed and fixed.startswith(text)
    assert "\r-- ROLLBACK:\r-- DROP TABLE accounts;" in fixed
    assert "missing-rollback" not in {f.code for f in check_text(project_dir / NAME, fixed.replace("\r", "\n"))}


async def test_an_applied_file_with_its_line_breaks_converted_to_cr_is_not_an_edit(client, project_dir, settings):
    path = write(project_dir, NAME, CREATE)
    runner.migrate(settings)
    uri = open_document(client, path, CREATE.replace("\n", "\r"))
    await wait_for_diagnostics(client, uri)
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    while lenses[0].command.title == READING:
        await wait_for_diagnostics(client, uri)  # the first database read may still be on its way: ask again
        lenses = await client.text_document_code_lens_async(types.CodeLensParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
    assert lenses[0].command.title.startswith("applied 20")

    change_document(client, uri, CREATE.replace("\n", "\r"), 2)  # analysed with the database state known
    assert "applied-file-changed" not in codes(await next_diagnostics(client, uri))

"""Pure converters between engine values (Python-character columns) and LSP types (negotiated encoding)."""

from __future__ import annotations

import re
from typing import Sequence

from lsprotocol import types

from engine.analysis.findings import Edit, Finding, Fix, Position, Severity, Span

UTF8, UTF16, UTF32 = (types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf16,
                      types.PositionEncodingKind.Utf32)
SOURCE = "pgshift"
_LONE_CR = re.compile(r"\r(?!\n)")


def engine_text(text: str) -> str:
    """The text with each lone `\\r` line break (classic Mac OS) written `\\n`.

    LSP counts `\\n`, `\\r\\n` and `\\r` as line breaks; the engine counts `\\n`. One character for one, so
    every offset and column stays valid and only the line numbers change, to the ones the editor shows. The
    checksum is the same either way: the engine normalises line endings before hashing.
    """
    return _LONE_CR.sub("\n", text) if "\r" in text else text


def newline_of(text: str) -> str:
    """The line break to write into the document: `\\r` in a classic Mac file, else `\\n` (as today)."""
    return "\r" if "\r" in text and "\n" not in text else "\n"


def split_lines(text: str) -> list[str]:
    """The document's lines as the engine counts them (a `\\r` before `\\n` stays at the end of its line)."""
    return text.split("\n")


def _units(text: str, encoding: str) -> int:
    if encoding == UTF32 or text.isascii():  # ASCII costs the same in every encoding: the common, fast case
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8"))
    return len(text.encode("utf-16-le")) // 2


def to_position(position: Position, lines: Sequence[str], encoding: str = UTF16) -> types.Position:
    """An engine position (column in code points) as an LSP position in the negotiated encoding."""
    if position.line >= len(lines):
        return types.Position(line=position.line, character=0)
    line = lines[position.line]
    return types.Position(line=position.line, character=_units(line[:position.column], encoding))


def to_range(span: Span, lines: Sequence[str], encoding: str = UTF16) -> types.Range:
    return types.Range(start=to_position(span.start, lines, encoding), end=to_position(span.end, lines, encoding))


def from_position(position: types.Position, lines: Sequence[str], encoding: str = UTF16) -> Position:
    """An LSP position back to an engine position; a column inside a surrogate pair or a UTF-8 sequence
    snaps to the character it falls in."""
    if position.line >= len(lines):
        return Position(position.line, 0)
    line = lines[position.line]
    if encoding == UTF32 or line.isascii():
        return Position(position.line, min(position.character, len(line)))
    used = 0
    for index, char in enumerate(line):
        if used >= position.character:
            return Position(position.line, index)
        used += _units(char, encoding)
    return Position(position.line, len(line))


def from_range(range_: types.Range, lines: Sequence[str], encoding: str = UTF16) -> Span:
    return Span(from_position(range_.start, lines, encoding), from_position(range_.end, lines, encoding))


def to_severity(severity: Severity) -> types.DiagnosticSeverity:
    return types.DiagnosticSeverity(int(severity))  # the engine's values were chosen to match LSP's


def to_diagnostic(finding: Finding, lines: Sequence[str], encoding: str = UTF16) -> types.Diagnostic:
    """One finding at its exact range; the remedy goes into the message because every editor shows that."""
    message = finding.message if not finding.help else f"{finding.message}\nhelp: {finding.help}"
    return types.Diagnostic(
        range=to_range(finding.span, lines, encoding),
        message=message,
        severity=to_severity(finding.severity),
        code=finding.code,
        code_description=types.CodeDescription(href=finding.docs_url),
        source=SOURCE,
    )


def to_text_edit(edit: Edit, lines: Sequence[str], encoding: str = UTF16) -> types.TextEdit:
    return types.TextEdit(range=to_range(edit.span, lines, encoding), new_text=edit.new_text)


def to_workspace_edit(uri: str, version: int | None, edits: Sequence[types.TextEdit], *,
                      document_changes: bool) -> types.WorkspaceEdit:
    """Text edits in one document, versioned where the client takes `documentChanges` (so a stale edit is
    refused instead of applied to the wrong text)."""
    if document_changes:
        return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
            edits=list(edits))])
    return types.WorkspaceEdit(changes={uri: list(edits)})


def to_code_action(fix: Fix, *, uri: str, version: int | None, lines: Sequence[str], encoding: str = UTF16,
                   diagnostics: Sequence[types.Diagnostic] = (), new_uri: str | None = None,
                   document_changes: bool = True, can_rename: bool = True,
                   preferred: bool = True) -> types.CodeAction:
    """A quick fix from an engine `Fix`.

    A rename becomes a RenameFile document change, so that the client renames the file and its buffer follows;
    a client that cannot rename files gets the `pgshift.renameFile` command instead, which renames on disk and
    opens the new file where it can. `can_rename` alone decides: RenameFile lives in documentChanges, which a
    client listing it among its resource operations takes whatever `document_changes` says.
    """
    if fix.rename_to is not None and new_uri is not None:
        if can_rename:
            edit = types.WorkspaceEdit(document_changes=[types.RenameFile(old_uri=uri, new_uri=new_uri)])
            return types.CodeAction(title=fix.title, kind=types.CodeActionKind.QuickFix,
                                    diagnostics=list(diagnostics) or None, edit=edit, is_preferred=preferred)
        return types.CodeAction(title=fix.title, kind=types.CodeActionKind.QuickFix,
                                diagnostics=list(diagnostics) or None, is_preferred=preferred,
                                command=types.Command(title=fix.title, command="pgshift.renameFile",
                                                      arguments=[uri, new_uri]))
    edits = [to_text_edit(e, lines, encoding) for e in fix.edits]
    return types.CodeAction(title=fix.title, kind=types.CodeActionKind.QuickFix,
                            diagnostics=list(diagnostics) or None, is_preferred=preferred,
                            edit=to_workspace_edit(uri, version, edits, document_changes=document_changes))

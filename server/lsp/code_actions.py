"""Code actions: each finding's fix, add a ROLLBACK block, suppress a rule on a statement, new migration."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from engine.analysis import scaffold
from engine.config import Settings
from engine.analysis.files import ROLLBACK_MARKER, parse_migration
from engine.analysis.findings import Edit, Finding, Fix, LineIndex, Position, Span
from server.lsp.convert import from_range, newline_of, split_lines, to_code_action, to_diagnostic
from server.lsp.project import path_to_uri

if TYPE_CHECKING:
    from server.lsp.server import PgshiftLanguageServer

NEW_MIGRATION_KIND = "source.pgshift.newMigration"
# Problems with the file or its history, not with one statement: an ignore comment cannot silence them.
NOT_SUPPRESSIBLE = frozenset({
    "file-name", "file-encoding", "file-unreadable", "rollback-not-commented", "syntax-error",
    "applied-file-changed", "applied-file-missing", "out-of-order", "migration-failed", "missing-rollback",
})
IGNORE_REASON = "<why this is safe here>"


@dataclass(frozen=True)
class Request:
    """Everything the pure action builder needs: no server, no I/O but the engine's own. `text` has its lines
    as the client counts them (`convert.engine_text`); `newline` is what inserted lines end with."""

    uri: str
    version: int | None
    path: Path
    text: str
    findings: tuple[Finding, ...]
    span: Span
    only: tuple[str, ...] | None
    encoding: str
    settings: Settings
    document_changes: bool
    can_rename: bool
    can_create: bool
    newline: str = "\n"


def _wanted(kind: str, only: tuple[str, ...] | None) -> bool:
    return only is None or any(kind == k or kind.startswith(k + ".") for k in only)


def _overlaps(a: Span, b: Span) -> bool:
    return a.start <= b.end and b.start <= a.end


def _in_document_newlines(fix: Fix, newline: str) -> Fix:
    """The fix with its inserted line breaks written the document's way (a classic Mac file keeps `\\r`)."""
    if newline == "\n":
        return fix
    return replace(fix, edits=tuple(replace(e, new_text=e.new_text.replace("\n", newline)) for e in fix.edits))


def build_actions(request: Request) -> list[types.CodeAction]:
    """The actions for one range of one document, most specific first."""
    lines = split_lines(request.text)
    actions: list[types.CodeAction] = []
    here = [f for f in request.findings if _overlaps(f.span, request.span)]
    if _wanted(types.CodeActionKind.QuickFix, request.only):
        for finding in here:
            diagnostic = to_diagnostic(finding, lines, request.encoding)
            if finding.fix is not None:
                new_uri = path_to_uri(finding.fix.rename_to) if finding.fix.rename_to else None
                actions.append(to_code_action(
                    _in_document_newlines(finding.fix, request.newline), uri=request.uri, version=request.version, lines=lines, encoding=request.encoding,
                    diagnostics=[diagnostic], new_uri=new_uri, document_changes=request.document_changes,
                    can_rename=request.can_rename))
        # lint's missing-rollback finding carries its own fix (surfaced above); offer ours only without it
        lint_fixes_rollback = any(f.code == "missing-rollback" and f.fix for f in request.findings)
        rollback = None if lint_fixes_rollback else add_rollback_fix(request.text, request.path)
        if rollback is not None:
            related = [to_diagnostic(f, lines, request.encoding) for f in here if f.code == "missing-rollback"]
            actions.append(to_code_action(_in_document_newlines(rollback, request.newline), uri=request.uri, version=request.version, lines=lines,
                                          encoding=request.encoding, diagnostics=related,
                                          document_changes=request.document_changes, preferred=bool(related)))
        for finding in here:
            if finding.code in NOT_SUPPRESSIBLE:
                continue
            fix = _in_document_newlines(suppress_fix(request.text, finding), request.newline)
            actions.append(to_code_action(fix, uri=request.uri, version=request.version, lines=lines,
                                          encoding=request.encoding,
                                          diagnostics=[to_diagnostic(finding, lines, request.encoding)],
                                          document_changes=request.document_changes, preferred=False))
    if _wanted(NEW_MIGRATION_KIND, request.only):
        actions.append(new_migration_action(request))
    return actions


def add_rollback_fix(text: str, path: Path) -> Fix | None:
    """Append a ROLLBACK block (the inferred inverse where the engine can infer one, else a TODO).

    None when the file already has rollback SQL, or has an empty block and nothing better to put in it.
    """
    migration = parse_migration(path, text)
    if migration.has_rollback:
        return None
    block = _rollback_block(migration.forward_sql)
    index = LineIndex(migration.text)
    if migration.marker_line is None:
        end = index.position(len(migration.text))
        lead = "" if migration.text.endswith("\n\n") else ("\n" if migration.text.endswith("\n") else "\n\n")
        title = "Add ROLLBACK block" + ("" if "TODO" in block else " (inferred)")
        return Fix(title, (Edit(Span(end, end), lead + block.rstrip("\n") + "\n"),))
    body = block.split("\n", 1)[1] if "\n" in block else ""
    if not body.strip() or "TODO" in body:
        return None
    at = Position(migration.marker_line + 1, 0)
    return Fix("Fill in the ROLLBACK block (inferred)", (Edit(Span(at, at), body.rstrip("\n") + "\n"),))


def _rollback_block(forward_sql: str) -> str:
    """`-- ROLLBACK:` and commented inverse SQL, from engine.analysis.inference."""
    from engine.analysis.inference import infer_rollback, rollback_block
    block = rollback_block(infer_rollback(forward_sql))
    if not block.lstrip().upper().startswith("-- ROLLBACK:"):
        block = f"{ROLLBACK_MARKER}\n{block}"
    return block if block.endswith("\n") else block + "\n"


def suppress_fix(text: str, finding: Finding) -> Fix:
    """`-- pgshift-ignore RULE: reason` on its own line just before the statement the finding is in."""
    lines = text.split("\n")
    line = _statement_start_line(text, finding)
    indent = re.match(r"[ \t]*", lines[line] if line < len(lines) else "").group(0)
    comment = f"{indent}-- pgshift-ignore {finding.code}: {IGNORE_REASON}\n"
    at = Position(line, 0)
    return Fix(f"Ignore {finding.code} for this statement", (Edit(Span(at, at), comment),))


def _statement_start_line(text: str, finding: Finding) -> int:
    """The line where the finding's statement begins (its first token), or the finding's own line."""
    from engine.analysis import sql as engine_sql

    migration_text = text[1:] if text.startswith("\ufeff") else text
    index = LineIndex(migration_text)
    offset = index.offset(finding.span.start)
    try:
        parsed = engine_sql.parse(migration_text[:_forward_end(migration_text)])
    except Exception:  # noqa: BLE001 - a parser hiccup only costs the precise placement
        return finding.span.start.line
    for statement in parsed.statements:
        if statement.start <= offset <= max(statement.end, statement.start):
            return index.position(statement.start).line
    return finding.span.start.line


def _forward_end(text: str) -> int:
    match = re.search(r"^[ \t]*--[ \t]*ROLLBACK:[ \t]*\r?$", text, re.IGNORECASE | re.MULTILINE)
    return match.start() if match else len(text)


def new_migration_action(request: Request) -> types.CodeAction:
    """A new timestamped file from the template, opened afterwards; `pgshift.new` where files can't be made."""
    title = "New migration"
    if request.can_create:
        made = scaffold.new_migration(request.settings, "new migration", write=False)
        uri = path_to_uri(made.path)
        edit = types.WorkspaceEdit(document_changes=[
            types.CreateFile(uri=uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=True)),
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                edits=[types.TextEdit(range=types.Range(start=types.Position(line=0, character=0),
                                                        end=types.Position(line=0, character=0)),
                                      new_text=made.text)]),
        ])
        return types.CodeAction(title=title, kind=NEW_MIGRATION_KIND, edit=edit,
                                command=types.Command(title="Open", command="pgshift.open", arguments=[uri]))
    return types.CodeAction(title=title, kind=NEW_MIGRATION_KIND,
                            command=types.Command(title=title, command="pgshift.new",
                                                  arguments=["new migration", None, {"uri": request.uri}]))


def register(ls: "PgshiftLanguageServer") -> None:
    kinds = [types.CodeActionKind.QuickFix, types.CodeActionKind.Source, NEW_MIGRATION_KIND]

    @ls.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=kinds))
    async def code_action(ls: "PgshiftLanguageServer", params: types.CodeActionParams) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        opened = await ls.open_migration(uri)
        if opened is None:
            return None
        path, text, version, settings = opened.path, opened.text, opened.version, opened.live.project.settings
        findings = await ls.diagnostics.findings_for(uri, opened)
        request = Request(
            uri=uri, version=version, path=path, text=text, findings=findings,
            span=from_range(params.range, split_lines(text), ls.encoding),
            only=tuple(params.context.only) if params.context.only else None, encoding=ls.encoding,
            settings=settings, document_changes=ls.supports_document_changes,
            can_rename=ls.supports_rename_file,
            can_create=ls.supports_resource_operation(types.ResourceOperationKind.Create),
            newline=newline_of(opened.source))
        return await asyncio.to_thread(build_actions, request)

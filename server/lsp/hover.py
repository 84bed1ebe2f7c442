"""Hover: a finding's documentation where it is, and on the rule ids of a `-- pgshift-ignore` comment."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Iterable

from lsprotocol import types

from engine.analysis.findings import Finding, Position
from server.lsp.convert import from_position, split_lines

if TYPE_CHECKING:
    from engine.config import Settings
    from server.lsp.server import PgshiftLanguageServer


def codes_at(at: Position, lines: list[str], findings: Iterable[Finding]) -> list[str]:
    """Pure: the rule ids of an ignore comment on this line, else of the findings whose range holds `at`."""
    from engine.analysis.lint import ignored_codes
    named = ignored_codes(lines[at.line]) if at.line < len(lines) else ()
    found = named or tuple(f.code for f in findings if f.span.start <= at <= f.span.end)
    return list(dict.fromkeys(found))


def hover_for(codes: list[str], settings: "Settings") -> types.Hover | None:
    """The documentation of the codes: rules and every other code pgshift reports (file-name, ...) alike."""
    from engine.analysis.lint import documented_codes, rule_catalog
    known = documented_codes()
    documented = [code for code in codes if code in known]
    if not documented:
        return None
    docs = "\n---\n\n".join(info.markdown for info in rule_catalog(settings, documented))
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=docs))


def register(ls: "PgshiftLanguageServer") -> None:
    @ls.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: "PgshiftLanguageServer", params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        opened = await ls.open_migration(uri)
        if opened is None:
            return None
        lines = split_lines(opened.text)
        at = from_position(params.position, lines, ls.encoding)
        findings = await ls.diagnostics.findings_for(uri, opened)
        settings = opened.live.project.settings
        return await asyncio.to_thread(lambda: hover_for(codes_at(at, lines, findings), settings))

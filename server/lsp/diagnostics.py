"""Diagnostics pushed on open, change, save and close: engine findings, throttled per document.

Throttling is leading-edge: an edit after a quiet spell is analysed at once (so a single keystroke gets
its answer in milliseconds), and edits arriving within DEBOUNCE_SECONDS of the last analysis are coalesced
into one more run on the latest text. A result for text that has changed since is never published.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from engine.config import Settings
from engine.findings import Finding
from server.lsp import analysis
from server.lsp.convert import split_lines, to_diagnostic
from server.lsp.project import uri_to_path

if TYPE_CHECKING:
    from server.lsp.server import PgshiftLanguageServer

log = logging.getLogger(__name__)
DEBOUNCE_SECONDS = 0.15


@dataclass(frozen=True)
class Analysed:
    """The findings for one version of one document, kept for code actions."""

    version: int | None
    text: str
    findings: tuple[Finding, ...]


@dataclass
class _Schedule:
    dirty: bool = False
    last_start: float = 0.0
    task: asyncio.Task | None = field(default=None, repr=False)


class DiagnosticsPublisher:
    """One per server: schedules analyses, publishes, and remembers the latest result per document."""

    def __init__(self, ls: "PgshiftLanguageServer") -> None:
        self.ls = ls
        self._schedules: dict[str, _Schedule] = {}
        self.latest: dict[str, Analysed] = {}

    def request(self, uri: str) -> None:
        """Analyse the document soon (now, if it has been quiet); safe to call on every keystroke."""
        schedule = self._schedules.setdefault(uri, _Schedule())
        schedule.dirty = True
        if schedule.task is None or schedule.task.done():
            schedule.task = asyncio.get_running_loop().create_task(self._run(uri, schedule))

    def request_all(self) -> None:
        for uri in self.ls.open_uris():
            self.request(uri)

    def close(self, uri: str) -> None:
        schedule = self._schedules.pop(uri, None)
        if schedule and schedule.task and not schedule.task.done():
            schedule.task.cancel()
        self.latest.pop(uri, None)
        self.ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    async def _run(self, uri: str, schedule: _Schedule) -> None:
        try:
            while schedule.dirty:
                wait = schedule.last_start + DEBOUNCE_SECONDS - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                schedule.dirty = False
                schedule.last_start = time.monotonic()
                await self._analyse_and_publish(uri, schedule)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed analysis must not end the server
            log.exception("analysis of %s failed", uri)

    async def _analyse_and_publish(self, uri: str, schedule: _Schedule) -> None:
        document = self.ls.document(uri)
        path = uri_to_path(uri)
        if document is None or not self.ls.project.is_migration(path):
            if self.latest.pop(uri, None) is not None:  # it was a migration (migrations_dir changed): withdraw
                self.ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
            return
        text, version = document.source, document.version
        encoding = self.ls.workspace.position_encoding or types.PositionEncodingKind.Utf16
        view = self.ls.database.view
        settings = self.ls.project.settings
        findings, diagnostics = await asyncio.to_thread(diagnose, path, text, settings, view, encoding)
        if schedule.dirty or self._schedules.get(uri) is not schedule:
            return  # newer text is waiting, or the document was closed: this result is stale
        self.latest[uri] = Analysed(version, text, tuple(findings))
        self.ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version))


def diagnose(path: Path, text: str, settings: Settings, view: analysis.DatabaseView | None,
             encoding: str) -> tuple[list[Finding], list[types.Diagnostic]]:
    """Findings and their diagnostics for one text (runs in a worker thread)."""
    findings = analysis.file_findings(path, text, settings) + analysis.database_findings(path, text, view)
    findings.sort(key=Finding.sort_key)
    lines = split_lines(text[1:] if text.startswith("\ufeff") else text)
    return findings, [to_diagnostic(f, lines, encoding) for f in findings]


def register(ls: "PgshiftLanguageServer") -> None:
    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: "PgshiftLanguageServer", params: types.DidOpenTextDocumentParams) -> None:
        ls.diagnostics.request(params.text_document.uri)

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: "PgshiftLanguageServer", params: types.DidChangeTextDocumentParams) -> None:
        ls.diagnostics.request(params.text_document.uri)

    @ls.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: "PgshiftLanguageServer", params: types.DidSaveTextDocumentParams) -> None:
        ls.diagnostics.request(params.text_document.uri)
        ls.database.poke()  # a saved file may be one `pgshift migrate` in a terminal is about to read

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: "PgshiftLanguageServer", params: types.DidCloseTextDocumentParams) -> None:
        ls.diagnostics.close(params.text_document.uri)

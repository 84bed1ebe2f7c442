"""Diagnostics: pulled by clients that declare `textDocument/diagnostic`, else pushed on open, change, save
and close, throttled per document.

Throttling is leading-edge: an edit after a quiet spell is analysed at once (so a single keystroke gets
its answer in milliseconds), and edits arriving within DEBOUNCE_SECONDS of the last analysis are coalesced
into one more run on the latest text. A result for text that has changed since is never published.

A pulling client is told to pull again (`workspace/diagnostic/refresh`) when the database state or the
settings change. One that cannot be told (Neovim 0.10 and 0.11) gets those documents pushed from then on,
and an empty report when it pulls them, so no finding is ever shown twice.
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
from engine.analysis.findings import Finding
from server.lsp import analysis
from server.lsp.convert import split_lines, to_diagnostic

if TYPE_CHECKING:
    from server.lsp.server import OpenMigration, PgshiftLanguageServer

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
        self.pull = False  # the client pulls (set at initialize)
        self.pushed: set[str] = set()  # pulled documents switched to pushing (the client cannot refresh)
        self.generation = 0  # bumped whenever what every document's result depends on may have changed
        self._schedules: dict[str, _Schedule] = {}
        self.latest: dict[str, Analysed] = {}

    def pushes(self, uri: str) -> bool:
        return not self.pull or uri in self.pushed

    async def findings_for(self, uri: str, opened: "OpenMigration") -> tuple[Finding, ...]:
        """The findings for exactly this text: the last ones analysed if they are current, else analysed now
        (code actions and hovers can be asked before the debounced analysis caught up)."""
        latest = self.latest.get(uri)
        if latest is not None and latest.version == opened.version and latest.text == opened.text:
            return latest.findings
        live = opened.live
        found, _ = await asyncio.to_thread(diagnose, opened.path, opened.text, live.project.settings,
                                           live.database.view, self.ls.encoding)
        return tuple(found)

    def request(self, uri: str) -> None:
        """Analyse the document soon (now, if it has been quiet); safe to call on every keystroke. A document
        the client pulls is analysed when it asks."""
        if not self.pushes(uri):
            return
        schedule = self._schedules.setdefault(uri, _Schedule())
        schedule.dirty = True
        if schedule.task is None or schedule.task.done():
            schedule.task = asyncio.get_running_loop().create_task(self._run(uri, schedule))

    def request_all(self, *, fall_back_to_push: bool = True) -> None:
        """The database state, settings or files changed: every open document's result may be stale.

        A pulling client that cannot be asked to pull again gets the documents pushed, unless the caller
        knows nothing they show depends on the change (files saved on disk: the editor pulls after a save).
        """
        self.generation += 1
        if self.pull and self.ls.supports_diagnostic_refresh:
            self.ls.workspace_diagnostic_refresh(None)
        elif self.pull and fall_back_to_push:
            self.pushed.update(self.ls.open_uris())
        for uri in self.ls.open_uris():
            self.request(uri)

    def close(self, uri: str) -> None:
        schedule = self._schedules.pop(uri, None)
        if schedule and schedule.task and not schedule.task.done():
            schedule.task.cancel()
        self.latest.pop(uri, None)
        if self.pushes(uri):
            self.pushed.discard(uri)
            self.ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    async def pull_report(self, uri: str, previous_result_id: str | None) -> types.DocumentDiagnosticReport:
        """The answer to `textDocument/diagnostic`: this exact text analysed now (or "unchanged")."""
        if uri in self.pushed:  # its findings travel by push now: showing them here too would double them
            return types.RelatedFullDocumentDiagnosticReport(items=[], result_id=f"pushed-{self.generation}")
        # Named before analysing: if the state changes meanwhile, the refresh that follows gets a new id.
        document = self.ls.document(uri)
        result_id = f"{self.generation}-{document.version if document else 'closed'}"
        if previous_result_id == result_id and uri in self.latest:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        analysed = await self.analyse(uri)
        if analysed is None:
            self.latest.pop(uri, None)
            return types.RelatedFullDocumentDiagnosticReport(items=[], result_id=result_id)
        return types.RelatedFullDocumentDiagnosticReport(items=analysed[1], result_id=result_id)

    async def analyse(self, uri: str) -> tuple[Analysed, list[types.Diagnostic]] | None:
        """The open document's findings and diagnostics, kept for code actions; None if it is no migration."""
        opened = await self.ls.open_migration(uri)
        if opened is None:
            return None
        path, live, text, version = opened.path, opened.live, opened.text, opened.version
        findings, diagnostics = await asyncio.to_thread(diagnose, path, text, live.project.settings,
                                                        live.database.view, self.ls.encoding)
        analysed = Analysed(version, text, tuple(findings))
        current = self.ls.document(uri)
        if current is not None and current.version == version and self.ls.text_of(current) == text:
            self.latest[uri] = analysed  # code actions reuse it while the text is unchanged
        return analysed, diagnostics

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
        was_migration = uri in self.latest
        result = await self.analyse(uri)
        if schedule.dirty or self._schedules.get(uri) is not schedule:
            return  # newer text is waiting, or the document was closed: this result is stale
        if result is None:
            if was_migration:  # it was a migration (migrations_dir changed): withdraw what was said
                self.latest.pop(uri, None)
                self.ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
            return
        analysed, diagnostics = result
        self.ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=analysed.version))


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
        for live in ls.projects.live.values():  # a saved file may be one `pgshift migrate` is about to read
            live.database.poke()

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: "PgshiftLanguageServer", params: types.DidCloseTextDocumentParams) -> None:
        ls.diagnostics.close(params.text_document.uri)


def register_pull(ls: "PgshiftLanguageServer") -> None:
    """The diagnostic provider, offered only to clients that pull (called from `initialize`, before pygls
    computes the server's capabilities from the registered features)."""
    options = types.DiagnosticOptions(identifier="pgshift", inter_file_dependencies=False,
                                      workspace_diagnostics=False)

    @ls.feature(types.TEXT_DOCUMENT_DIAGNOSTIC, options)
    async def pull(ls: "PgshiftLanguageServer",
                   params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
        try:
            return await ls.diagnostics.pull_report(params.text_document.uri, params.previous_result_id)
        except Exception:  # noqa: BLE001 - a failed analysis must not end the server; the client asks again
            log.exception("analysis of %s failed", params.text_document.uri)
            return types.RelatedFullDocumentDiagnosticReport(items=[])

"""`pgshift lsp` driven over stdio by pytest-lsp's client, against a real PostgreSQL database per test.

Nothing here sleeps for a fixed time: tests wait for the notification they expect, with a generous bound.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Callable, Sequence, Union

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

from engine.config import Settings, load_settings

WAIT_SECONDS = 30.0  # a bound for a loaded CI machine, not a sleep: every wait returns as soon as it can
REPO = Path(__file__).resolve().parents[2]
READING = "pgshift: reading the database…"  # the lens until the first database read is back


def server_env(database_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PGSHIFT_MIGRATIONS_DIR")
           and not k.startswith("PG")}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env["PGSHIFT_LSP_POLL_SECONDS"] = "0.3"  # tests observe terminal migrations quickly
    env["PGSHIFT_LSP_DB_TIMEOUT_SECONDS"] = "3"
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def pulling_capabilities(base: str = "visual-studio-code") -> types.ClientCapabilities:
    """`base`'s recorded capabilities plus pull diagnostics with refresh, as VS Code >= 1.74 declares them
    through vscode-languageclient 8 (pytest-lsp's VS Code record, 1.65, predates pull diagnostics)."""
    capabilities = client_capabilities(base)
    capabilities.text_document.diagnostic = types.DiagnosticClientCapabilities(dynamic_registration=True,
                                                                               related_document_support=False)
    capabilities.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    return capabilities


async def start(root: Path, database_url: str | None, *,
                capabilities: str | types.ClientCapabilities = "visual-studio-code",
                folders: Sequence[Path] | None = None, **env: str) -> LanguageClient:
    """Start `python -m server lsp` in `root` and complete the initialize handshake (`folders`: the workspace
    folders, `root` alone by default); the server's capabilities are kept as `client.server_capabilities`."""
    client = make_test_lsp_client()
    # lsprotocol reads any code action that has a `command` member as a bare Command; editors look at the
    # member's type (a string for Command, an object for CodeAction). Read them as editors do.
    client.protocol._converter.register_structure_hook(
        Union[types.Command, types.CodeAction],
        lambda obj, _: client.protocol._converter.structure(
            obj, types.Command if isinstance(obj.get("command"), str) else types.CodeAction))
    client.code_lens_refreshes = 0
    client.refreshed = asyncio.Event()  # set on each workspace/diagnostic/refresh (pytest-lsp counts them)
    client.pulled = {}  # uri -> (result id, items), as an editor keeps the last pulled report

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def code_lens_refresh(client: LanguageClient, params: None) -> None:
        client.code_lens_refreshes += 1

    features = client.protocol.fm.features
    counted = features[types.WORKSPACE_DIAGNOSTIC_REFRESH]  # pytest-lsp's own handler, which counts

    def diagnostic_refresh(params: None) -> None:
        counted(params)
        client.refreshed.set()

    features[types.WORKSPACE_DIAGNOSTIC_REFRESH] = diagnostic_refresh

    await client.start_io(sys.executable, "-m", "server", "lsp", *([ "--log-level", os.environ["PGSHIFT_TEST_LSP_LOG"]] if os.environ.get("PGSHIFT_TEST_LSP_LOG") else []), env=server_env(database_url, **env), cwd=str(root))
    result = await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(capabilities) if isinstance(capabilities, str) else capabilities,
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in folders or [root]]))
    client.server_capabilities = result.capabilities
    return client


async def stop(client: LanguageClient) -> None:
    await client.shutdown_session()
    await client.stop()


@pytest.fixture
def project_dir(tmp_path: Path, database_url: str) -> Path:
    (tmp_path / "migrations").mkdir()
    return tmp_path


@pytest.fixture
def settings(project_dir: Path, database_url: str) -> Settings:
    return load_settings(project_dir, database_url=database_url, environ={})


@pytest_asyncio.fixture
async def client(project_dir: Path, database_url: str):
    client = await start(project_dir, database_url)
    yield client
    await stop(client)


def open_document(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="sql", version=version,
        text=path.read_text(encoding="utf-8") if text is None else text)))
    return uri


def change_document(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


async def wait_for_diagnostics(client: LanguageClient, uri: str,
                               predicate: Callable[[Sequence[types.Diagnostic]], bool] = lambda d: True,
                               ) -> Sequence[types.Diagnostic]:
    """The first published diagnostics for `uri` that satisfy `predicate` (including ones already here)."""
    async def until() -> Sequence[types.Diagnostic]:
        while True:
            arrived = client.protocol.wait_for_notification_async(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if uri in client.diagnostics and predicate(client.diagnostics[uri]):
                return client.diagnostics[uri]
            await arrived
    return await asyncio.wait_for(until(), WAIT_SECONDS)


async def next_diagnostics(client: LanguageClient, uri: str) -> Sequence[types.Diagnostic]:
    """The next publication for `uri` (ignoring anything already received)."""
    async def until() -> Sequence[types.Diagnostic]:
        while True:
            params = await client.protocol.wait_for_notification_async(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if params.uri == uri:
                return params.diagnostics
    return await asyncio.wait_for(until(), WAIT_SECONDS)


async def pull(client: LanguageClient, uri: str) -> Sequence[types.Diagnostic]:
    """One `textDocument/diagnostic` request, as an editor sends it (with the last result id); what the
    editor then shows from pulls for `uri`."""
    previous_id, previous = client.pulled.get(uri, (None, []))
    report = await asyncio.wait_for(client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri), identifier="pgshift",
        previous_result_id=previous_id)), WAIT_SECONDS)
    items = previous if report.kind == "unchanged" else report.items
    client.pulled[uri] = (report.result_id, list(items))
    return list(items)


async def wait_for_shown(client: LanguageClient, uri: str,
                         predicate: Callable[[Sequence[types.Diagnostic]], bool] = lambda d: True,
                         ) -> list[types.Diagnostic]:
    """What an editor that pulls shows for `uri` (pulled plus pushed), pulling again after every refresh
    request or push, until `predicate` holds."""
    async def until() -> list[types.Diagnostic]:
        while True:
            client.refreshed.clear()
            pushed = client.protocol.wait_for_notification_async(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            shown = await pull(client, uri) + list(client.diagnostics.get(uri, []))
            if predicate(shown):
                return shown
            refreshed = asyncio.ensure_future(client.refreshed.wait())
            await asyncio.wait([pushed, refreshed], return_when=asyncio.FIRST_COMPLETED)
            refreshed.cancel()
    return await asyncio.wait_for(until(), WAIT_SECONDS)


async def wait_for_message(client: LanguageClient, predicate: Callable[[types.ShowMessageParams], bool]
                           ) -> types.ShowMessageParams:
    async def until() -> types.ShowMessageParams:
        while True:
            arrived = client.protocol.wait_for_notification_async(types.WINDOW_SHOW_MESSAGE)
            for message in client.messages:
                if predicate(message):
                    return message
            await arrived
    return await asyncio.wait_for(until(), WAIT_SECONDS)


def codes(diagnostics: Sequence[types.Diagnostic]) -> set[str]:
    return {str(d.code) for d in diagnostics}


def write(project_dir: Path, name: str, text: str) -> Path:
    path = project_dir / "migrations" / name
    path.write_text(text, encoding="utf-8")
    return path

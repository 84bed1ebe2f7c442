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


async def start(root: Path, database_url: str | None, *, capabilities: str = "visual-studio-code",
                **env: str) -> LanguageClient:
    """Start `python -m server lsp` in `root` and complete the initialize handshake."""
    client = make_test_lsp_client()
    # lsprotocol reads any code action that has a `command` member as a bare Command; editors look at the
    # member's type (a string for Command, an object for CodeAction). Read them as editors do.
    client.protocol._converter.register_structure_hook(
        Union[types.Command, types.CodeAction],
        lambda obj, _: client.protocol._converter.structure(
            obj, types.Command if isinstance(obj.get("command"), str) else types.CodeAction))
    client.code_lens_refreshes = 0

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def code_lens_refresh(client: LanguageClient, params: None) -> None:
        client.code_lens_refreshes += 1

    await client.start_io(sys.executable, "-m", "server", "lsp", *([ "--log-level", os.environ["PGSHIFT_TEST_LSP_LOG"]] if os.environ.get("PGSHIFT_TEST_LSP_LOG") else []), env=server_env(database_url, **env), cwd=str(root))
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(capabilities),
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)]))
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

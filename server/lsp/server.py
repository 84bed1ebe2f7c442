"""The language server object and `build_server()`: state shared by the features, and their registration."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument

from server.lsp.convert import engine_text
from server.lsp.diagnostics import DiagnosticsPublisher
from server.lsp.project import CONFIG_FILES, uri_to_path
from server.lsp.projects import LiveProject, Projects
from server.lsp.redaction import RedactingProtocol

log = logging.getLogger(__name__)


def _version() -> str:
    from engine import __version__  # not importlib.metadata: importing it and finding the package is ~70 ms
    return __version__


@dataclass(frozen=True)
class OpenMigration:
    """An open migration: its file path, its project (settings and database watch), its text and version.

    `text` has the lines as the engine counts them; `source` is the buffer exactly as the client sent it.
    """

    path: Path
    live: LiveProject
    text: str
    version: int
    source: str


class PgshiftLanguageServer(LanguageServer):
    """pygls' server plus the projects (each with its settings and database watch), the diagnostics
    scheduler and background tasks."""

    def __init__(self) -> None:
        super().__init__("pgshift", _version(), protocol_cls=RedactingProtocol)
        self.projects = Projects(self)
        self.diagnostics = DiagnosticsPublisher(self)
        self.stopping: asyncio.Event | None = None
        self._background: list[asyncio.Task] = []

    # --- open documents (pygls keys them by the percent-decoded URI; the client's URI is kept on each) ---

    def document(self, uri: str) -> TextDocument | None:
        """The open document, or None: never a fresh read from disk as `get_text_document` would do."""
        return self.workspace.text_documents.get(unquote(uri))

    async def open_migration(self, uri: str) -> "OpenMigration | None":
        """The open document as a migration of its project, or None when it is not open or not a migration."""
        document = self.document(uri)
        found = await self.projects.for_uri(uri)
        if document is None or found is None or not found[1].project.is_migration(found[0]):
            return None
        path, live = found
        return OpenMigration(path, live, self.text_of(document), document.version, document.source)

    def open_uris(self) -> list[str]:
        return [document.uri for document in self.workspace.text_documents.values()]

    @staticmethod
    def text_of(document: TextDocument) -> str:
        """The document's text with its lines as the client counts them (see `convert.engine_text`)."""
        return engine_text(document.source)

    # --- what the client can do (each with the fallback the features use) ---

    @property
    def encoding(self) -> str:
        return self.workspace.position_encoding or types.PositionEncodingKind.Utf16

    def _capability(self, *names: str):
        value = self.client_capabilities
        for name in names:
            value = getattr(value, name, None)
            if value is None:
                return None
        return value

    @property
    def supports_document_changes(self) -> bool:
        return bool(self._capability("workspace", "workspace_edit", "document_changes"))

    def supports_resource_operation(self, kind: types.ResourceOperationKind) -> bool:
        kinds = self._capability("workspace", "workspace_edit", "resource_operations") or []
        return self.supports_document_changes and kind in kinds

    @property
    def supports_rename_file(self) -> bool:
        """The client renames files itself (and its buffer follows) from a RenameFile change.

        Listing "rename" in resourceOperations is enough: such changes exist only inside documentChanges, so a
        client that lists them takes documentChanges (Neovim lists them without declaring documentChanges).
        """
        kinds = self._capability("workspace", "workspace_edit", "resource_operations") or []
        return types.ResourceOperationKind.Rename in kinds

    @property
    def supports_progress(self) -> bool:
        return bool(self._capability("window", "work_done_progress"))

    @property
    def supports_code_lens_refresh(self) -> bool:
        return bool(self._capability("workspace", "code_lens", "refresh_support"))

    @property
    def supports_pull_diagnostics(self) -> bool:
        return self._capability("text_document", "diagnostic") is not None

    @property
    def supports_diagnostic_refresh(self) -> bool:
        return bool(self._capability("workspace", "diagnostics", "refresh_support"))

    # --- lifecycle ---

    def open_workspace(self, params: types.InitializeParams) -> None:
        """Every workspace folder is a candidate project root (the first one is the default project's)."""
        roots = [p for f in params.workspace_folders or [] if (p := uri_to_path(f.uri)) is not None]
        if not roots and params.root_uri:
            roots = [p for p in [uri_to_path(params.root_uri)] if p is not None]
        if not roots and params.root_path:
            roots = [Path(params.root_path)]
        self.projects.set_roots(roots)
        self.diagnostics.pull = self.supports_pull_diagnostics

    def start_background(self) -> None:
        """Projects are loaded and watched when a document or command first needs them."""
        self.stopping = asyncio.Event()
        self.projects.start(self.stopping)

    def stop_background(self) -> None:
        if self.stopping is not None:
            self.stopping.set()
        for task in self._background:
            task.cancel()
        self.projects.stop()

    # --- reacting to change ---

    def files_changed(self, paths: set[Path]) -> None:
        """Migration files changed on disk: re-check open documents, re-read the databases soon."""
        log.debug("changed on disk: %s", sorted(map(str, paths)))
        if any(path.name in CONFIG_FILES for path in paths):  # the client's own file watcher saw a config file
            self.config_changed(paths)
        self.diagnostics.request_all(fall_back_to_push=False)  # a database change that follows says so itself
        for live in self.projects.live.values():
            live.database.poke()
        self.refresh_code_lenses()

    def config_changed(self, paths: set[Path]) -> None:
        task = asyncio.get_running_loop().create_task(self.reload_project(), name="pgshift-reload")
        self._background.append(task)
        task.add_done_callback(lambda done: done in self._background and self._background.remove(done))

    async def reload_project(self) -> None:
        """A config file was edited: every project re-reads its settings (a broken file keeps the settings in
        use and is reported once); documents see the change if anything they depend on changed."""
        if await self.projects.reload():
            self.state_changed()

    def state_changed(self) -> None:
        """A database view or the settings changed: every open document's diagnostics and lenses."""
        self.diagnostics.request_all()
        self.refresh_code_lenses()

    def refresh_code_lenses(self) -> None:
        if self.supports_code_lens_refresh:
            self.workspace_code_lens_refresh(None)


def build_server() -> PgshiftLanguageServer:
    """A new server with every feature registered; nothing is started until `start_io()`."""
    from server.lsp import code_actions, code_lens, commands, diagnostics, hover, navigation, symbols

    ls = PgshiftLanguageServer()

    @ls.feature(types.INITIALIZE)
    def initialize(ls: PgshiftLanguageServer, params: types.InitializeParams) -> None:
        ls.open_workspace(params)
        if ls.supports_pull_diagnostics:
            diagnostics.register_pull(ls)

    @ls.feature(types.INITIALIZED)
    def initialized(ls: PgshiftLanguageServer, params: types.InitializedParams) -> None:
        ls.start_background()

    @ls.feature(types.SHUTDOWN)
    def shutdown(ls: PgshiftLanguageServer, params: None) -> None:
        ls.stop_background()

    @ls.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched_files(ls: PgshiftLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        ls.files_changed({p for c in params.changes if (p := uri_to_path(c.uri)) is not None})

    for feature in (diagnostics, code_actions, code_lens, commands, hover, navigation, symbols):
        feature.register(ls)
    return ls

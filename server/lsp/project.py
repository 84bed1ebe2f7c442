"""A pgshift project as the editor sees it: its settings, which documents are migrations, and which project
a document belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from pygls.uris import from_fs_path, to_fs_path

from engine.config import Settings, find_project_root, load_settings, read_project_table
from engine.errors import PgshiftError

CONFIG_FILES = ("pyproject.toml", "pgshift.toml")


@dataclass(frozen=True)
class Project:
    """Settings loaded once from a project folder; `problem` says why the defaults are in use, if they are."""

    settings: Settings
    problem: str | None = None

    @property
    def migrations_dir(self) -> Path:
        return self.settings.migrations_dir

    def is_migration(self, path: Path | None) -> bool:
        """A `.sql` file directly in the migrations folder (the engine ignores subfolders too)."""
        if path is None or path.suffix.lower() != ".sql":
            return False
        try:
            return path.parent.resolve() == self.migrations_dir.resolve()
        except OSError:
            return False

    @property
    def has_database(self) -> bool:
        """A configured server, or the embedded one when it already runs: the editor never starts a server."""
        settings = self.settings
        if not settings.uses_embedded_database:
            return True
        folder = settings.embedded_dir or settings.project_root / ".pgshift"
        return (folder / "pgdata" / "postmaster.pid").exists()


def load_project(root: Path) -> Project:
    """Settings as the CLI would load them in `root`; a broken config still gives file checks with defaults."""
    try:
        return Project(load_settings(root))
    except PgshiftError as error:
        fallback = Settings(project_root=root, migrations_dir=root / "migrations")
        return Project(fallback, problem=error.message)


def project_folder(folder: Path, roots: Sequence[Path]) -> Path:
    """The folder whose settings a document in `folder` uses (reads files: call it off the event loop).

    The nearest folder upwards with pgshift.toml or [tool.pgshift] (`find_project_root`, as the CLI run there
    would find it), searched no higher than the document's workspace folder (the deepest one holding it);
    without one, that workspace folder, whose own settings may come from further up, as before per-document
    projects. A document outside every workspace folder takes the project found above it, else the first
    folder's. Raises ConfigError for an unreadable pyproject.toml on the way up.
    """
    folder = folder.resolve()
    holding = workspace_folder_of(folder, roots)
    root = holding or roots[0]
    found = find_project_root(folder)
    # find_project_root answers `folder` itself both when it is a project and when nothing was found
    configured = found != folder or read_project_table(found)[1] is not None
    if configured and (holding is None or found == root or root in found.parents):
        return found
    return root


def workspace_folder_of(folder: Path, roots: Sequence[Path]) -> Path | None:
    """The deepest workspace folder holding the (resolved) `folder`, if any holds it."""
    holding = [root for root in roots if root == folder or root in folder.parents]
    return max(holding, key=lambda r: len(r.parts)) if holding else None


def uri_to_path(uri: str) -> Path | None:
    path = to_fs_path(uri)
    return Path(path) if path else None


def path_to_uri(path: Path) -> str:
    return from_fs_path(str(path)) or path.as_uri()

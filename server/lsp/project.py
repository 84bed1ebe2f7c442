"""The workspace's pgshift project: its settings, and which documents are migrations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pygls.uris import from_fs_path, to_fs_path

from engine.config import Settings, load_settings
from engine.errors import PgshiftError

CONFIG_FILES = ("pyproject.toml", "pgshift.toml")


@dataclass(frozen=True)
class Project:
    """Settings loaded once from the workspace root; `problem` says why the defaults are in use, if they are."""

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


def uri_to_path(uri: str) -> Path | None:
    path = to_fs_path(uri)
    return Path(path) if path else None


def path_to_uri(path: Path) -> str:
    return from_fs_path(str(path)) or path.as_uri()

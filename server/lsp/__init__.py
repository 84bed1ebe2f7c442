"""The language server (`pgshift lsp`): engine findings, fixes, state and commands in the editor."""

from server.lsp.server import build_server

__all__ = ["build_server"]

"""The MCP server: the engine's verbs as tools for the AI assistant, with human confirmation for rollback."""

from server.mcp.app import build_server

__all__ = ["build_server"]

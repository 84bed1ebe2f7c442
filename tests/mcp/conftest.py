"""An MCP client connected over stdio to `pgshift mcp` started as a subprocess in a temporary project.

Two protocol generations: 2025-06-18 over the initialize handshake (what Cursor speaks; the SDK's legacy mode
is pinned to it for the test) and the SDK's default, the newest protocol.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import mcp.client.session as client_session
import pytest
from mcp import Client, StdioServerParameters
from mcp_types import CallToolResult, ElicitRequestParams, ElicitResult

from engine.config import Settings

PGSHIFT = str(Path(sys.executable).with_name("pgshift"))
CURSOR_PROTOCOL = "2025-06-18"
MODES = ["2025-06-18", "newest"]

Elicitation = Callable[[Any, ElicitRequestParams], Awaitable[ElicitResult]]


@pytest.fixture(params=MODES)
def mode(request) -> str:
    return request.param


@contextlib.asynccontextmanager
async def serve(project: Settings, mode: str, *, args: tuple[str, ...] = (), env: dict[str, str] | None = None,
                elicitation: Elicitation | None = None, database_url: str | None = None,
                message_handler: Callable[[Any], Awaitable[None]] | None = None) -> AsyncIterator[Client]:
    """`pgshift --database-url URL mcp [args]` in the project folder, and a connected client."""
    params = StdioServerParameters(
        command=PGSHIFT, args=["--database-url", database_url or project.database_url, "mcp", *args],
        cwd=str(project.project_root), env=env or {})
    kwargs: dict[str, Any] = {"elicitation_callback": elicitation} if elicitation else {}
    if message_handler is not None:
        kwargs["message_handler"] = message_handler
    if mode == "newest":
        async with Client(params, **kwargs) as client:
            yield client
        return
    # The SDK's legacy mode offers its newest handshake version; pin the one Cursor speaks.
    saved = client_session.LATEST_HANDSHAKE_VERSION
    client_session.LATEST_HANDSHAKE_VERSION = CURSOR_PROTOCOL
    try:
        async with Client(params, mode="legacy", **kwargs) as client:
            assert client.protocol_version == CURSOR_PROTOCOL
            yield client
    finally:
        client_session.LATEST_HANDSHAKE_VERSION = saved


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if getattr(block, "type", None) == "text")


def data_of(result: CallToolResult) -> dict:
    """The structured result, after checking that the text copy says the same (or, for errors, renders it)."""
    assert result.structured_content is not None, text_of(result)
    if not result.is_error:
        assert json.loads(text_of(result)) == result.structured_content
    return result.structured_content


def ok(result: CallToolResult) -> dict:
    assert not result.is_error, text_of(result)
    return data_of(result)


def failed(result: CallToolResult) -> dict:
    assert result.is_error, text_of(result)
    return data_of(result)


def saying_yes(asked: list | None = None) -> Elicitation:
    """A client whose user ticks the box; the questions it was asked are appended to `asked`."""
    async def on_elicit(ctx, params: ElicitRequestParams) -> ElicitResult:
        if asked is not None:
            asked.append(params)
        return ElicitResult(action="accept", content={"confirm": True})
    return on_elicit


def apply_pending(project: Settings) -> None:
    """Set-up outside MCP: the person applies the pending migrations from a terminal (the engine's migrate)."""
    from engine.database import runner
    runner.migrate(project)

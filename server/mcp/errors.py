"""The one place engine errors become MCP tool errors: isError results with file:line:col, never a crash."""

from __future__ import annotations

import functools
import logging
import traceback
from pathlib import Path
from typing import Annotated, Any, Awaitable, Callable

from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel

from mcp.shared.exceptions import MCPError

from engine.redaction import redact
from engine.errors import PgshiftError
from server.mcp.results import ErrorResult, findings_of

log = logging.getLogger("pgshift.mcp")


class NotAvailableError(PgshiftError):
    """A tool whose engine part is not in this build."""

    code = "not-available"


def error_result(error: PgshiftError, root: Path) -> CallToolResult:
    """`path:line:col: error[code]: message` lines, then the error and its help — as the CLI prints them."""
    lines = [redact(f.render(root)) for f in error.findings]
    lines.append(f"error[{error.code}]: {redact(error.message)}")
    if error.help:
        lines.append(f"help: {redact(error.help)}")
    data = ErrorResult(code=error.code, message=redact(error.message),
                       help=redact(error.help) if error.help else None, findings=findings_of(error.findings, root))
    return CallToolResult(content=[TextContent(type="text", text="\n".join(lines))],
                          structured_content=data.model_dump(mode="json"), is_error=True)


def unexpected_result(error: BaseException) -> CallToolResult:
    """A bug or an OS error: the call fails, the server stays up, the text is redacted."""
    # Not log.exception: the traceback's text (a driver's message, a connection string) is logged redacted too.
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    log.error("pgshift MCP tool failed unexpectedly\n%s", redact(trace))
    message = redact(f"{type(error).__name__}: {error}")
    data = ErrorResult(code="internal-error", message=message,
                       help="this is a pgshift bug or an environment problem; the server keeps running")
    return CallToolResult(content=[TextContent(type="text", text=f"error[internal-error]: {message}")],
                          structured_content=data.model_dump(mode="json"), is_error=True)


def tool_errors(root: Path, output: type[BaseModel]) -> Callable[[Callable[..., Awaitable[Any]]],
                                                                  Callable[..., Awaitable[Any]]]:
    """Wrap a tool: engine errors (and anything unexpected) come back as isError results.

    The declared return type becomes `Annotated[CallToolResult, output]`, so the tool still publishes
    `output`'s schema while being able to return an error result that does not follow it.
    """

    def decorate(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except PgshiftError as error:
                return error_result(error, root)
            except MCPError:  # a protocol error (e.g. a missing client capability) stays one
                raise
            except Exception as error:  # noqa: BLE001 — the server must answer, not die
                return unexpected_result(error)

        wrapper.__annotations__ = {**fn.__annotations__, "return": Annotated[CallToolResult, output]}
        return wrapper

    return decorate

"""The one place engine errors become MCP tool errors: isError results with file:line:col, never a crash."""

from __future__ import annotations

import functools
import inspect
import logging
import traceback
from pathlib import Path
from typing import Annotated, Any, Awaitable, Callable

from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, ConfigDict, TypeAdapter

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


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every `#/$defs/X` reference replaced by X itself (the error models are not recursive)."""
    defs = schema.pop("$defs", {})

    def expand(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return expand({**defs[ref.removeprefix("#/$defs/")], **{k: v for k, v in node.items() if k != "$ref"}})
            return {key: expand(value) for key, value in node.items()}
        if isinstance(node, list):
            return [expand(item) for item in node]
        return node

    return expand(schema)


ERROR_SCHEMA = _inlined(TypeAdapter(ErrorResult).json_schema())


@functools.cache
def with_error_shape(output: type[BaseModel]) -> type[BaseModel]:
    """`output`, whose published schema also admits the ErrorResult an isError result carries.

    A strict client (the MCP Inspector) validates every structuredContent against the outputSchema, error or
    not; the schema is `anyOf` the success object and the error object, so both are described honestly.
    """

    def either(schema: dict[str, Any]) -> None:
        success = {"type": "object", "title": schema.get("title", output.__name__),
                   "properties": schema.pop("properties", {}), "required": schema.pop("required", [])}
        if "description" in schema:
            success["description"] = schema["description"]
        schema["anyOf"] = [success, ERROR_SCHEMA]

    return type(output.__name__, (output,), {"model_config": ConfigDict(json_schema_extra=either),
                                             "__doc__": output.__doc__, "__module__": output.__module__})


def tool_errors(root: Path, output: type[BaseModel]) -> Callable[[Callable[..., Awaitable[Any]]],
                                                                  Callable[..., Awaitable[Any]]]:
    """Wrap a tool: engine errors (and anything unexpected) come back as isError results.

    The declared return type becomes `Annotated[CallToolResult, ...]` of `output` widened by the error shape,
    so the tool publishes one schema that both its results and its error results follow.
    """

    shaped = with_error_shape(output)

    def decorate(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                result = await fn(*args, **kwargs)
            except PgshiftError as error:
                return error_result(error, root)
            except MCPError:  # a protocol error (e.g. a missing client capability) stays one
                raise
            except Exception as error:  # noqa: BLE001 — the server must answer, not die
                return unexpected_result(error)
            if isinstance(result, output) and not isinstance(result, shaped):
                return shaped.model_validate(result.model_dump())  # the SDK validates against `shaped`
            return result

        returns = Annotated[CallToolResult, shaped]
        wrapper.__annotations__ = {**fn.__annotations__, "return": returns}
        # The SDK reads inspect.signature, which follows __wrapped__ to `fn` unless told otherwise.
        wrapper.__signature__ = inspect.signature(fn).replace(return_annotation=returns)  # type: ignore[attr-defined]
        return wrapper

    return decorate

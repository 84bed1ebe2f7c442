"""workspace/executeCommand: the CLI's verbs, run off the event loop with progress; rollback asks first.

Any command takes an object argument with `"uri"`: it then runs on that document's project (the CodeLens
commands pass it). Without one it runs on the only project documents were opened in, else the workspace's.
Arguments are checked first (server/lsp/command_args.py): an unknown option or a wrong type is shown to the
person and answered with an InvalidParams error, and nothing runs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from engine.analysis import scaffold
from engine.config import Settings
from engine.errors import PgshiftError
from engine.redaction import redact
from server.lsp import command_args
from server.lsp.project import path_to_uri, uri_to_path
from server.lsp.server import PgshiftLanguageServer  # at run time: pygls reads command annotations

if TYPE_CHECKING:
    from engine.database import runner
    from server.lsp.projects import LiveProject

log = logging.getLogger(__name__)
ROLL_BACK, CANCEL = "Roll back", "Cancel"
COMMANDS = ("pgshift.migrate", "pgshift.list", "pgshift.rollback", "pgshift.new", "pgshift.snapshot",
            "pgshift.verify", "pgshift.open", "pgshift.renameFile")


def plain(value: Any, root: Path | None) -> Any:
    """An engine result as JSON-ready data (the same shape as the CLI's --json)."""
    if hasattr(value, "to_dict"):
        try:
            value = value.to_dict(root)
        except TypeError:
            value = value.to_dict()
    return json.loads(json.dumps(value, default=str))


def describe_event(event: "runner.Event") -> str:
    from engine.database import runner

    if isinstance(event, runner.Started):
        return f"applying {event.version}" + (" (no transaction)" if event.no_transaction else "")
    if isinstance(event, runner.Applied):
        return f"done {event.version} in {event.milliseconds} ms"
    if isinstance(event, runner.Skipped):
        return f"skipped {event.version}: {event.reason}"
    if isinstance(event, runner.Waiting):
        return f"waiting: {event.reason}"
    if isinstance(event, runner.Retrying):
        return f"retrying {event.version} (attempt {event.attempt}): {event.reason}"
    return str(event)


def describe_plan(plan: "runner.RollbackPlan") -> str:
    """Exactly what will run: every step's version and SQL, newest first."""
    return redact(plan.describe())


async def run_engine(ls: PgshiftLanguageServer, title: str, work: Callable[[Callable[[str], None]], Any]) -> Any:
    """Run `work(report)` in a thread, with $/progress when the client shows it; errors become messages."""
    loop = asyncio.get_running_loop()
    token: str | None = None
    if ls.supports_progress:
        token = f"pgshift-{uuid.uuid4().hex}"
        try:
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=False))
        except Exception:  # noqa: BLE001 - no progress bar is no reason not to run
            token = None

    def report(message: str) -> None:
        if token is not None:
            loop.call_soon_threadsafe(ls.work_done_progress.report, token,
                                      types.WorkDoneProgressReport(message=redact(message)))

    outcome = "failed"
    try:
        result = await asyncio.to_thread(work, report)
        outcome = "done"
        return result
    finally:
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=outcome))


def arguments_of(ls: PgshiftLanguageServer, name: str, args: tuple) -> command_args.Arguments:
    """The command's arguments, checked; on a mistake the person is told and the request fails (InvalidParams)."""
    try:
        return command_args.parse(name, args)
    except command_args.CommandArgumentError as error:
        message = f"pgshift: {error}. Nothing was run. Usage: {command_args.usage(name)}"
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=message))
        raise JsonRpcInvalidParams(message) from None


async def project_of(ls: PgshiftLanguageServer, options: dict) -> "LiveProject":
    uri = options.get("uri")
    found = await ls.projects.for_uri(uri) if isinstance(uri, str) else None
    return found[1] if found is not None else await ls.projects.default()


def failure(ls: PgshiftLanguageServer, error: PgshiftError, settings: Settings) -> dict:
    """Show an engine error once, password-free, and return it as data for the caller."""
    root = settings.project_root
    text = redact(error.message) + (f"\nhelp: {redact(error.help)}" if error.help else "")
    for finding in error.findings[:5]:
        text += "\n" + redact(finding.render(root))
    ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"pgshift: {text}"))
    return {"ok": False, "error": {"code": error.code, "message": redact(error.message),
                                   "help": redact(error.help) if error.help else None,
                                   "findings": [f.to_dict(root) for f in error.findings]}}


async def after_database_change(ls: PgshiftLanguageServer, live: "LiveProject") -> None:
    await live.database.refresh()
    ls.state_changed()


def register(ls: PgshiftLanguageServer) -> None:
    @ls.command("pgshift.migrate")
    async def migrate(ls: PgshiftLanguageServer, *args: Any) -> dict:
        from engine.database import runner

        options = arguments_of(ls, "pgshift.migrate", args).options
        live = await project_of(ls, options)
        settings = live.project.settings
        try:
            result = await run_engine(ls, "pgshift migrate", lambda report: runner.migrate(
                settings, dry_run=bool(options.get("dryRun")), to=options.get("to"),
                allow_out_of_order=bool(options.get("allowOutOfOrder")),
                on_event=lambda event: report(describe_event(event))))
        except PgshiftError as error:
            await after_database_change(ls, live)
            return failure(ls, error, settings)
        await after_database_change(ls, live)
        applied = ", ".join(a.version for a in result.applied) or "nothing pending"
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info,
                                                       message=f"pgshift: applied {applied}"))
        return plain(result, settings.project_root)

    @ls.command("pgshift.list")
    async def list_(ls: PgshiftLanguageServer, *args: Any) -> dict:
        from engine.database import status

        options = arguments_of(ls, "pgshift.list", args).options
        settings = (await project_of(ls, options)).project.settings
        try:
            report = await asyncio.to_thread(status.list_migrations, settings)
        except PgshiftError as error:
            return failure(ls, error, settings)
        return {"ok": True, "database": report.database,
                "migrations": [plain(m, settings.project_root) for m in report.migrations]}

    @ls.command("pgshift.rollback")
    async def rollback(ls: PgshiftLanguageServer, *args: Any) -> dict:
        from engine.database import runner

        options = arguments_of(ls, "pgshift.rollback", args).options
        live = await project_of(ls, options)
        settings = live.project.settings
        try:
            plan = await asyncio.to_thread(runner.plan_rollback, settings, steps=options.get("steps", 1),
                                           to=options.get("to"))
        except PgshiftError as error:
            return failure(ls, error, settings)
        answer = await ls.window_show_message_request_async(types.ShowMessageRequestParams(
            type=types.MessageType.Warning, message=describe_plan(plan),
            actions=[types.MessageActionItem(title=ROLL_BACK), types.MessageActionItem(title=CANCEL)]))
        if answer is None or answer.title != ROLL_BACK:
            return {"ok": False, "cancelled": True, "plan": plain(plan, settings.project_root)}
        try:
            result = await run_engine(ls, "pgshift rollback", lambda report: runner.rollback(
                settings, plan, on_event=lambda event: report(describe_event(event))))
        except PgshiftError as error:
            await after_database_change(ls, live)
            return failure(ls, error, settings)
        await after_database_change(ls, live)
        ls.window_show_message(types.ShowMessageParams(
            type=types.MessageType.Info, message=f"pgshift: rolled back {', '.join(result.rolled_back)}"))
        return {"ok": True, "database": result.database, "rolled_back": list(result.rolled_back)}

    @ls.command("pgshift.new")
    async def new(ls: PgshiftLanguageServer, *args: Any) -> dict:
        given = arguments_of(ls, "pgshift.new", args)
        description = given.positional.get("description") or "new migration"
        sql = given.positional.get("sql")
        settings = (await project_of(ls, given.options)).project.settings
        try:
            made = await asyncio.to_thread(scaffold.new_migration, settings, description, sql=sql)
        except PgshiftError as error:
            return failure(ls, error, settings)
        uri = path_to_uri(made.path)
        await _show(ls, uri)
        return {"ok": True, "path": str(made.path), "uri": uri}

    @ls.command("pgshift.snapshot")
    async def snapshot(ls: PgshiftLanguageServer, *args: Any) -> dict:
        from engine.database.snapshot import snapshot as take_snapshot

        options = arguments_of(ls, "pgshift.snapshot", args).options
        settings = (await project_of(ls, options)).project.settings
        try:
            result = await run_engine(ls, "pgshift snapshot", lambda report: take_snapshot(settings))
        except PgshiftError as error:
            return failure(ls, error, settings)
        return {"ok": True, "path": str(result.path), "changed": result.changed}

    @ls.command("pgshift.verify")
    async def verify(ls: PgshiftLanguageServer, *args: Any) -> dict:
        from engine.shadow.verify import verify as run_verify

        given = arguments_of(ls, "pgshift.verify", args)
        versions = given.rest or None
        settings = (await project_of(ls, given.options)).project.settings
        try:
            result = await run_engine(ls, "pgshift verify", lambda report: run_verify(
                settings, versions, on_progress=lambda message, _detail: report(str(message))))
        except PgshiftError as error:
            return failure(ls, error, settings)
        summary = "verified" if result.ok else "verification FAILED"
        ls.window_show_message(types.ShowMessageParams(
            type=types.MessageType.Info if result.ok else types.MessageType.Error,
            message=f"pgshift: {summary}: " + ", ".join(m.version for m in result.migrations)))
        return plain(result, settings.project_root)

    @ls.command("pgshift.open")
    async def open_(ls: PgshiftLanguageServer, *args: Any) -> dict:
        uri = arguments_of(ls, "pgshift.open", args).positional["uri"]
        return {"ok": await _show(ls, uri)}

    @ls.command("pgshift.renameFile")
    async def rename_file(ls: PgshiftLanguageServer, *args: Any) -> dict:
        """The rename quick fix for clients that cannot rename files: rename on disk, then show the new file.

        The editor's buffer still names the old path, and saving it would write the old file again: a second copy
        of the migration. So the new file is shown where the client can (window/showDocument), and the message
        says what happened and what to do with the old buffer.
        """
        given = arguments_of(ls, "pgshift.renameFile", args).positional
        uri, new_uri = given["uri"], given["newUri"]
        old, new = uri_to_path(uri), uri_to_path(new_uri)
        problem = ("not a file URI" if old is None or new is None
                   else f"{new.name} exists already" if new.exists()
                   else f"{old.name} does not exist" if not old.exists() and ls.document(uri) is None else None)
        if problem is not None:
            ls.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Error, message=f"pgshift: cannot rename {old or uri} to {new or new_uri}: "
                                                      f"{problem}; nothing was changed"))
            return {"ok": False}
        document = ls.document(uri)
        if document is not None:  # keep unsaved edits: write the buffer's text under the new name
            await asyncio.to_thread(new.write_text, document.source, encoding="utf-8")
            await asyncio.to_thread(old.unlink, missing_ok=True)
        else:
            await asyncio.to_thread(os.rename, old, new)
        shown = await _show(ls, new_uri, announce=False)
        follow = ("it is open now" if shown else f"open {new.name}")
        ls.window_show_message(types.ShowMessageParams(
            type=types.MessageType.Warning,
            message=f"pgshift: renamed {old.name} to {new.name} ({follow}). Close {old.name} without saving it: "
                    "saving would write the old file again, a second copy of this migration."))
        return {"ok": True, "uri": new_uri, "shown": shown}


async def _show(ls: PgshiftLanguageServer, uri: str, *, announce: bool = True) -> bool:
    """Ask the client to show a document (window/showDocument); without that, say where it is if `announce`."""
    if not ls._capability("window", "show_document", "support"):
        if announce:
            ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info,
                                                           message=f"pgshift: created {uri_to_path(uri)}"))
        return False
    result = await ls.window_show_document_async(types.ShowDocumentParams(uri=uri, take_focus=True))
    return bool(result and result.success)

"""The MCP tools: each a few lines that call one engine verb off the event loop and return a typed result.

No `from __future__ import annotations` here: the SDK reads the tools' annotations, some of which name
closures (the rollback resolvers), so they must be evaluated where they are written.
"""

import dataclasses
import shlex
from pathlib import Path
from typing import Annotated, Any, Callable

import anyio
import anyio.from_thread
import anyio.to_thread
from mcp.server.mcpserver import Context, Elicit, ElicitationResult, MCPServer, Resolve
from mcp_types import ToolAnnotations
from pydantic import Field

from engine.analysis import files as migration_files
from engine.analysis import scaffold
from engine.database import runner, status
from engine.config import Settings
from engine.redaction import redact
from engine.errors import PgshiftError, UsageError
from engine.analysis.findings import Finding, Severity
from server.mcp import confirmation, migrate_gate, results, texts
from server.mcp.errors import tool_errors
from server.mcp.redaction import redactor_of
from server.mcp.workspace import clean_description, migration_path, relative, sql_argument

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


def _hints(*, destructive: bool, idempotent: bool) -> ToolAnnotations:
    return ToolAnnotations(read_only_hint=False, destructive_hint=destructive, idempotent_hint=idempotent,
                           open_world_hint=False)


async def in_thread(fn: Callable[[], Any]) -> Any:
    """Engine calls block (files, PostgreSQL): run them in a worker thread so the server keeps answering."""
    return await anyio.to_thread.run_sync(fn)


def progress_reporter(ctx: Context, verb: str) -> Callable[[runner.Event], None]:
    """An engine `on_event` callback (called in the worker thread) that sends MCP progress notifications."""
    done = 0

    def on_event(event: runner.Event) -> None:
        nonlocal done
        if isinstance(event, runner.Started):
            message = f"{verb} {event.version}"
        elif isinstance(event, runner.Applied):
            done += 1
            message = f"{verb} {event.version}: done in {event.milliseconds} ms"
        elif isinstance(event, runner.Skipped):
            done += 1
            message = f"skipped {event.version}: {event.reason}"
        else:
            message = redact(event.reason)
        send_progress(ctx, done, message)

    return on_event


def send_progress(ctx: Context, done: int, message: str) -> None:
    """From the worker thread; best effort, so a client that went away cannot interrupt a migration mid-run."""
    try:
        message = redactor_of(ctx.mcp_server).text(message)
        anyio.from_thread.run(ctx.report_progress, done, None, message)
    except Exception:  # noqa: BLE001
        pass


def analyse(settings: Settings, migration: migration_files.MigrationFile) -> list[Finding]:
    from engine.analysis.lint import check_migration
    return list(check_migration(migration, settings))


def analyse_text(settings: Settings, path: Path, text: str) -> list[Finding]:
    from engine.analysis.lint import check_text
    return list(check_text(path, text, settings))


def check_result(findings: list[Finding], root: Path, shown: str | None) -> results.CheckResult:
    errors, warnings = results.count(findings, Severity.ERROR), results.count(findings, Severity.WARNING)
    what = shown or "the SQL"
    summary = (f"{what}: {errors} error(s), {warnings} warning(s)" if findings else f"{what}: no findings")
    if errors:
        summary += "; migrate would refuse to run until the errors are fixed"
    return results.CheckResult(path=shown, ok=errors == 0, errors=errors, warnings=warnings,
                               findings=results.findings_of(findings, root), summary=summary)


def plan_result(plan: runner.RollbackPlan, root: Path) -> list[results.RollbackStepResult]:
    return [results.RollbackStepResult(**step) for step in plan.to_dict(root)["steps"]]


def register_tools(server: MCPServer, settings: Settings, *, read_only: bool) -> None:
    """Register the tools this server offers: the read-only ones always, the others unless `read_only`."""
    root = settings.project_root

    @server.tool(name="list_migrations", title="List migrations", description=texts.LIST, annotations=READ_ONLY)
    @tool_errors(root, results.ListMigrationsResult)
    async def list_migrations() -> results.ListMigrationsResult:
        report = await in_thread(lambda: status.list_migrations(settings))
        return results.ListMigrationsResult.of(report, root)

    @server.tool(name="check_migration", title="Check a migration", description=texts.CHECK, annotations=READ_ONLY)
    @tool_errors(root, results.CheckResult)
    async def check_migration(
        path: Annotated[str | None, Field(description="a migration file, e.g. migrations/2025-01-17_1430_add_x.sql")] = None,
        sql: Annotated[str | None, Field(description="SQL text to analyse without writing a file")] = None,
    ) -> results.CheckResult:
        if (path is None) == (sql is None):
            raise UsageError("give exactly one of `path` (a migration file) or `sql` (text to check)")
        if path is not None:
            file = migration_path(settings, path)
            migration = await in_thread(lambda: migration_files.read_migration(file))
            return check_result(await in_thread(lambda: analyse(settings, migration)), root, relative(file, root))
        sql = sql_argument("sql", sql)
        # A well-named virtual file, so only the SQL is judged; the findings carry no path.
        virtual = settings.migrations_dir / "2000-01-01_0000_sql.sql"
        findings = await in_thread(lambda: analyse_text(settings, virtual, sql))
        return check_result([dataclasses.replace(f, path=None) for f in findings], root, None)

    @server.tool(name="table_history", title="History of a table", description=texts.HISTORY,
                 annotations=READ_ONLY)
    @tool_errors(root, results.HistoryResult)
    async def table_history(
        name: Annotated[str, Field(description="a table, view or sequence: NAME or SCHEMA.NAME")],
    ) -> results.HistoryResult:
        from engine.analysis.relations import Relation, references
        relation = Relation.parse(name)
        refs = await in_thread(lambda: references(migration_files.discover(settings.migrations_dir), relation))
        files = len({r.path for r in refs})
        summary = (f"{relation.qualified} is named in {files} migration(s)" if refs else
                   f"no migration names {relation.qualified}")
        return results.HistoryResult(relation=relation.qualified, summary=summary,
                                     references=[results.HistoryEntry(**r.to_dict(root)) for r in refs])

    if read_only:
        return

    @server.tool(name="new_migration", title="Create a migration file", description=texts.NEW,
                 annotations=_hints(destructive=False, idempotent=False))
    @tool_errors(root, results.NewMigrationResult)
    async def new_migration(
        description: Annotated[str, Field(description="a few words saying what the change does")],
        sql: Annotated[str | None, Field(description="the forward SQL: one change")] = None,
        rollback_sql: Annotated[str | None, Field(description="SQL that undoes it (uncommented; pgshift "
                                                              "comments it out); inferred when omitted")] = None,
        no_transaction: Annotated[bool, Field(description="run outside a transaction (CONCURRENTLY)")] = False,
    ) -> results.NewMigrationResult:
        sql, rollback_sql = sql_argument("sql", sql), sql_argument("rollback_sql", rollback_sql)
        made = await in_thread(lambda: scaffold.new_migration(
            settings, clean_description(description), sql=sql, rollback_sql=rollback_sql,
            no_transaction=no_transaction))
        migration = migration_files.parse_migration(made.path, made.text)
        findings = await in_thread(lambda: analyse(settings, migration))
        inferred = rollback_sql is None and bool(sql) and migration.has_rollback
        shown = relative(made.path, root)
        summary = f"created {shown}" + ("" if migration.has_rollback else
                                        "; its ROLLBACK block is a TODO: write the SQL that undoes the change")
        return results.NewMigrationResult(path=shown, version=migration.version, text=made.text,
                                          findings=results.findings_of(findings, root), rollback_inferred=inferred,
                                          summary=summary)

    register_migrate(server, settings)

    @server.tool(name="verify_migration", title="Verify a migration's rollback", description=texts.VERIFY,
                 annotations=_hints(destructive=False, idempotent=True))
    @tool_errors(root, results.VerifyResult)
    async def verify_migration(
        ctx: Context,
        version: Annotated[str, Field(description="the migration's version: its file name without .sql")],
    ) -> results.VerifyResult:
        from engine.shadow.verify import verify

        def on_progress(message: str, verdict: Any) -> None:
            send_progress(ctx, 0, redact(message))

        done = await in_thread(lambda: verify(settings, [version], on_progress=on_progress))
        data = done.to_dict(root)
        verdicts = [results.VerificationResult(**{**m, "message": redact(m["message"]), "findings": []})
                    for m in data["migrations"]]
        for verdict, migration in zip(verdicts, done.migrations):
            verdict.findings = results.findings_of(list(migration.findings), root)
        summary = "; ".join(
            f"{v.version}: verified, the ROLLBACK restores the schema" if v.ok else
            f"{v.version}: forward SQL works; {v.message}" if v.status == "no-rollback"
            else f"{v.version}: FAILED at {v.step}: {v.message}" for v in verdicts)
        return results.VerifyResult(ok=done.ok, scratch_server=redact(done.scratch_server),
                                    migrations=verdicts, summary=summary)

    @server.tool(name="snapshot", title="Write DATABASE.md", description=texts.SNAPSHOT,
                 annotations=_hints(destructive=False, idempotent=True))
    @tool_errors(root, results.SnapshotResult)
    async def snapshot() -> results.SnapshotResult:
        from engine.database.snapshot import snapshot as write_snapshot
        made = await in_thread(lambda: write_snapshot(settings))
        shown = relative(made.path, root)
        return results.SnapshotResult(path=shown, changed=made.changed, text=made.text,
                                      summary=f"wrote {shown}" if made.changed else f"{shown} is up to date")

    @server.tool(name="backup", title="Back up the database", description=texts.BACKUP,
                 annotations=_hints(destructive=False, idempotent=False))
    @tool_errors(root, results.BackupResult)
    async def backup() -> results.BackupResult:
        from engine.database.backup import backup as dump
        made = await in_thread(lambda: dump(settings))
        data = made.to_dict(root)
        size = f"{made.bytes / 1_000_000:.1f} MB" if made.bytes >= 100_000 else f"{made.bytes:,} bytes"
        return results.BackupResult(path=data["path"], bytes=made.bytes, seconds=data["seconds"],
                                    database=redact(made.database), pg_dump=data["pg_dump"],
                                    summary=f"wrote {data['path']} ({size}); restore it with psql -f if needed")

    if settings.allow_rollback:
        register_rollback(server, settings)


def terminal_command(settings: Settings, arguments: str) -> str:
    """The command a person runs instead, in this project (and against the server's database)."""
    command = f"pgshift -C {shlex.quote(str(settings.project_root))} {arguments}"
    if settings.database_source == "--database-url":
        command += " (with the --database-url the MCP server was started with)"
    return command


def register_migrate(server: MCPServer, settings: Settings) -> None:
    """The migrate tool; a real run that `mcp_confirm_migrate` gates asks the person (server.mcp.migrate_gate)."""
    root = settings.project_root
    tokens = confirmation.ConfirmationTokens(confirmation.ttl_from_environment(), tool="migrate")

    def planned(dry_run: bool = False, to: str | None = None) -> migrate_gate.MigratePlan | PgshiftError | None:
        # Only a real run is gated. A plan that cannot be made is an error the body raises: the gate fails
        # closed, never letting a real run through because the question could not be prepared.
        if dry_run:
            return None
        try:
            plan = migrate_gate.plan_migrate(settings, to)
        except PgshiftError as error:
            return error
        return plan if plan.needs_confirmation(settings.mcp_confirm_migrate) else None

    def asked(ctx: Context, plan: Annotated[migrate_gate.MigratePlan | PgshiftError | None, Resolve(planned)]
              ) -> Elicit[migrate_gate.ConfirmMigrate] | None:
        gated = isinstance(plan, migrate_gate.MigratePlan)
        if not gated or not confirmation.client_can_elicit(ctx.client_capabilities):
            return None
        return Elicit(plan.describe(root), migrate_gate.ConfirmMigrate)

    @server.tool(name="migrate", title="Apply pending migrations",
                 description=texts.migrate_description(settings.mcp_confirm_migrate, settings.mcp_confirmation_tokens),
                 annotations=_hints(destructive=True, idempotent=True))
    @tool_errors(root, results.MigrateResult)
    async def migrate(
        plan: Annotated[migrate_gate.MigratePlan | PgshiftError | None, Resolve(planned)],
        answer: Annotated[ElicitationResult[migrate_gate.ConfirmMigrate], Resolve(asked)],
        ctx: Context,
        dry_run: Annotated[bool, Field(description="try everything in a transaction that is rolled back; do "
                                                   "this first")] = False,
        to: Annotated[str | None, Field(description="stop after this version (file name without .sql)")] = None,
        confirmation_token: Annotated[str | None, Field(
            description="only where the project enables confirmation tokens: from a previous call's result, "
                        "after the user explicitly said yes")] = None,
    ) -> results.MigrateResult:
        if isinstance(plan, PgshiftError):
            raise plan
        if plan is not None:
            decision = confirmation.decision_of(answer)
            if decision == "not-asked":
                if not settings.mcp_confirmation_tokens:
                    raise confirmation.cannot_ask("migrate", plan.describe(root),
                                                  terminal_command(settings, f"migrate --to {plan.last_version}"))
                if confirmation_token is None:
                    return results.MigrateResult(
                        status="confirmation_required", database=redact(plan.database), dry_run=False,
                        applied=[], skipped=[], notes=[], planned=planned_result(plan, root),
                        confirmation_token=tokens.issue(plan), expires_in_seconds=int(tokens.ttl_seconds),
                        summary="Nothing was applied yet. Show the user these migrations and their exact SQL, ask "
                                "whether to apply them, and only if they explicitly say yes call migrate again "
                                "with the same arguments and this confirmation_token.")
                tokens.redeem(confirmation_token, plan)
            elif decision != "yes":
                raise confirmation.refuse(decision, "migrate")
            else:  # the answer may have taken minutes: run only what the user saw
                current = await in_thread(lambda: migrate_gate.plan_migrate(settings, to))
                confirmation.require_same_plan(plan, current, "migrate")
            to = plan.last_version  # a file saved meanwhile was not shown, so it does not run
        report = progress_reporter(ctx, "trying" if dry_run else "applying")
        done = await in_thread(lambda: runner.migrate(settings, dry_run=dry_run, to=to, on_event=report))
        data = done.to_dict(root)
        n = len(done.applied)
        summary = ("Nothing to migrate: the database is up to date." if not done.applied and not done.skipped else
                   f"Dry run: {n} migration(s) would apply; nothing was changed." if dry_run else
                   f"Applied {n} migration(s). Run snapshot to refresh DATABASE.md.")
        return results.MigrateResult(status="dry_run" if dry_run else "applied",
                                     database=redact(data["database"]), dry_run=dry_run,
                                     applied=[results.AppliedResult(**a) for a in data["applied"]],
                                     skipped=data["skipped"], notes=data["notes"], summary=summary)


def planned_result(plan: migrate_gate.MigratePlan, root: Path) -> list[results.PlannedMigrationResult]:
    return [results.PlannedMigrationResult(version=step.version, path=relative(step.path, root), sql=step.sql,
                                           data_loss=list(step.data_loss)) for step in plan.steps]


def register_rollback(server: MCPServer, settings: Settings) -> None:
    """The rollback tool; its confirmation flows live in server.mcp.confirmation."""
    root = settings.project_root
    tokens = confirmation.ConfirmationTokens(confirmation.ttl_from_environment())

    def planned(steps: int, to: str | None) -> confirmation.PlannedRollback:
        # Runs before the tool body (and again on each elicitation round); errors are kept for the body to raise.
        try:
            return confirmation.PlannedRollback(runner.plan_rollback(settings, steps=steps, to=to))
        except PgshiftError as error:
            return confirmation.PlannedRollback(None, error)

    def asked(ctx: Context, plan: Annotated[confirmation.PlannedRollback, Resolve(planned)]
              ) -> Elicit[confirmation.ConfirmRollback] | None:
        if plan.plan is None or not confirmation.client_can_elicit(ctx.client_capabilities):
            return None
        question = redactor_of(ctx.mcp_server).text(confirmation.describe_plan(plan.plan, root))
        return Elicit(question, confirmation.ConfirmRollback)

    @server.tool(name="rollback", title="Roll back migrations (asks the user)",
                 description=texts.rollback_description(settings.mcp_confirmation_tokens),
                 annotations=_hints(destructive=True, idempotent=False))
    @tool_errors(root, results.RollbackResult)
    async def rollback(
        plan: Annotated[confirmation.PlannedRollback, Resolve(planned)],
        answer: Annotated[ElicitationResult[confirmation.ConfirmRollback], Resolve(asked)],
        ctx: Context,
        steps: Annotated[int, Field(ge=1, description="how many of the newest applied migrations")] = 1,
        to: Annotated[str | None, Field(description="roll back every migration after this version")] = None,
        confirmation_token: Annotated[str | None, Field(
            description="only where the project enables confirmation tokens: from a previous call's result, "
                        "after the user explicitly said yes")] = None,
    ) -> results.RollbackResult:
        if plan.error is not None:
            raise plan.error
        decision = confirmation.decision_of(answer)
        if decision == "not-asked":
            if not settings.mcp_confirmation_tokens:
                arguments = f"rollback --to {to}" if to is not None else f"rollback --steps {steps}"
                raise confirmation.cannot_ask("rollback", plan.plan.describe(),
                                              terminal_command(settings, arguments))
            if confirmation_token is None:
                token = tokens.issue(plan.plan)
                return results.RollbackResult(
                    status="confirmation_required", database=redact(plan.plan.database),
                    plan=plan_result(plan.plan, root), confirmation_token=token,
                    expires_in_seconds=int(tokens.ttl_seconds),
                    summary="Nothing was rolled back yet. Show the user these migrations and the exact SQL, ask "
                            "whether to roll back, and only if they explicitly say yes call rollback again with "
                            "the same arguments and this confirmation_token.")
            tokens.redeem(confirmation_token, plan.plan)
        elif decision != "yes":
            raise confirmation.refuse(decision)
        else:  # the user may have taken minutes to answer: run only if the plan is still the one they saw
            current = await in_thread(lambda: runner.plan_rollback(settings, steps=steps, to=to))
            confirmation.require_same_plan(plan.plan, current)
        report = progress_reporter(ctx, "rolling back")
        done = await in_thread(lambda: runner.rollback(settings, plan.plan, on_event=report))
        return results.RollbackResult(
            status="rolled_back", database=redact(done.database), plan=plan_result(plan.plan, root),
            rolled_back=done.rolled_back,
            summary=f"Rolled back {len(done.rolled_back)} migration(s). Run snapshot to refresh DATABASE.md.")

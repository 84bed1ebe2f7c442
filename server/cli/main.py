"""Entry point: global options, command discovery, and the one place engine errors become exit codes."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from pathlib import Path
from types import ModuleType

from engine.redaction import redact
from engine.errors import FileSystemError, PgshiftError
from server.cli import commands as commands_package
from server.cli.context import CliContext

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def discover_commands(only: str | None = None) -> list[ModuleType]:
    """Every module in server/cli/commands with a NAME, ordered by its ORDER (then name).

    With `only` naming a command module, just that one: a command does not pay for importing the others
    (the editor starts `pgshift lsp`, CI runs `pgshift check`). Anything else (an alias, a typo) gets them all.
    """
    names = [info.name for info in pkgutil.iter_modules(commands_package.__path__)]
    if only in names:
        module = importlib.import_module(f"{commands_package.__name__}.{only}")
        if getattr(module, "NAME", None) == only and hasattr(module, "run"):
            return [module]
    modules = []
    for info in pkgutil.iter_modules(commands_package.__path__):
        module = importlib.import_module(f"{commands_package.__name__}.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            modules.append(module)
    return sorted(modules, key=lambda m: (getattr(m, "ORDER", 50), m.NAME))


_VALUE_OPTIONS = frozenset({"-C", "--project", "--database-url", "--migrations-dir"})


def command_word(argv: list[str]) -> str | None:
    """The command a command line names, when plain to see: the first word after the global options.

    None (so every command is loaded and argparse decides) for anything unusual: help, an abbreviated or
    unknown option, no command.
    """
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in _VALUE_OPTIONS:
            i += 2
        elif token == "--json" or ("=" in token and token.split("=", 1)[0] in _VALUE_OPTIONS):
            i += 1
        elif token.startswith("-"):
            return None
        else:
            return token
    return None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's default exits 2 already; keep its text but add help
        self.print_usage(sys.stderr)
        print(f"pgshift: error[usage]: {message}\n  help: see '{self.prog} --help'", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def add_global_options(parser: argparse.ArgumentParser, *, default: object = None) -> None:
    """Options every command takes, accepted before or after the command's name (`pgshift migrate -C app`)."""
    parser.add_argument("-C", "--project", metavar="DIR", default=default,
                        help="project folder (default: the current folder)")
    parser.add_argument("--database-url", metavar="URL", default=default,
                        help="PostgreSQL URL (default: DATABASE_URL, [tool.pgshift] database_url, PG* variables, "
                             "else the embedded development database)")
    parser.add_argument("--migrations-dir", metavar="DIR", default=default,
                        help="migrations folder (default: migrations)")
    parser.add_argument("--json", action="store_true", default=False if default is None else default,
                        help="print one JSON document instead of text")


def build_parser(modules: list[ModuleType]) -> argparse.ArgumentParser:
    parser = _Parser(prog="pgshift", description="PostgreSQL migrations: plain SQL files, checked, tracked and "
                                                 "reversible, from the terminal, the editor and the AI assistant.")
    add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in modules:
        command = sub.add_parser(module.NAME, aliases=getattr(module, "ALIASES", []), help=module.HELP,
                                 description=(module.__doc__ or module.HELP).strip())
        add_global_options(command.add_argument_group("global options"), default=argparse.SUPPRESS)
        module.add_arguments(command)
        command.set_defaults(handler=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    modules = discover_commands(command_word(sys.argv[1:] if argv is None else argv))
    parser = build_parser(modules)
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    args.project_given = args.project is not None
    ctx = CliContext(cwd=Path(args.project or "."), database_url=args.database_url,
                     migrations_dir=args.migrations_dir, json_output=args.json,
                     create_migrations_dir=getattr(args.handler, "CREATES_MIGRATIONS_DIR", False))
    try:
        return int(args.handler.run(args, ctx) or EXIT_OK)
    except PgshiftError as error:
        report_error(ctx, error)
        return error.exit_code
    except KeyboardInterrupt:
        print("pgshift: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `pgshift list | head`: the reader went away; stop quietly, as `ls | head` does
        _silence_stdout()
        return EXIT_FAILURE
    except OSError as error:  # the file system refused a file or folder the command needs: say which, exit 2
        failure = FileSystemError.from_os_error(error)
        report_error(ctx, failure)
        return failure.exit_code
    finally:
        _flush(ctx)


def _flush(ctx: CliContext) -> None:
    """Text a command wrote without a final newline is still held by the redacting streams."""
    for stream in (ctx.stdout, ctx.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # the reader went away, or the stream was closed
            pass


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the flush at exit does not fail on the closed pipe a second time."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def report_error(ctx: CliContext, error: PgshiftError) -> None:
    """`path:line:col: error[code]: message` for located problems, then the error itself with its remedy."""
    root = ctx._settings.project_root if ctx._settings else None
    for finding in error.findings:
        print(redact(finding.render(root)), file=ctx.stderr)
    print(f"pgshift: error[{error.code}]: {redact(error.message)}", file=ctx.stderr)
    if error.help:
        print(f"  help: {redact(error.help)}", file=ctx.stderr)
    if ctx.json_output:
        ctx.emit_json({"ok": False, "error": {"code": error.code, "message": redact(error.message),
                                              "help": redact(error.help) if error.help else None,
                                              "findings": [f.to_dict(root) for f in error.findings]}})


if __name__ == "__main__":
    sys.exit(main())

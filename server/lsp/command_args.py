"""Strict arguments for the `pgshift.*` commands: an unknown key or a wrong type is an error, and nothing runs.

A command that ignored what it did not know once applied a migration asked for as `{"dry_run": true}` (the
option is `dryRun`). Every command's arguments are declared here, checked before anything happens, and listed
in docs/editors.md from `usage()` (tests/lsp/test_command_args.py keeps the two equal).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any, Sequence


class CommandArgumentError(ValueError):
    """What is wrong with a command's arguments, in words for the person who ran it."""


@dataclass(frozen=True)
class Value:
    """One argument or option: its JSON type ("string", "boolean", "positive integer") and whether null is ok."""

    name: str
    kind: str
    required: bool = False
    nullable: bool = False

    def check(self, value: Any, where: str) -> Any:
        if value is None and self.nullable:
            return None
        if self.kind == "boolean" and isinstance(value, bool):
            return value
        if self.kind == "string" and isinstance(value, str) and value:
            return value
        if (self.kind == "positive integer" and isinstance(value, int) and not isinstance(value, bool)
                and value >= 1):
            return value
        article = "an" if self.kind[0] in "aeiou" else "a"
        raise CommandArgumentError(f"{where} must be {article} {'non-empty ' if self.kind == 'string' else ''}"
                                   f"{self.kind}{' or null' if self.nullable else ''}, not {_show(value)}")

    def usage(self) -> str:
        return f"{self.name}{'' if self.required else '?'}: {self.kind}{' | null' if self.nullable else ''}"


@dataclass(frozen=True)
class Spec:
    """A command's arguments: positional values, then (for verify) any number more, then an options object."""

    name: str
    positional: tuple[Value, ...] = ()
    rest: Value | None = None
    options: tuple[Value, ...] = ()

    def usage(self) -> str:
        parts = [v.usage() for v in self.positional]
        if self.rest is not None:
            parts.append(f"{self.rest.name}…: {self.rest.kind}")
        if self.options:
            parts.append("{" + ", ".join(o.usage() for o in self.options) + "}")
        return f"`{self.name}` [" + ", ".join(parts) + "]"


@dataclass(frozen=True)
class Arguments:
    positional: dict[str, Any] = field(default_factory=dict)
    rest: list[Any] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)


URI = Value("uri", "string")
SPECS = {spec.name: spec for spec in (
    Spec("pgshift.migrate", options=(URI, Value("dryRun", "boolean"), Value("to", "string"),
                                     Value("allowOutOfOrder", "boolean"))),
    Spec("pgshift.list", options=(URI,)),
    Spec("pgshift.rollback", options=(URI, Value("steps", "positive integer"), Value("to", "string"))),
    Spec("pgshift.new", positional=(Value("description", "string"), Value("sql", "string", nullable=True)),
         options=(URI,)),
    Spec("pgshift.snapshot", options=(URI,)),
    Spec("pgshift.verify", rest=Value("version", "string"), options=(URI,)),
    Spec("pgshift.open", positional=(Value("uri", "string", required=True),)),
    Spec("pgshift.renameFile", positional=(Value("uri", "string", required=True),
                                           Value("newUri", "string", required=True))),
)}


def parse(name: str, arguments: Sequence[Any] | None) -> Arguments:
    """The command's arguments checked against its spec, or CommandArgumentError saying what is wrong."""
    spec = SPECS[name]
    items = list(arguments or [])
    options: dict[str, Any] = {}
    if items and isinstance(items[-1], dict):
        given = items.pop()
        if not spec.options:
            raise CommandArgumentError(f"{name} takes no options object, but got {_show(given)}")
        known = {o.name: o for o in spec.options}
        for key, value in given.items():
            option = known.get(key)
            if option is None:
                close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise CommandArgumentError(f"{name}: unknown option '{key}'{hint}; the options are "
                                           + ", ".join(known))
            options[key] = option.check(value, f"{name}: option '{key}'")
    result = Arguments(options=options)
    for index, value in enumerate(items):
        if isinstance(value, dict):
            raise CommandArgumentError(f"{name}: only the last argument may be an options object "
                                       f"(argument {index + 1} is {_show(value)})")
        if index < len(spec.positional):
            declared = spec.positional[index]
            result.positional[declared.name] = declared.check(value, f"{name}: argument {index + 1} "
                                                                     f"({declared.name})")
        elif spec.rest is not None:
            result.rest.append(spec.rest.check(value, f"{name}: argument {index + 1} ({spec.rest.name})"))
        else:
            raise CommandArgumentError(f"{name} takes at most {len(spec.positional)} argument(s) before its "
                                       f"options, but got {len(items)}")
    for index, declared in enumerate(spec.positional):
        if declared.required and declared.name not in result.positional:
            raise CommandArgumentError(f"{name}: argument {index + 1} ({declared.name}) is missing")
    return result


def usage(name: str) -> str:
    return SPECS[name].usage()


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."

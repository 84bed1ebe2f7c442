"""The rule registry: each rule module registers itself with `@rule(id, severity)`; its docstring is its doc."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from dataclasses import dataclass
from typing import Callable, Iterable

from engine.analysis.findings import Severity

STATEMENT, FILE = "statement", "file"


@dataclass(frozen=True)
class Rule:
    """One check. `kinds` limits a statement rule to parse-tree node kinds (None: every statement)."""

    id: str
    severity: Severity
    doc: str
    scope: str
    kinds: frozenset[str] | None
    check: Callable[..., Iterable]

    @property
    def summary(self) -> str:
        first = self.doc.strip().split("\n", 1)[0]
        return first.split(":", 1)[1].strip() if first.startswith(self.id + ":") else first


_registry: dict[str, Rule] = {}
_loaded = False


def rule(rule_id: str, severity: Severity, *, kinds: Iterable[str] | None = None, scope: str = STATEMENT):
    """Register the decorated function as rule `rule_id`; the id is written here and nowhere else."""

    def register(function: Callable) -> Callable:
        module = sys.modules[function.__module__]
        if rule_id in _registry and _registry[rule_id].check is not function:
            raise RuntimeError(f"rule id {rule_id!r} registered twice")
        _registry[rule_id] = Rule(rule_id, severity, (module.__doc__ or "").strip(), scope,
                                  frozenset(kinds) if kinds is not None else None, function)
        return function

    return register


def all_rules() -> dict[str, Rule]:
    """Every rule, by id, in a stable (alphabetical) order; rule modules are imported on first use."""
    global _loaded
    if not _loaded:
        for info in pkgutil.iter_modules(__path__):
            if not info.name.startswith("_") and info.name != "docs":
                importlib.import_module(f"{__name__}.{info.name}")
        _loaded = True
    return dict(sorted(_registry.items()))

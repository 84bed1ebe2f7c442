"""Every code pgshift can report, read from the source of engine/ and server/ (ast), not from a list.

Found: the code of each `Finding(...)` (a literal, a constant, or a parameter or variable traced back to its
literals), every `code="..."` keyword (`ErrorResult(code=...)`, `replace(finding, code=...)`), every class's
`code = "..."` (the error family), and `error[...]` written out in a string (not a docstring). A lint rule's `rule.id` is
left to the rule registry. A code this cannot trace is reported, so that a new code cannot hide from the
documentation test.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCUMENTATION = REPO / "engine" / "analysis" / "codes.py"  # it writes codes as it documents them: not an emitter
_ERROR_TEXT_RE = re.compile(r"error\[([a-z0-9-]+)\]")
_Function = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass
class Codes:
    found: dict[str, str] = field(default_factory=dict)  # code -> first place, path:line
    untraced: list[str] = field(default_factory=list)  # places whose code could not be traced to literals


def emitted_codes(folders: tuple[Path, ...] = (REPO / "engine", REPO / "server")) -> Codes:
    modules = {path: ast.parse(path.read_text(encoding="utf-8"), str(path))
               for folder in folders for path in sorted(folder.rglob("*.py")) if path != DOCUMENTATION}
    constants: dict[str, set[str]] = {}
    for tree in modules.values():
        for name, value in _module_constants(tree).items():
            constants.setdefault(name, set()).add(value)
    codes = Codes()
    for path, tree in modules.items():
        _Module(path, tree, constants, codes).scan()
    return codes


def _module_constants(tree: ast.Module) -> dict[str, str]:
    return {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            for target in node.targets if isinstance(target, ast.Name)}


class _Module:
    def __init__(self, path: Path, tree: ast.Module, constants: dict[str, set[str]], codes: Codes) -> None:
        self.path, self.tree, self.codes = path, tree, codes
        self.local_constants = _module_constants(tree)
        self.constants = constants
        self.parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def where(self, node: ast.AST) -> str:
        shown = self.path.relative_to(REPO) if self.path.is_relative_to(REPO) else self.path
        return f"{shown}:{getattr(node, 'lineno', 0)}"

    def add(self, found: set[str], node: ast.AST) -> None:
        for code in found:
            self.codes.found.setdefault(code, self.where(node))

    def scan(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ClassDef):
                for statement in node.body:
                    if (isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant)
                            and any(isinstance(t, ast.Name) and t.id == "code" for t in statement.targets)):
                        self.add({statement.value.value}, statement)
            elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and not isinstance(self.parents.get(node), ast.Expr)):  # a docstring says `error[code]`
                self.add(set(_ERROR_TEXT_RE.findall(node.value)), node)
            elif isinstance(node, ast.Call):
                self.scan_call(node)

    def scan_call(self, call: ast.Call) -> None:
        name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)
        argument = next((k.value for k in call.keywords if k.arg == "code"), None)
        if name == "Finding" and argument is None and call.args:
            argument = call.args[0]
        if argument is None:
            return
        if name != "Finding" and not isinstance(argument, ast.Constant):
            return  # `code=` of something else, passed along (e.g. ErrorResult(code=error.code))
        if isinstance(argument, ast.Attribute) and argument.attr == "id":
            return  # a lint rule's id: documented by the rule itself
        found = self.trace(argument, call)
        if found is None:
            self.codes.untraced.append(f"{self.where(call)}: {ast.unparse(argument)}")
        else:
            self.add(found, call)

    def trace(self, expr: ast.AST, at: ast.AST, depth: int = 0) -> set[str] | None:
        """The string literals `expr` can be, or None when that cannot be told from the source."""
        if depth > 6:
            return None
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.IfExp):
            return self.union([expr.body, expr.orelse], at, depth)
        if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Dict):
            return self.union(list(expr.value.values), at, depth)
        if not isinstance(expr, ast.Name):
            return None
        function = self.enclosing(at)
        if function is not None:
            assigned = [node.value for node in ast.walk(function) if isinstance(node, ast.Assign)
                        and any(isinstance(t, ast.Name) and t.id == expr.id for t in node.targets)]
            if assigned:
                return self.union(assigned, function, depth)
            parameters = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
            keyword_only = [a.arg for a in function.args.kwonlyargs]
            if expr.id in parameters or expr.id in keyword_only:
                return self.from_callers(function, expr.id, parameters, depth)
        if expr.id in self.local_constants:
            return {self.local_constants[expr.id]}
        if len(self.constants.get(expr.id, ())) == 1:  # imported from another module
            return set(self.constants[expr.id])
        return None

    def union(self, exprs: list[ast.AST], at: ast.AST, depth: int) -> set[str] | None:
        found: set[str] = set()
        for expr in exprs:
            traced = self.trace(expr, at if not isinstance(at, _Function) else expr, depth + 1)
            if traced is None:
                return None
            found |= traced
        return found

    def from_callers(self, function: ast.AST, parameter: str, positional: list[str], depth: int) -> set[str] | None:
        calls = [c for c in ast.walk(self.tree) if isinstance(c, ast.Call)
                 and isinstance(c.func, ast.Name) and c.func.id == function.name]  # type: ignore[attr-defined]
        if not calls:
            return None
        found: set[str] = set()
        for call in calls:
            argument = next((k.value for k in call.keywords if k.arg == parameter), None)
            if argument is None and parameter in positional and positional.index(parameter) < len(call.args):
                argument = call.args[positional.index(parameter)]
            traced = self.trace(argument, call, depth + 1) if argument is not None else None
            if traced is None:
                return None
            found |= traced
        return found

    def enclosing(self, node: ast.AST) -> ast.AST | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, _Function):
                return node
        return None

"""`pgshift check`: parse each migration once, run every rule, apply settings and ignores, sort by position."""

from __future__ import annotations

import functools

import re
from dataclasses import dataclass, field
from pathlib import Path

from engine.config import Settings
from engine.errors import ConfigError, UsageError
from engine.analysis.files import MigrationFile, discover, parse_migration, read_migration
from engine.analysis.findings import Finding, LineIndex, Severity, has_errors
from engine.analysis.rules import FILE, Rule, all_rules
from engine.analysis.rules._support import Context, Report, State, relation_key
from engine.analysis.sql import (LocatedStatement, analyse, parsable, parse_tree_json, skip_blanks_and_comments, split_chunks,
                        top_level_marker)

# Problems found by engine.analysis.files (the file format) rather than by a rule; configurable like rules.
FORMAT_CODES = ("file-name", "rollback-not-commented", "misplaced-directive", "file-unreadable", "file-encoding")
# A file pgshift cannot read, or whose text PostgreSQL cannot receive, can never run correctly: these cannot be
# turned off or ignored (a NUL byte would make the server run only the part before it; issue 10, 1).
UNREADABLE_CODES = frozenset({"file-unreadable", "file-encoding"})
IGNORE_RE = re.compile(r"^\s*--\s*pgshift-ignore(?P<file>-file)?\s+(?P<codes>[A-Za-z0-9_-]+(?:\s*,\s*[A-Za-z0-9_-]+)*)"
                       r"\s*(?::\s*(?P<reason>.*))?$")
OFF = "off"


@dataclass(frozen=True)
class CheckResult:
    findings: list[Finding]
    files_checked: int
    paths: list[Path] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return has_errors(self.findings)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)


@dataclass(frozen=True)
class IgnoreComment:
    line: int
    codes: tuple[str, ...]
    whole_file: bool
    reason: str | None


def known_codes() -> set[str]:
    return set(all_rules()) | set(FORMAT_CODES)


def rule_levels(settings: Settings | None) -> dict[str, Severity | None]:
    """`[tool.pgshift.rules]` as id -> severity (None: off); unknown ids and levels are configuration errors."""
    if settings is None or not settings.rules:
        return {}
    known = known_codes()
    levels: dict[str, Severity | None] = {}
    for code, level in settings.rules.items():
        if code not in known:
            raise ConfigError(f"[tool.pgshift.rules]: unknown rule {code!r}",
                              help="see docs/rules.md for the rule ids")
        if level.strip().lower() == OFF:
            levels[code] = None
            continue
        try:
            levels[code] = Severity.parse(level)
        except ValueError as exc:
            raise ConfigError(f"[tool.pgshift.rules] {code}: {exc} (or off)") from None
    for code in UNREADABLE_CODES & set(levels):
        if levels[code] is not Severity.ERROR:
            raise ConfigError(f"[tool.pgshift.rules] {code} is always an error: pgshift cannot run a file it cannot "
                              "read or send to PostgreSQL", help=f"remove {code} from [tool.pgshift.rules]")
    return levels


@dataclass(frozen=True)
class RuleInfo:
    """One rule as a project sees it: `level` is its configured severity ([tool.pgshift.rules]), None if off."""

    id: str
    default: Severity
    level: Severity | None
    summary: str
    markdown: str  # the documentation: what it catches, why, and "Instead of" / "Use" examples


def rule_catalog(settings: Settings | None, ids: list[str] | None = None) -> list[RuleInfo]:
    """Every rule (or the named codes, in that order); an unknown code is a usage error naming the closest.

    A named code may be any code pgshift reports, not only a rule: its documentation is in engine/analysis/codes.py.
    """
    from engine.analysis.codes import code_docs
    from engine.analysis.rules.docs import render_rule
    rules = all_rules()
    others = code_docs()
    levels = rule_levels(settings)
    for rule_id in ids or ():
        if rule_id not in rules and rule_id not in others:
            import difflib
            close = difflib.get_close_matches(rule_id, [*rules, *others], n=1)
            raise UsageError(f"no rule {rule_id!r}" + (f"; did you mean {close[0]!r}?" if close else ""),
                             help="`pgshift rules` lists the rules; docs/rules.md every code")
    if not ids:
        return [RuleInfo(r.id, r.severity, levels.get(r.id, r.severity), r.summary, render_rule(r))
                for r in rules.values()]
    chosen = []
    for code in ids:
        if code in rules:
            r = rules[code]
            chosen.append(RuleInfo(r.id, r.severity, levels.get(r.id, r.severity), r.summary, render_rule(r)))
        else:
            doc = others[code]
            chosen.append(RuleInfo(code, doc.severity, levels.get(code, doc.severity), doc.summary, doc.markdown))
    return chosen


def documented_codes() -> set[str]:
    """Every code with documentation in rule_catalog: the rules and the codes of engine/analysis/codes.py."""
    from engine.analysis.codes import code_docs
    return set(all_rules()) | set(code_docs())


def check_text(path: Path, text: str, settings: Settings | None = None) -> list[Finding]:
    """All findings for unsaved editor text; statements whose text did not change are not parsed again."""
    return check_migration(parse_migration(path, text), settings)


@functools.lru_cache(maxsize=32)
def _dispatch(off: frozenset[str]) -> tuple[dict[str, list[Rule]], list[Rule], list[Rule]]:
    """Rules by statement kind (plus the ones for every statement) and file-scope rules, minus disabled ones.

    Computed once per rule configuration: the editor lints on every keystroke, `migrate` every pending file.
    """
    by_kind: dict[str, list[Rule]] = {}
    every: list[Rule] = []
    file_rules: list[Rule] = []
    for rule in all_rules().values():
        if rule.id in off:
            continue
        if rule.scope == FILE:
            file_rules.append(rule)
        elif rule.kinds is None:
            every.append(rule)
        else:
            for kind in rule.kinds:
                by_kind.setdefault(kind, []).append(rule)
    for kind in by_kind:
        by_kind[kind] += every
    return by_kind, every, file_rules


@functools.lru_cache(maxsize=32)
def _tree_kinds(off: frozenset[str]) -> frozenset[str]:
    """Statement kinds whose parse trees the enabled rules read: decoded at once, the rest only if asked."""
    return frozenset(_dispatch(off)[0]) | _REMEMBERED


def check_migration(migration: MigrationFile, settings: Settings | None = None) -> list[Finding]:
    """All findings for one migration file, with settings and ignore comments applied, sorted by position."""
    levels = rule_levels(settings)
    if not migration.text and any(f.code in UNREADABLE_CODES for f in migration.findings):
        # Nothing was read (a folder, a dangling link, bad UTF-8): rules would only add noise like "empty".
        return sorted((_with_level(f, levels) for f in migration.findings if levels.get(f.code, f.severity)),
                      key=Finding.sort_key)
    off = frozenset(k for k, v in levels.items() if v is None)
    by_kind, every, file_rules = _dispatch(off)
    script = analyse(migration.forward_sql, _tree_kinds(off))
    rollback = analyse(migration.rollback_sql, _tree_kinds(off)) if migration.rollback_sql is not None else None
    index = LineIndex(migration.text)
    ctx = Context(migration, settings, script, rollback, index)
    path = migration.path
    found: list[Finding] = list(migration.findings)

    remember = _remember
    state = ctx.state
    for statement in script.statements:
        for rule in by_kind.get(statement.kind, every):
            for report in rule.check(statement, ctx):
                found.append(_finding(rule, report, ctx, path))
        remember(state, statement)
    ctx.state = State()
    for rule in file_rules:
        for report in rule.check(ctx):
            found.append(_finding(rule, report, ctx, path))

    ignores = _ignore_comments(migration.text) if "pgshift-ignore" in migration.text else []
    rollback_ignores = _rollback_ignores(migration) if ignores or "pgshift-ignore" in (migration.rollback_sql or "") \
        else []
    if ignores or rollback_ignores:
        seen = {i.line for i in ignores}
        ignores += [i for i in rollback_ignores if i.line not in seen]
        found.extend(_unknown_ignored_codes(ignores, index, path))
        found = _apply_ignores(found, ignores, script.statements, index, _rollback_silenced(migration))
    if levels:
        found = [_with_level(f, levels) for f in found if levels.get(f.code, f.severity) is not None]
    found.sort(key=Finding.sort_key)
    return found


# File-scope error rules that a cheap look can rule out: the texts parse, and psql meta-commands need a `\`.
_SCREENABLE_FILE_RULES = frozenset({"syntax-error", "psql-meta-command"})


def error_findings(migration: MigrationFile, settings: Settings | None = None) -> list[Finding]:
    """Only the error-level findings of one migration: what `migrate` checks before it applies anything.

    Most files are shown to have none without building the analysis: both texts parse, neither holds a `\\`,
    and no top-level statement is of a kind that an error-level rule looks at. Any other file gets the full
    check, so the answer is always the same as `check_migration`'s errors.
    """
    levels = rule_levels(settings)
    markers = _error_screen(frozenset(levels.items()))
    if markers is not None and _screened_clean(migration, markers):
        found = [_with_level(f, levels) for f in migration.findings if levels.get(f.code, f.severity) is not None]
    else:
        found = check_migration(migration, settings)
    return [f for f in found if f.severity is Severity.ERROR]


@functools.lru_cache(maxsize=32)
def _error_screen(levels: frozenset[tuple[str, Severity | None]]) -> tuple[str, ...] | None:
    """Parse-tree markers of the statement kinds error-level rules look at; None if a rule cannot be screened."""
    effective = dict(levels)
    markers: set[str] = set()
    for rule in all_rules().values():
        if effective.get(rule.id, rule.severity) is not Severity.ERROR:
            continue
        if rule.scope == FILE:
            if rule.id not in _SCREENABLE_FILE_RULES:
                return None
        elif rule.kinds is None:
            return None
        else:
            markers.update(top_level_marker(kind) for kind in rule.kinds)
    return tuple(sorted(markers))


def _screened_clean(migration: MigrationFile, markers: tuple[str, ...]) -> bool:
    """Statement rules look at the forward SQL only; the rollback just has to parse and have no meta-command."""
    forward = _screened_tree(migration.forward_sql)
    if forward is None or any(marker in forward for marker in markers):
        return False
    return migration.rollback_sql is None or _screened_tree(migration.rollback_sql) is not None


def _screened_tree(text: str) -> str | None:
    return None if "\\" in text else parse_tree_json(text)


def _finding(rule: Rule, report: Report, ctx: Context, path: Path) -> Finding:
    if report.span is not None:
        span = report.span
    else:
        start = report.start or 0
        span = ctx.index.span(start, report.end if report.end is not None else start)
    return Finding(rule.id, rule.severity, report.message, path, span, report.help, report.fix)


def _with_level(finding: Finding, levels: dict[str, Severity | None]) -> Finding:
    level = levels.get(finding.code)
    if level is None or level is finding.severity:
        return finding
    from dataclasses import replace
    return replace(finding, severity=level)


_REMEMBERED = frozenset({"CreateStmt", "CreateTableAsStmt", "IndexStmt", "RenameStmt", "AlterTableStmt",
                         "VariableSetStmt"})


def _remember(state: State, statement: LocatedStatement) -> None:
    """Record what this statement created or validated, for the rules looking at later statements."""
    kind = statement.kind
    if kind not in _REMEMBERED:
        return  # most statements (INSERT, UPDATE, COMMENT, ...): no parse tree needed
    node = statement.node
    if kind == "CreateStmt" and node.get("relation"):
        state.created_tables.add(relation_key(node["relation"]))
    elif kind == "CreateTableAsStmt":
        relation = node.get("into", {}).get("IntoClause", node.get("into", {})).get("rel")
        if relation:
            state.created_tables.add(relation_key(relation))
    elif kind == "IndexStmt" and node.get("idxname"):
        state.created_indexes.add(((node.get("relation") or {}).get("schemaname"), node["idxname"]))
    elif kind == "RenameStmt" and node.get("renameType") == "OBJECT_TABLE" and node.get("relation"):
        schema, name = relation_key(node["relation"])
        if (schema, name) in state.created_tables:
            state.created_tables.add((schema, node.get("newname", "")))
    elif kind == "AlterTableStmt":
        table = (node.get("relation") or {}).get("relname", "")
        for command in node.get("cmds", []):
            command = command.get("AlterTableCmd", {})
            subtype = command.get("subtype")
            constraint = command.get("def", {}).get("Constraint", {})
            if subtype == "AT_AddConstraint" and constraint.get("skip_validation") and constraint.get("conname"):
                state.not_valid_constraints.add((table, constraint["conname"]))
            elif subtype == "AT_ValidateConstraint":
                state.validated_tables.add(table)
    elif kind == "VariableSetStmt" and node.get("name") == "lock_timeout":
        values = [a.get("A_Const", {}) for a in node.get("args", [])]
        zero = any(v.get("ival") == {} or v.get("sval", {}).get("sval", "").strip() in ("0", "0s", "0ms")
                   for v in values)
        state.lock_timeout_set = bool(values) and not zero


def ignored_codes(line: str) -> tuple[str, ...]:
    """The rule ids that a `-- pgshift-ignore` comment on this line names; none for any other line."""
    match = IGNORE_RE.match(line) if "pgshift-ignore" in line else None
    return _codes(match) if match else ()


def _codes(match: re.Match) -> tuple[str, ...]:
    return tuple(c.strip() for c in match.group("codes").split(","))


def _ignore_comments(text: str) -> list[IgnoreComment]:
    out = []
    for number, line in enumerate(text.split("\n")):
        if "pgshift-ignore" not in line:
            continue
        match = IGNORE_RE.match(line)
        if match:
            out.append(IgnoreComment(number, _codes(match), bool(match.group("file")), match.group("reason")))
    return out


def _unknown_ignored_codes(ignores: list[IgnoreComment], index: LineIndex, path: Path) -> list[Finding]:
    known = known_codes()
    out = []
    for ignore in ignores:
        for code in ignore.codes:
            if code not in known:
                out.append(Finding("unknown-rule", Severity.WARNING,
                                   f"'{code}' is not a pgshift rule, so this ignore comment ignores nothing", path,
                                   index.line_span(ignore.line), help="use a rule id from docs/rules.md"))
    return out


def _rollback_ignores(migration: MigrationFile) -> list[IgnoreComment]:
    """Ignore comments of the rollback SQL (`-- -- pgshift-ignore RULE` in the file), at their file lines."""
    if migration.rollback_sql is None or "pgshift-ignore" not in migration.rollback_sql:
        return []
    return [IgnoreComment(migration.rollback_lines[i.line].file_line, i.codes, i.whole_file, i.reason)
            for i in _ignore_comments(migration.rollback_sql) if i.line < len(migration.rollback_lines)]


def _rollback_silenced(migration: MigrationFile) -> list[tuple[int, int, set[str]]]:
    """File-line ranges of rollback statements (or psql lines) with ignore comments directly above them.

    Every line of the block is a comment in the file, so "directly above" is read in the rollback SQL: the
    comment lines of the uncommented block above each piece that would run, found by the same lexer as
    `check` (a piece with a syntax error counts too).
    """
    rollback = migration.rollback_sql
    if rollback is None or "pgshift-ignore" not in rollback:
        return []
    lines = rollback.split("\n")
    index = LineIndex(rollback)
    file_line = [r.file_line for r in migration.rollback_lines]
    out = []
    for chunk in split_chunks(parsable(rollback)):
        start = skip_blanks_and_comments(rollback, chunk.start, chunk.end) if chunk.kind == "sql" else chunk.start
        if start >= chunk.end:
            continue
        first = index.position(start).line
        last = index.position(chunk.end - 1).line
        codes: set[str] = set()
        line = first - 1
        while line >= 0 and lines[line].lstrip().startswith("--"):
            match = IGNORE_RE.match(lines[line]) if "pgshift-ignore" in lines[line] else None
            if match and not match.group("file"):
                codes.update(_codes(match))
            line -= 1
        if codes and last < len(file_line):
            out.append((file_line[first], file_line[last], codes))
    return out


def _apply_ignores(found: list[Finding], ignores: list[IgnoreComment], statements, index: LineIndex,
                   rollback_silenced: list[tuple[int, int, set[str]]] = ()) -> list[Finding]:
    """`-- pgshift-ignore a, b: why` on the comment lines directly above a statement silences a and b there."""
    whole_file = {code for i in ignores if i.whole_file for code in i.codes}
    by_line = {i.line: i for i in ignores if not i.whole_file}
    silenced: list[tuple[int, int, set[str]]] = list(rollback_silenced)
    if by_line:
        lines = index.text.split("\n")
        for statement in statements:
            first = index.position(statement.start).line
            codes: set[str] = set()
            line = first - 1
            while line >= 0 and lines[line].lstrip().startswith("--"):
                if line in by_line:
                    codes.update(by_line[line].codes)
                line -= 1
            if codes:
                silenced.append((first, index.position(statement.end).line, codes))
    kept = []
    for finding in found:
        if finding.code in UNREADABLE_CODES:
            kept.append(finding)
            continue
        if finding.code in whole_file:
            continue
        line = finding.span.start.line
        if any(first <= line <= last and finding.code in codes for first, last, codes in silenced):
            continue
        kept.append(finding)
    return kept


def check_paths(paths: list[Path], settings: Settings) -> CheckResult:
    """Findings for the given files and folders (a folder: every .sql file directly in it)."""
    rule_levels(settings)
    findings: list[Finding] = []
    files = 0
    for path in paths:
        if path.is_dir():
            migrations = discover(path)
        elif path.is_file():
            migrations = [read_migration(path)]
        else:
            raise UsageError(f"{path}: no such file or folder", help="pass migration files or folders")
        for migration in migrations:
            files += 1
            findings.extend(check_migration(migration, settings))
    return CheckResult(findings, files, list(paths))


def check(settings: Settings, paths: list[Path] | None = None) -> CheckResult:
    """The `check` verb: lint the given paths, or the project's migrations folder."""
    if not paths:
        if not settings.migrations_dir.is_dir():
            raise UsageError(f"no migrations folder at {settings.migrations_dir}",
                             help="create it, pass paths to check, or set migrations_dir in [tool.pgshift]")
        paths = [settings.migrations_dir]
    return check_paths(paths, settings)

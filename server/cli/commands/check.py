"""Check migration files: syntax, conventions and production-safety rules, without a database."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.analysis.findings import Finding, Severity

NAME = "check"
HELP = "lint migration files: syntax errors, missing rollbacks, locking and data-loss risks"
ALIASES = ["lint"]
ORDER = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: the migrations folder)")
    parser.add_argument("--format", choices=("text", "json", "github"), default=None,
                        help="text (default), json, or github workflow annotations")
    parser.add_argument("--fail-on", choices=("error", "warning"), default="error",
                        help="exit 1 when a finding at this level or worse exists (default: error)")
    parser.add_argument("--trace", action="store_true",
                        help="also trace the migrations in a shadow database (see `pgshift trace`): PostgreSQL's "
                             "own errors, incomplete rollbacks, rewrites and full reads under blocking locks")


def run(args: argparse.Namespace, ctx) -> int:
    from engine.analysis.lint import check
    settings = ctx.settings
    paths = [p if p.is_absolute() else (ctx.cwd / p) for p in map(Path, args.paths)] or None
    result = check(settings, paths)
    if args.trace:
        from dataclasses import replace
        from server.cli.commands.trace import traced_findings
        result = replace(result, findings=sorted(
            result.findings + traced_findings(ctx, paths),
            key=lambda f: (str(f.path.resolve()) if f.path else "", f.span.start, f.severity, f.code)))
    root = settings.project_root
    threshold = Severity.WARNING if args.fail_on == "warning" else Severity.ERROR
    failed = any(f.severity <= threshold for f in result.findings)
    output = args.format or ("json" if ctx.json_output else "text")
    if output == "json":
        ctx.json_output = True
        ctx.emit_json({"ok": not failed, "files_checked": result.files_checked,
                       "counts": _counts(result.findings),
                       "findings": [f.to_dict(root) for f in result.findings]})
    elif output == "github":
        for finding in result.findings:
            print(github_annotation(finding, root), file=ctx.stdout)
        print(summary(result.files_checked, result.findings), file=ctx.stdout)
    else:
        ctx.show_findings(result.findings)
        ctx.say(summary(result.files_checked, result.findings))
    return 1 if failed else 0


def _counts(findings: list[Finding]) -> dict[str, int]:
    return {s.label: sum(1 for f in findings if f.severity is s) for s in Severity}


def summary(files: int, findings: list[Finding]) -> str:
    counts = _counts(findings)
    parts = [f"{n} {label}{'s' if n != 1 else ''}" for label, n in counts.items() if n]
    checked = f"checked {files} file{'s' if files != 1 else ''}"
    return f"{checked}: " + (", ".join(parts) if parts else "no problems found")


_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice", Severity.HINT: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(finding: Finding, root: Path | None) -> str:
    """One GitHub Actions workflow command: `::error file=…,line=…,col=…,title=…::message`."""
    data = finding.to_dict(root)
    message = finding.message + (f"\n{finding.help}" if finding.help else "")
    props = [f"file={_escape_property(data['path'] or '')}", f"line={data['line']}", f"col={data['column']}",
             f"endLine={data['end_line']}", f"title={_escape_property(finding.code)}"]
    return f"::{_GITHUB_LEVEL[finding.severity]} {','.join(props)}::{_escape_data(message)}"

"""The documentation of every code pgshift reports that is not a lint rule, written once, here.

Lint rules document themselves (their module docstring, see engine/analysis/rules/docs.py). Everything else a user
can meet as `severity[code]` — the file format, the database's state, verify's verdicts, errors — has a
`### code` section below. `pgshift rules CODE`, the editor's hover, MCP's `rule://CODE` and docs/rules.md
all read it (through engine.analysis.lint.rule_catalog).

A new code: add its section to FINDINGS (it has a place in a file) or ERRORS (`error[code]`, with no place),
then regenerate docs/rules.md (`update_codes_doc`). tests/test_codes_documented.py finds every code in the
source of engine/ and server/ and fails for one without a section here or a rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from engine.analysis.findings import Severity

START = "<!-- codes:start (generated from engine/analysis/codes.py) -->"
END = "<!-- codes:end -->"

FINDINGS = """
### file-name
*error* — the file name is not `YYYY-MM-DD_HHMM_description.sql` with a real date and time. The fix renames it
(a recognisable timestamp is kept). `migrate` runs nothing until it is fixed or moved.

### rollback-not-commented
*error* — a line after `-- ROLLBACK:` is not a comment, so it would run as part of the migration. The fix
comments it out.

### misplaced-directive
*error* — a `-- pgshift:` directive (such as `no-transaction`) below the first statement; the runner only reads
directives in the leading comments, so it would be ignored. Move it to the top of the file.

### file-encoding
*error* — text PostgreSQL cannot receive: the file is not valid UTF-8 (the position is the first bad byte), or
it holds a NUL byte anywhere — in the SQL, a comment or the ROLLBACK block (libpq sends a query as a C string,
so the server would get only the part before it, without its tracking row or COMMIT). `migrate` and `rollback`
run nothing while it is there. Other control characters do reach the server: inside strings and comments they
are data, elsewhere PostgreSQL rejects them and `check` reports a `syntax-error`.

### file-unreadable
*error* — the file cannot be read (permissions), or an entry named `*.sql` in the migrations folder is no file:
a folder, or a symbolic link to something that does not exist. It is reported with its path by `check`, `list`
and `migrate` (which runs nothing until it is moved or fixed). A symbolic link to a file is an ordinary
migration.

### unknown-rule
*warning* — a `-- pgshift-ignore` comment names a rule that does not exist (often a typo), so it ignores nothing.

### applied-file-changed
*error* — the file's forward SQL (everything above `-- ROLLBACK:`, comments included; line endings, a BOM and
trailing white space aside — white space as PostgreSQL defines it: space, tab, CR, LF, form feed) differs from
what was applied. `migrate` refuses to run; restore the file and put
the change in a new migration, or accept a reviewed cosmetic edit with `pgshift repair VERSION`.

### applied-file-missing
*error* — the database records a migration whose file is gone. Restore it, or `pgshift mark VERSION --pending`
if the change was undone by hand.

### out-of-order
*warning* in the editor, *error* for `migrate` — a pending file sorts before the newest applied migration
(typically a merged branch). Rename it to a later timestamp, or `pgshift migrate --allow-out-of-order`.

### invalid-index
*error* — every statement of a no-transaction migration ran, but an index it creates is INVALID
(`pg_index.indisvalid` is false): an earlier `CREATE INDEX CONCURRENTLY` was interrupted or failed, and
`IF NOT EXISTS` skipped it on the re-run. PostgreSQL maintains such an index on every write but never uses it.
The migration is recorded as failed, not applied; `list` also flags an applied migration whose index is
INVALID. Run `DROP INDEX CONCURRENTLY name;`, then `pgshift migrate` again.

### migration-failed
*error* — PostgreSQL rejected the migration; placed at PostgreSQL's error position, or on the failing
statement when PostgreSQL gives none. The migration was rolled back (or, without a transaction, is recorded as
failed with the number of statements that ran). In the editor it also marks a migration recorded as failed;
`drift` warns of one, which it does not replay (what it ran before it stopped shows as drift).

### rollback-failed
*error* — the ROLLBACK block failed when run by `rollback` or `verify`; placed in the commented block.

### reapply-failed
*error* — `verify` applied the migration again after its rollback and PostgreSQL rejected it: the rollback
left something behind that the forward SQL cannot create again.

### reapply-differs
*error* — `verify` ran the migration again after its rollback and got a different schema than the first run:
the rollback left behind something the forward SQL depends on (for example rows it counts).

### rollback-incomplete
*error* — `verify` found the schema after the rollback different from the schema before the migration; the
message names what differs (for example "index public.users_email_idx still exists after the rollback").

### white-space-differs
*info* — `verify` found a function whose definition after the rollback (or the reapply) differs from the
original only in white space outside string literals, for example a re-indented body. The migration counts as
verified: the function behaves the same. Only SQL and PL/pgSQL bodies are compared this way (with PostgreSQL's
own lexer, so white space inside a literal or a quoted name still counts); in any other language (PL/Python)
the body must match exactly.

### extension-unavailable
*error* — `verify` could not create an extension the migration needs in its scratch database. This happens when
verify had to use the embedded PostgreSQL (the role may not create databases, the configured database is
unreachable, or none is configured) and the extension is not installed there; grant the role CREATEDB, or
verify against a server that has the extension.

### lock-timeout
*error* — the migration waited longer than `lock_timeout` for a lock (another session holds a conflicting
one) and was rolled back. Retry later, raise `lock_timeout`, or set `lock_retries`.

### schema-drift
*error* — `pgshift drift` found an object whose definition in the live database is not what the applied
migrations give when replayed in a scratch database: a column added by hand, an index dropped, a default, a
function body, a view, a grant or a comment changed. It is placed on the statement of the applied migration that
last created or changed the object, where that is known. Put the change in a new migration, or undo it by hand;
add the name to `drift_ignore` if pgshift should not own it.

### invalid-json
*error* — `pgshift init` found a JSON file (`.cursor/mcp.json`, `.cursor/hooks.json`, `package.json`) it cannot
parse, and wrote nothing.
### shadow-failed
*error* — `pgshift trace` (or `check --trace`) could not build the shadow for a migration because an earlier
migration fails there; placed where PostgreSQL rejects the earlier one. Fix that migration first. See
docs/trace.md.

### trace-rewrite
*warning* — `check --trace`: the trace saw the statement copy the table (its `relfilenode` changed) under the
lock named; reads and writes wait for the whole copy. See docs/trace.md.

### trace-scan
*warning* — `check --trace`: the trace saw the statement read the whole table (`seq_scan` went up) under a lock
that blocks writes (its own, or one an earlier statement of the migration holds until COMMIT). See
docs/trace.md.

"""

ERRORS = """
### usage
*error* — the command line (or a tool's or editor command's arguments) is wrong: an unknown option, a version
that matches no migration, a missing argument. Nothing ran. Exit code 2; `pgshift COMMAND --help` shows the usage.

### config
*error* — a setting in `[tool.pgshift]` (pyproject.toml) or pgshift.toml is invalid: the message names the key
and the file. Nothing touched the database. Exit code 2.

### database-unavailable
*error* — the database could not be reached, or refused the connection (wrong host, port, password, a server
not running). The message says which database, never its password. Exit code 2.

### connection-lost
*error* — the server went away while pgshift was working (a crash, a restart, a network cut). The message names
the migration that was running, quotes the server's own reason, and says whether that migration committed —
pgshift asks the server again once it answers — or, when it cannot know, that `pgshift list` will show it as
applied (committed) or pending (rolled back). A no-transaction migration's finished statements stay done: see
`pgshift repair`. Exit code 2.

### database-read-only
*error* — the database accepts only reads: a hot standby (`pg_is_in_recovery()`), or
`default_transaction_read_only` is on. `migrate`, `rollback`, `repair` and `mark` refuse before planning or
asking; `list`, `snapshot`, `backup` and `check` still work. Point pgshift at the primary. Exit code 2.

### file-system
*error* — the operating system refused a file or folder the command needs (permissions, a full disk, an I/O
error); the message names it and gives the system's reason. Nothing ran. Exit code 2.

### migration-file
*error* — one or more migration files break the format (the findings above it say where: `file-name`,
`rollback-not-commented`, ...); nothing was run. Fix the files; `pgshift check` lists the problems.

### check-failed
*error* — `migrate` found error-level lint findings in a pending migration and ran nothing. Fix them, or
suppress a reviewed one with `-- pgshift-ignore CODE: reason` above the statement.

### confirmation-required
*error* — a destructive operation (rollback, for example) needs a person's explicit yes: on a terminal it asks;
without one, pass `--yes` after reviewing the plan. Through MCP it is the human approval step that was refused
or could not be asked. Nothing ran.

### verify-failed
*error* — `verify` could not work with its scratch database (create, connect, read the catalog, drop); the
migrations themselves were not judged. Check that the role may create and drop databases on the server.

### drift-failed
*error* — `drift` could not compare: the applied migrations do not replay on an empty scratch database (the
finding says where), or the scratch database could not be created, read or dropped. Nothing was changed. Exit
code 2, so that a CI gate never reads "could not compare" as "drifted" (1).

### database-drifted
*error* — `migrate --check-drift` found the database's schema different from what its applied migrations give
(the `schema-drift` findings before it say what and where) and applied nothing. Run `pgshift drift`, put each
change in a new migration or undo it, then migrate.

### snapshot-failed
*error* — `snapshot` could not read the schema from the database, or could not write DATABASE.md (the
message says which); check the folder's permissions or `snapshot_path`.

### backup-failed
*error* — `backup` could not make the dump: no `pg_dump` as new as the server, the folder cannot be created,
or `pg_dump` itself failed (its message follows, password removed).

### editor-extension
*error* — `pgshift editor install` (or the end of `pgshift init`) could not install the editor extension: the
`cursor`, `code` or `codium` command failed (its last line follows) or this pgshift installation lacks the
extension. Install the `.vsix` it names by hand with "Extensions: Install from VSIX…", or reinstall pgshift.

### not-available
*error* — an MCP tool whose engine part is not in this build of pgshift; use the CLI command instead.

### internal-error
*error* — an MCP tool failed in a way pgshift did not expect (a bug, or the environment: disk full, for
example). The server keeps running; the message is logged with passwords removed. Please report it.

### error
*error* — a failure without a more specific code; the message and its `help:` line say what happened and what
to do.
"""


@dataclass(frozen=True)
class CodeDoc:
    """One documented code: `severity` is the one it is usually reported with (the first in its section)."""

    code: str
    severity: Severity
    summary: str
    markdown: str
    error: bool  # reported as `error[code]` with no place in a file, rather than as a finding


_SECTION_RE = re.compile(r"^### (?P<code>[a-z0-9-]+)\n(?P<body>.*?)(?=^### |\Z)", re.MULTILINE | re.DOTALL)
_LEAD_RE = re.compile(r"^\*(?P<severity>[a-z]+)\*[^—]*— (?P<text>.*)$", re.DOTALL)


def _parse(markdown: str, *, error: bool) -> dict[str, CodeDoc]:
    docs = {}
    for match in _SECTION_RE.finditer(markdown):
        body = match["body"].strip()
        lead = _LEAD_RE.match(body)
        if lead is None:
            raise RuntimeError(f"engine/analysis/codes.py: section {match['code']} must start with '*severity* — '")
        summary = _first_clause(" ".join(lead["text"].split("\n\n", 1)[0].split()))
        docs[match["code"]] = CodeDoc(match["code"], Severity.parse(lead["severity"]), summary,
                                      f"### {match['code']}\n\n{body}\n", error)
    return docs


def _first_clause(text: str) -> str:
    """Up to the first `.`, `;` or `:` that ends a clause (not one inside parentheses or `code`)."""
    depth, quoted = 0, False
    for i, char in enumerate(text):
        if char == "`":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char in ".;:" and (i + 1 == len(text) or text[i + 1] == " "):
            return text[:i]
    return text


def code_docs() -> dict[str, CodeDoc]:
    """Every documented non-rule code, findings first, each in the order written."""
    return {**_parse(FINDINGS, error=False), **_parse(ERRORS, error=True)}


def render_codes_markdown() -> str:
    """The generated part of docs/rules.md: the findings that are not rules, then the errors."""
    docs = code_docs().values()
    findings = [d.markdown for d in docs if not d.error]
    errors = [d.markdown for d in docs if d.error]
    intro = ("## Errors\n\nThese stop a command with `error[code]: message` and a `help:` line (in the CLI, the "
             "editor's messages and MCP tool errors alike); the findings printed before one say where.\n")
    return "\n".join([START, "", *findings, intro, *errors, END])


def update_codes_doc(path: Path) -> bool:
    """Rewrite the generated part of docs/rules.md; True when it changed."""
    return write_generated_section(path, START, END, render_codes_markdown())


def write_generated_section(path: Path, start: str, end: str, content: str) -> bool:
    """Replace what stands between the `start` and `end` markers of a doc (appending them if absent) with
    `content`, which carries the markers itself; True when the file changed."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if start not in text:
        text = text.rstrip("\n") + f"\n\n{start}\n{end}\n"
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    new = before + content + after
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False

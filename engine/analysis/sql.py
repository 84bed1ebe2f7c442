"""PostgreSQL's own parser (pglast) behind a small API: statements with exact character spans.

pglast reports byte offsets into the UTF-8 encoding; they are converted to character offsets here, once,
so that nothing else in pgshift ever sees a byte offset. The JSON form of the parse tree is used
because it is an order of magnitude faster to get than pglast's Python AST objects.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from typing import Any

from pglast import parser as _pg


@dataclass(frozen=True)
class Statement:
    """One top-level statement. `start`/`end` are character offsets of its first and last token."""

    index: int
    start: int
    end: int
    text: str
    kind: str
    node: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class SyntaxProblem:
    message: str
    offset: int


@dataclass(frozen=True)
class ParsedSql:
    sql: str
    statements: tuple[Statement, ...]
    error: SyntaxProblem | None = None


class _OffsetMap:
    """Byte offset to character offset for one text: free for ASCII, else a byte count per block of text.

    A lookup finds its block by bisection and decodes at most one block, so a huge statement costs one pass
    to index and a few microseconds per node location, not a table entry per byte (issue 10, 22). Lookups
    in increasing order (statement after statement) decode only the text between them.
    """

    BLOCK = 2048

    def __init__(self, text: str) -> None:
        self.ascii = text.isascii()
        if not self.ascii:
            self.text = text
            self.byte_starts: list[int] | None = None
            self.last = (0, 0)  # (byte, char) of the previous lookup

    def char(self, byte_offset: int) -> int:
        if self.ascii:
            return byte_offset
        if byte_offset <= 0:
            return 0
        last_byte, last_char = self.last
        if last_byte <= byte_offset <= last_byte + self.BLOCK:
            data = self.text[last_char:last_char + self.BLOCK].encode("utf-8", errors="surrogatepass")
            if byte_offset - last_byte <= len(data):
                # A cut inside a multi-byte character drops it: the offset is that character's.
                into = byte_offset - last_byte
                char = last_char + len(data[:into].decode("utf-8", errors="ignore"))
                if into == len(data) or data[into] & 0xC0 != 0x80:  # on a character boundary: resume from here
                    self.last = (byte_offset, char)
                return char
            return len(self.text)
        return self._from_blocks(byte_offset)

    def _from_blocks(self, byte_offset: int) -> int:
        if self.byte_starts is None:
            starts, total = [0], 0
            for at in range(0, len(self.text), self.BLOCK):
                total += len(self.text[at:at + self.BLOCK].encode("utf-8", errors="surrogatepass"))
                starts.append(total)
            self.byte_starts = starts
        starts = self.byte_starts
        if byte_offset >= starts[-1]:
            return len(self.text)
        block = bisect.bisect_right(starts, byte_offset) - 1
        first = block * self.BLOCK
        data = self.text[first:first + self.BLOCK].encode("utf-8", errors="surrogatepass")
        return first + len(data[:byte_offset - starts[block]].decode("utf-8", errors="ignore"))


def parsable(sql: str) -> str:
    """The text with each NUL (the end of the parser's C string) made a space, so all of it is checked and
    every offset stays put. engine.analysis.files reports the NUL itself as a file error."""
    return sql.replace("\x00", " ") if "\x00" in sql else sql


def parse(sql: str) -> ParsedSql:
    """Parse a whole script; a syntax error is returned (with its character offset), never raised."""
    sql = parsable(sql)
    offsets = _OffsetMap(sql)
    try:
        tree = json.loads(_pg.parse_sql_json(sql))
    except _pg.ParseError as exc:
        # pglast already turns the server's byte cursor into a character index (pglast.parser._error_index).
        index = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        return ParsedSql(sql, (), SyntaxProblem(str(exc.args[0]), index))
    statements = []
    for index, raw in enumerate(tree.get("stmts", [])):
        byte_start = raw.get("stmt_location", 0)
        byte_len = raw.get("stmt_len", 0)
        start = offsets.char(byte_start)
        end = offsets.char(byte_start + byte_len) if byte_len else _end_of_last(sql, start)
        start = skip_blanks_and_comments(sql, start, end)
        end = _trim_end(sql, start, end)
        node = raw.get("stmt", {})
        kind = next(iter(node), "")
        statements.append(Statement(index, start, end, sql[start:end], kind, node.get(kind, {})))
    return ParsedSql(sql, tuple(statements))


def parse_tree_json(sql: str) -> str | None:
    """The parser's raw JSON for a script, or None when it has a syntax error: the cheapest full parse."""
    try:
        return _pg.parse_sql_json(parsable(sql))
    except _pg.ParseError:
        return None


@dataclass(frozen=True)
class Token:
    """One lexical token: `start`/`end` are character offsets (end exclusive); `name` is the scanner's, e.g. SCONST."""

    start: int
    end: int
    name: str


def tokens(sql: str) -> list[Token] | None:
    """PostgreSQL's own lexer over a text (white space is not a token, comments are); None if it cannot lex it."""
    offsets = _OffsetMap(sql)
    try:
        scanned = _pg.scan(sql)
    except _pg.ParseError:
        return None
    # pglast gives the byte offset of each token's first and last byte.
    return [Token(offsets.char(t.start), offsets.char(t.end + 1), t.name) for t in scanned]


def top_level_marker(kind: str) -> str:
    """The text that `parse_tree_json` output contains for each top-level statement of this kind."""
    return f'"stmt":{{"{kind}":'


def _end_of_last(sql: str, start: int) -> int:
    """pglast gives stmt_len 0 for a final statement with no semicolon: it runs to the end of the text."""
    return len(sql)


def skip_blanks_and_comments(sql: str, start: int, end: int) -> int:
    """Move past white space, `--` comments and `/* */` comments (nested, as PostgreSQL allows)."""
    i = start
    while i < end:
        if sql[i].isspace():
            i += 1
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = end if newline == -1 else newline + 1
        elif sql.startswith("/*", i):
            depth, i = 1, i + 2
            while i < end and depth:
                if sql.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif sql.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        else:
            break
    return min(i, end)


def _trim_end(sql: str, start: int, end: int) -> int:
    """Drop trailing white space, a trailing `;` and trailing `--` comments from a statement's span.

    Works back from the end, line by line, so a statement of millions of lines is not copied or split.
    """
    while True:
        line_start = sql.rfind("\n", start, end) + 1
        if line_start <= start:
            break  # the statement's first line stays, whatever it holds
        line = sql[line_start:end].strip()
        if line and not line.startswith("--"):
            break
        end = line_start - 1  # drop the blank or comment line and the line break before it
    while end > start and sql[end - 1].isspace():
        end -= 1
    if end > start and sql[end - 1] == ";":
        end -= 1
        while end > start and sql[end - 1].isspace():
            end -= 1
    return end


# --- Fast, incremental analysis for `check` -------------------------------------------------------------------
#
# The editor calls the linter on every keystroke, so a script is cut into statement-sized chunks by a small
# lexer (quotes, comments, dollar quotes) and each chunk's parse tree is cached by its text: an edit re-parses
# only the chunk it touched. The lexer also finds what psql would handle itself and PostgreSQL never sees:
# backslash meta-commands and the data lines after `COPY ... FROM stdin`.

import re as _re

_DOLLAR_TAG_RE = _re.compile(r"\$(?:[A-Za-z_\u0080-\uffff][A-Za-z_0-9\u0080-\uffff]*)?\$")
_COPY_STDIN_RE = _re.compile(r"\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*copy\b.*\bfrom\s+stdin\b", _re.IGNORECASE | _re.DOTALL)
_IDENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")
_BLANKS = " \t\n\r\f\v"  # what the parser skips; U+00A0 and other Unicode spaces are identifier characters to it
_CACHE_LIMIT = 50_000
_chunk_cache: dict[str, tuple[list[tuple] | None, SyntaxProblem | None]] = {}


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of the text that psql would treat as one unit: SQL up to a `;`, a meta-command, or COPY data."""

    start: int
    end: int
    kind: str  # "sql", "meta" or "copy-data"


class LocatedStatement:
    """A top-level statement as `analyse` finds it: the same fields as `Statement`, built cheaply.

    A plain slotted class rather than a frozen dataclass: the editor rebuilds thousands per keystroke.
    `source` is the statement's own text as the parser saw it, starting at `base` in the whole text; the parse
    tree (`node`) is decoded from it only when a rule asks, so a file of 300,000 INSERTs no rule looks into
    costs no tree at all (issue 10, 22). `offset()` turns a node's byte `location` into a character offset.
    """

    __slots__ = ("index", "start", "end", "kind", "_node", "base", "_parsed", "_source_end", "_sql", "_offsets")

    def __init__(self, index: int, start: int, end: int, sql: str, kind: str, node: dict[str, Any] | None,
                 base: int, parsed: str, source_end: int) -> None:
        self.index, self.start, self.end, self.kind, self._node = index, start, end, kind, node
        self.base, self._parsed, self._source_end, self._sql, self._offsets = base, parsed, source_end, sql, None

    @property
    def text(self) -> str:
        return self._sql[self.start:self.end]

    @property
    def source(self) -> str:
        """The statement's text as the parser read it (from the text that was parsed, e.g. a masked one)."""
        return self._parsed[self.base:self._source_end]

    @property
    def node(self) -> dict[str, Any]:
        if self._node is None:
            self._node = _tree_of(self.source, self.kind)
        return self._node

    def offset(self, location: int | None) -> int:
        """Character offset in the whole text of a parse-tree `location` (or the statement start if absent)."""
        if location is None or location < 0:
            return self.start
        if self._offsets is None:
            self._offsets = _OffsetMap(self.source)
        return self.base + self._offsets.char(location)

    def __repr__(self) -> str:
        return f"LocatedStatement({self.index}, {self.start}, {self.end}, {self.kind!r})"


@dataclass(frozen=True)
class Script:
    """Everything `check` needs from one SQL text: statements, syntax errors, psql-only parts."""

    sql: str
    statements: tuple[LocatedStatement, ...]
    errors: tuple[SyntaxProblem, ...] = ()
    meta_commands: tuple[Chunk, ...] = ()
    copy_data: tuple[Chunk, ...] = ()


_TOKEN_RE = _re.compile(r"""(?<![\w$])[eE]'(?:[^'\\]|\\.|'')*'?|'[^']*'?|"[^"]*"?|--[^\n]*|;|/\*|\$""")
_META_ANYWHERE_RE = _re.compile(r"(?m)^[ \t]*\\")


def split_chunks(sql: str) -> list[Chunk]:
    """Cut a script at top-level `;`, around psql meta-command lines and around COPY FROM stdin data.

    Quoted strings and line comments are skipped inside the regular expression engine; only `;`, block
    comments and dollar quotes come back to Python, which keeps a 5,000-statement file at a few ms.
    """
    metas = [m.end() - 1 for m in _META_ANYWHERE_RE.finditer(sql)] if "\\" in sql else []
    copy_possible = "stdin" in sql.lower()
    chunks: list[Chunk] = []
    n = len(sql)
    start = i = 0
    search = _TOKEN_RE.search
    next_meta = 0
    while True:
        match = search(sql, i)
        j = match.start() if match else n
        # A meta-command line before the next token ends the current chunk (unless it is inside a token).
        while next_meta < len(metas) and metas[next_meta] < i:
            next_meta += 1
        if next_meta < len(metas) and metas[next_meta] < j:
            at = metas[next_meta]
            line_start = sql.rfind("\n", 0, at) + 1
            if sql[start:line_start].strip(_BLANKS):
                chunks.append(Chunk(start, line_start, "sql"))
            newline = sql.find("\n", at)
            end = n if newline == -1 else newline
            chunks.append(Chunk(at, end, "meta"))
            start = i = end
            next_meta += 1
            continue
        if match is None:
            break
        token = match.group()
        if token == ";":
            chunks.append(Chunk(start, j + 1, "sql"))
            start = i = j + 1
            if copy_possible and _COPY_STDIN_RE.match(sql, chunks[-1].start, j):
                start = i = _skip_copy_data(sql, i, chunks)
            continue
        if token == "/*":
            i = _end_of_block_comment(sql, j)
        elif token == "$":
            i = _past_dollar_quote(sql, j)
        else:  # a string, quoted identifier or line comment, consumed whole by the expression
            i = match.end()
    if start < n and sql[start:].strip(_BLANKS):
        chunks.append(Chunk(start, n, "sql"))
    return chunks


def _past_dollar_quote(sql: str, j: int) -> int:
    """Where the lexer goes on after a `$` at `j`: past a whole dollar-quoted string where one starts there
    (only where an identifier or a $1 parameter cannot be), else just past the `$`."""
    tag = _DOLLAR_TAG_RE.match(sql, j)
    if tag and (j == 0 or sql[j - 1] not in _IDENT_CHARS):
        close = sql.find(tag.group(), tag.end())
        return len(sql) if close == -1 else close + len(tag.group())
    return j + 1


def comment_spans(sql: str) -> list[tuple[int, int]]:
    """Character ranges of the `--` and `/* */` comments of a script, found by the same lexer as split_chunks."""
    spans: list[tuple[int, int]] = []
    i = 0
    while (match := _TOKEN_RE.search(sql, i)) is not None:
        token, j = match.group(), match.start()
        if token.startswith("--"):
            spans.append((j, match.end()))
            i = match.end()
        elif token == "/*":
            i = _end_of_block_comment(sql, j)
            spans.append((j, i))
        elif token == "$":
            i = _past_dollar_quote(sql, j)
        else:
            i = match.end()
    return spans


def _skip_copy_data(sql: str, i: int, chunks: list[Chunk]) -> int:
    """COPY ... FROM stdin is followed by data lines ending with a `\\.` line; they are not SQL."""
    newline = sql.find("\n", i)
    if newline == -1:
        return i
    data_start = newline + 1
    pos = data_start
    while pos < len(sql):
        eol = sql.find("\n", pos)
        eol = len(sql) if eol == -1 else eol
        if sql[pos:eol].strip() == "\\.":
            chunks.append(Chunk(data_start, eol, "copy-data"))
            return eol
        pos = eol + 1
    chunks.append(Chunk(data_start, len(sql), "copy-data"))
    return len(sql)


def _end_of_block_comment(sql: str, j: int) -> int:
    depth, i, n = 1, j + 2, len(sql)
    while depth and i < n:
        opening = sql.find("/*", i)
        closing = sql.find("*/", i)
        if closing == -1:
            return n
        if opening != -1 and opening < closing:
            depth, i = depth + 1, opening + 2
        else:
            depth, i = depth - 1, closing + 2
    return i


_Parsed = tuple  # (start, end, kind, source start, source end) per statement, relative to the parsed text

# The parser's JSON is `{"version":N,"stmts":[{"stmt":{"Kind":{...}},"stmt_location":N,"stmt_len":N},...]}`.
# Only a RawStmt has a field named "stmt", and a quote inside a JSON string is escaped, so `{"stmt":{"` marks
# exactly the top-level statements: their kinds and spans are read without decoding their trees.
_STATEMENT_RE = _re.compile(r'\{"stmt":\{"(\w+)":')
_TREE_CACHE_LIMIT = 20_000
_tree_cache: dict[str, dict[str, Any]] = {}


def _parse_chunk(text: str, eager: frozenset[str] = frozenset()) -> tuple[list[_Parsed] | None, SyntaxProblem | None]:
    """One chunk's statements with character spans relative to it, cached by the chunk's text.

    A lone statement of a kind in `eager` (one the rules look into) gets its tree now, from the same JSON.
    """
    cached = _chunk_cache.get(text)
    if cached is not None:
        return cached
    try:
        tree_json = _pg.parse_sql_json(text)
        spans = _spans(tree_json, text)
        result: tuple[list[_Parsed] | None, SyntaxProblem | None] = (spans, None)
        if len(spans) == 1 and spans[0][2] in eager and spans[0][3] == 0:  # its locations count from 0 too
            _remember_tree(text[:spans[0][4]], json.loads(tree_json)["stmts"][0]["stmt"][spans[0][2]])
    except _pg.ParseError as exc:
        index = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0  # already characters
        result = (None, SyntaxProblem(str(exc.args[0]), index))
    if len(_chunk_cache) >= _CACHE_LIMIT:
        _chunk_cache.clear()
    _chunk_cache[text] = result
    return result


def _spans(tree_json: str, text: str) -> list[_Parsed]:
    offsets = _OffsetMap(text)
    heads = _STATEMENT_RE.finditer(tree_json)
    head = next(heads, None)
    out = []
    while head is not None:
        following = next(heads, None)
        item_end = following.start() - 1 if following is not None else len(tree_json) - 2  # at `,` or `]}`
        byte_start, byte_len = _location_and_length(tree_json[max(head.end(), item_end - 64):item_end])
        source_start = offsets.char(byte_start) if out else 0  # before the first: only blanks and comments
        source_end = offsets.char(byte_start + byte_len) if byte_len else len(text)
        start = skip_blanks_and_comments(text, source_start, source_end)
        end = _trim_end(text, start, source_end)
        out.append((start, end, head.group(1), source_start, source_end))
        head = following
    return out


def _location_and_length(tail: str) -> tuple[int, int]:
    """`stmt_location` and `stmt_len` from the end of one statement's JSON (`...,"stmt_len":8}`); 0 if absent."""
    length_at = tail.rfind(',"stmt_len":')
    location_at = tail.rfind(',"stmt_location":')
    end = len(tail) - 1
    length = int(tail[length_at + 12:end]) if length_at != -1 else 0
    location = int(tail[location_at + 17:length_at if length_at != -1 else end]) if location_at != -1 else 0
    return location, length


def _tree_of(source: str, kind: str) -> dict[str, Any]:
    """The parse tree of one statement's own text (its locations are relative to that text), cached by text."""
    tree = _tree_cache.get(source)
    if tree is None:
        try:
            statements = json.loads(_pg.parse_sql_json(source)).get("stmts", [])
        except _pg.ParseError:
            statements = []
        tree = statements[0].get("stmt", {}).get(kind, {}) if len(statements) == 1 else {}
        _remember_tree(source, tree)
    return tree


def _remember_tree(source: str, tree: dict[str, Any]) -> None:
    if len(_tree_cache) >= _TREE_CACHE_LIMIT:
        _tree_cache.clear()
    _tree_cache[source] = tree


def _statements_from(parsed: list[_Parsed], sql: str, base: int, first_index: int) -> list[LocatedStatement]:
    """Statements of the text parsed at `base` in `sql` (the whole text, so no statement keeps a copy)."""
    return [LocatedStatement(first_index + number, base + start, base + end, sql, kind, None, base + source_start,
                             sql, base + source_end)
            for number, (start, end, kind, source_start, source_end) in enumerate(parsed)]


def analyse(sql: str, eager: frozenset[str] = frozenset()) -> Script:
    """Statements with spans, every syntax error we can place, and the psql-only parts of a script.

    Each chunk is parsed on its own (cached); if one fails, the whole script is parsed once more, because
    the lexer cannot see SQL-standard function bodies (`BEGIN ATOMIC ... END`) that contain `;`. Parse trees
    are decoded when first asked for, except for statements of the `eager` kinds (those the caller will read).
    """
    sql = parsable(sql)
    chunks = split_chunks(sql)
    statements: list[LocatedStatement] = []
    failed: list[SyntaxProblem] = []
    for chunk in chunks:
        if chunk.kind != "sql":
            continue
        text = sql[chunk.start:chunk.end]
        raw, problem = _parse_chunk(text, eager)
        if problem is not None:
            failed.append(SyntaxProblem(problem.message, chunk.start + problem.offset))
            continue
        if raw:
            statements.extend(_statements_from(raw, sql, chunk.start, len(statements)))
    meta = tuple(c for c in chunks if c.kind == "meta")
    data = tuple(c for c in chunks if c.kind == "copy-data")
    errors: tuple[SyntaxProblem, ...] = ()
    if failed:
        masked = _mask(sql, meta + data)
        raw, problem = _parse_chunk(masked)
        if problem is None:
            statements = _statements_from(raw or [], masked, 0, 0)
            for statement in statements:
                statement._sql = sql  # spans are the same; show the original text, not the masked one
        else:
            errors = (problem,)
            statements = _statements_around(sql, masked, chunks, problem.offset, statements, failed)
    return Script(sql, tuple(statements), errors, meta, data)


def _statements_around(sql: str, masked: str, chunks: list[Chunk], error_at: int,
                       pieces: list[LocatedStatement], failed: list[SyntaxProblem]) -> list[LocatedStatement]:
    """The statements of a script with a real syntax error, without the lexer's mis-cut pieces.

    A BEGIN ATOMIC body cut at its `;` gives pieces that parse on their own (its `END;` is a COMMIT to the
    parser). Everything before the chunk holding the error is parsed as one text instead; after the error,
    the chunks' own statements are kept only if none of those chunks failed.
    """
    at = next((c.start for c in chunks if c.kind == "sql" and c.start <= error_at < c.end), None)
    if at is None:
        return pieces
    prefix = masked[:at]
    raw, problem = _parse_chunk(prefix)
    if problem is not None:
        return pieces
    before = _statements_from(raw or [], prefix, 0, 0)
    for statement in before:
        statement._sql = sql
    after_error = [p for p in pieces if p.start > error_at]
    if any(f.offset > error_at for f in failed):
        after_error = []
    for number, statement in enumerate(after_error, len(before)):
        statement.index = number
    return before + after_error


def _mask(sql: str, parts: tuple[Chunk, ...]) -> str:
    """Blank out psql-only parts, keeping every character offset (and line break) where it was."""
    if not parts:
        return sql
    pieces, last = [], 0
    for part in sorted(parts, key=lambda c: c.start):
        pieces.append(sql[last:part.start])
        pieces.append(_re.sub(r"[^\n]", " ", sql[part.start:part.end]))
        last = part.end
    pieces.append(sql[last:])
    return "".join(pieces)

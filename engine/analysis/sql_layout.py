"""Whether two SQL texts differ only in layout: the same tokens, white space aside, literals byte for byte.

verify compares function definitions as PostgreSQL keeps them (pg_get_functiondef), whose body is the
source as written. A rollback that re-creates a function with other indentation restores it all the same,
so that difference is told apart from a real one. Only SQL and PL/pgSQL bodies are read as SQL (PL/pgSQL
uses PostgreSQL's own lexer); in other languages (PL/Python) white space can be the program.
"""

from __future__ import annotations

from engine.analysis import sql

# Languages whose function body is lexed like SQL; the body of any other is compared as a literal.
SQL_LIKE_LANGUAGES = frozenset({"sql", "plpgsql"})

_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})


def same_but_white_space(before: str, after: str, *, body_language: str | None = None) -> bool:
    """True when the texts differ at most in white space outside string literals and quoted names.

    With `body_language` in SQL_LIKE_LANGUAGES, the dollar-quoted string after AS (the function body, as
    pg_get_functiondef writes it) is compared the same way instead of as a literal.
    """
    old, new = _layout_free(before, body_language), _layout_free(after, body_language)
    return old is not None and old == new


def _layout_free(text: str, body_language: str | None) -> list[str] | None:
    """The text's tokens; white space inside comments collapsed; the body expanded into its own tokens."""
    found = sql.tokens(text)
    if found is None:
        return None
    words: list[str] = []
    previous = ""
    for token in found:
        word = text[token.start:token.end]
        if token.name in _COMMENTS:
            words.append(" ".join(word.split()))
        elif (token.name == "SCONST" and previous == "AS" and word.startswith("$")
              and body_language in SQL_LIKE_LANGUAGES):
            inner = _layout_free(_dollar_quoted_content(word), None)
            if inner is None:
                return None
            words.extend(["(body", *inner, "body)"])
        else:
            words.append(word)
        previous = token.name
    return words


def _dollar_quoted_content(literal: str) -> str:
    """`$tag$text$tag$` -> `text`: the tag may differ between two texts, the content is what counts."""
    tag = literal[: literal.index("$", 1) + 1]
    return literal[len(tag): len(literal) - len(tag)]

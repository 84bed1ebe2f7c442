"""engine.analysis.sql_layout: white space outside literals is layout; inside literals, quoted names and Python it is not."""

from __future__ import annotations

from engine.analysis.sql_layout import same_but_white_space

DEFINITION = """CREATE OR REPLACE FUNCTION public.f(word text DEFAULT 'a  b'::text)
 RETURNS text
 LANGUAGE {language}
AS $function$
BEGIN
    -- say  it
    RETURN word || '  ' || "Odd  Name".x;
END
$function$
"""


def _sql(language: str = "plpgsql") -> str:
    return DEFINITION.format(language=language)


def test_a_re_indented_body_is_the_same():
    after = _sql().replace("    RETURN word", "\t\tRETURN\n  word").replace("-- say  it", "--  say it")
    assert same_but_white_space(_sql(), after, body_language="plpgsql")


def test_a_body_under_another_dollar_tag_is_the_same():
    after = _sql().replace("$function$", "$functionx$")
    assert same_but_white_space(_sql(), after, body_language="plpgsql")


def test_white_space_inside_a_literal_of_the_body_counts():
    assert not same_but_white_space(_sql(), _sql().replace("'  '", "' '"), body_language="plpgsql")


def test_white_space_inside_a_literal_of_the_header_counts():
    assert not same_but_white_space(_sql(), _sql().replace("'a  b'", "'a b'"), body_language="plpgsql")


def test_white_space_inside_a_quoted_name_counts():
    assert not same_but_white_space(_sql(), _sql().replace('"Odd  Name"', '"Odd Name"'), body_language="plpgsql")


def test_white_space_that_splits_a_token_counts():
    assert not same_but_white_space(_sql(), _sql().replace("||", "| |", 1), body_language="plpgsql")


def test_a_changed_comment_counts():
    assert not same_but_white_space(_sql(), _sql().replace("say  it", "shout it"), body_language="plpgsql")


def test_the_body_of_another_language_is_a_literal():
    """In PL/Python indentation is the program: the body is compared as it is."""
    before = _sql("plpython3u")
    assert not same_but_white_space(before, before.replace("    RETURN", "  RETURN"), body_language="plpython3u")
    assert same_but_white_space(before, before.replace(" RETURNS", "RETURNS"), body_language="plpython3u")


def test_text_the_lexer_rejects_is_never_the_same():
    assert not same_but_white_space("SELECT 'open", "SELECT  'open", body_language="sql")

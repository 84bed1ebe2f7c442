"""adding-field-with-default: a volatile DEFAULT rewrites the whole table under an ACCESS EXCLUSIVE lock.

From PostgreSQL 11 a constant (non-volatile) default is stored once and the column is added instantly. A
volatile default (`gen_random_uuid()`, `random()`, `clock_timestamp()`, `nextval()` via serial), a stored
generated column, or any default before PostgreSQL 11 makes PostgreSQL rewrite every row while reads and
writes wait.

Instead of:

    ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();

Use:

    ALTER TABLE orders ADD COLUMN public_id uuid;
    ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
    -- then backfill existing rows in batches: UPDATE orders SET public_id = gen_random_uuid() WHERE id BETWEEN ...
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, added_columns, column_constraints, relation_name, string_value

# Functions whose value does not change per row (immutable or stable): a default using only these is
# evaluated once. https://www.postgresql.org/docs/current/xfunc-volatility.html
_NON_VOLATILE = {"now", "transaction_timestamp", "statement_timestamp", "current_timestamp", "current_date",
                 "localtimestamp", "lower", "upper", "coalesce", "concat", "to_char", "to_timestamp", "to_date",
                 "length", "abs", "round", "greatest", "least", "jsonb_build_object", "json_build_object",
                 "jsonb_build_array", "json_build_array", "array_fill", "make_interval", "make_date",
                 "current_user", "current_setting", "nullif", "trim", "replace", "md5", "date_trunc"}
_SERIAL = {"serial", "bigserial", "smallserial", "serial4", "serial8", "serial2"}


def volatile_call(node) -> str | None:
    """The first function call in an expression that is (or may be) volatile, by name."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            call = item.get("FuncCall")
            if call is not None:
                name = string_value(call.get("funcname", [{}])[-1]).lower()
                if name not in _NON_VOLATILE:
                    return name
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


@rule("adding-field-with-default", Severity.WARNING, kinds={"AlterTableStmt"})
def check(statement, ctx: Context):
    relation = statement.node.get("relation")
    if ctx.is_new_table(relation):
        return
    table = relation_name(relation)
    for _command, column in added_columns(statement.node):
        name = column.get("colname")
        where = statement.offset(column.get("location"))
        typename = string_value((column.get("typeName", {}).get("names") or [""])[-1]).lower()
        if typename in _SERIAL:
            yield Report(f"adding {typename} column '{name}' fills it with nextval() for every row: "
                         f"'{table}' is rewritten while reads and writes wait",
                         "add a plain bigint column, attach a sequence as its default, and backfill in batches",
                         start=where, end=statement.end)
            continue
        for constraint in column_constraints(column):
            if constraint.get("contype") == "CONSTR_GENERATED" and constraint.get("generated_kind", "s") == "s":
                yield Report(f"adding stored generated column '{name}' rewrites '{table}' while reads and writes wait",
                             "add a nullable column and fill it with a trigger and a batched backfill, or use a "
                             "virtual generated column (PostgreSQL 18)", start=where, end=statement.end)
            if constraint.get("contype") != "CONSTR_DEFAULT":
                continue
            if ctx.target_version < 11:
                yield Report(f"before PostgreSQL 11 any DEFAULT on a new column rewrites '{table}' while reads "
                             "and writes wait", "add the column without a default, then SET DEFAULT and backfill "
                             "in batches", start=where, end=statement.end)
                continue
            function = volatile_call(constraint.get("raw_expr"))
            if function:
                yield Report(f"the default of '{name}' calls {function}(), which may be volatile: PostgreSQL then "
                             f"rewrites '{table}' while reads and writes wait",
                             "add the column without a default, SET DEFAULT in a second statement, and backfill "
                             "existing rows in batches", start=where, end=statement.end)

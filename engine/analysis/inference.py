"""Rollback inference: the undo SQL for a migration's forward SQL, with honest notes where it cannot know.

Not on the keystroke path, so pglast's Python AST (and its deparser, for types and GRANTs) is fine here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pglast
from pglast import ast, keywords
from pglast.enums import AlterTableType, ObjectType
from pglast.stream import RawStream

from engine.analysis.files import ROLLBACK_MARKER

_PLAIN_RE = re.compile(r"^[a-z_][a-z0-9_$]*$")
_RESERVED = set(keywords.RESERVED_KEYWORDS) | set(keywords.TYPE_FUNC_NAME_KEYWORDS) | set(keywords.COL_NAME_KEYWORDS)


@dataclass(frozen=True)
class InferredRollback:
    """`sql`: the rollback, last forward statement undone first (None when there was nothing to undo)."""

    sql: str | None
    complete: bool
    notes: list[str] = field(default_factory=list)


def quote_ident(name: str) -> str:
    if _PLAIN_RE.match(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def _names(parts) -> str:
    return ".".join(quote_ident(p.sval if isinstance(p, ast.String) else str(p)) for p in parts)


def _relation(rv) -> str:
    parts = [p for p in (getattr(rv, "schemaname", None), rv.relname) if p]
    return ".".join(quote_ident(p) for p in parts)


def _sql(node) -> str:
    return RawStream()(node)


class _Cannot(Exception):
    """This statement's inverse cannot be derived from the statement alone."""


# Settings that change which object a name means (or who may drop it): the undo statements must run under
# the same ones, in the rollback's own session. https://www.postgresql.org/docs/current/ddl-schemas.html#DDL-SCHEMAS-PATH
_NAME_SETTINGS = frozenset({"search_path", "role", "session_authorization"})


def infer_rollback(forward_sql: str) -> InferredRollback:
    """Undo statements in reverse order; a TODO comment (and a note) for each statement it cannot invert."""
    try:
        statements = pglast.parse_sql(forward_sql)
    except pglast.parser.ParseError as exc:
        return InferredRollback(None, False, [f"the forward SQL does not parse: {exc.args[0]}"])
    encoded = forward_sql.encode("utf-8")
    # (settings in effect, undo steps) per forward statement; the settings are the SET statements' own text.
    groups: list[tuple[tuple[str, ...], list[str]]] = []
    settings: dict[str, str] = {}
    notes: list[str] = []
    complete = True
    state = _State()
    for raw in statements:
        node = raw.stmt
        if isinstance(node, ast.VariableSetStmt) and (node.name in _NAME_SETTINGS or node.name is None):
            kind = node.kind.name
            if kind == "VAR_RESET_ALL":
                settings.clear()
            elif node.name is not None:
                settings.pop(node.name, None)  # the latest SET of a name comes last
                if kind not in ("VAR_RESET", "VAR_SET_DEFAULT"):
                    settings[node.name] = _statement_text(encoded, raw)
            continue
        try:
            steps, note, exact = _invert(node, state)
        except _Cannot as reason:
            text = str(reason)
            steps, note, exact = [f"-- TODO: {text}"], text, False
        groups.append((tuple(settings.values()), steps))
        if note:
            notes.append(note)
        complete = complete and exact
    undo: list[str] = []
    in_effect: tuple[str, ...] = ()
    for wanted, steps in reversed(groups):  # later commands are undone first
        steps = [s for s in steps if s not in state.dropped]
        if not steps:
            continue
        if wanted != in_effect:
            undo.extend(_switch_settings(in_effect, wanted))
            in_effect = wanted
        undo.extend(reversed(steps))
    return InferredRollback("\n".join(undo) if undo else None, complete, notes)


class _State:
    """What earlier statements of the forward SQL did, for the statements after them."""

    def __init__(self) -> None:
        self.created_indexes: dict[str, str] = {}  # index name -> its undo step
        self.dropped: set[str] = set()  # undo steps that a later undo step makes unnecessary


def _statement_text(encoded: bytes, raw) -> str:
    start = raw.stmt_location or 0
    end = start + raw.stmt_len if raw.stmt_len else len(encoded)
    text = encoded[start:end].decode("utf-8")
    from engine.analysis.sql import skip_blanks_and_comments
    text = text[skip_blanks_and_comments(text, 0, len(text)):].rstrip().rstrip(";").rstrip()
    return text + ";"


def _switch_settings(current: tuple[str, ...], wanted: tuple[str, ...]) -> list[str]:
    """The SET/RESET statements that take the rollback's session from `current` to `wanted`."""
    steps = [s for s in wanted if s not in current]
    wanted_names = {_setting_name(s) for s in wanted}
    for statement in current:
        name = _setting_name(statement)
        if name not in wanted_names:
            steps.append(f"RESET {name};")
    return steps


def _setting_name(statement: str) -> str:
    node = pglast.parse_sql(statement)[0].stmt
    return node.name


def with_notes(inferred: InferredRollback) -> str | None:
    """The rollback SQL preceded by its notes as SQL comments, so the reader sees what it cannot restore."""
    notes = [f"-- note: {note}" for note in inferred.notes if note not in (inferred.sql or "")]
    parts = notes + ([inferred.sql] if inferred.sql else [])
    return "\n".join(parts) if parts else None


def rollback_block(inferred: InferredRollback) -> str:
    """The `-- ROLLBACK:` section for a file: the marker, then every line of the rollback behind `-- `."""
    lines = [ROLLBACK_MARKER]
    body = with_notes(inferred) or "-- TODO: write the rollback"
    for line in body.split("\n"):
        lines.append("-- " + line if line else "--")
    return "\n".join(lines) + "\n"


def _invert(node, state: _State) -> tuple[list[str], str | None, bool]:
    """([undo statements in forward order], note, exact) for one statement, or raise _Cannot."""
    name = type(node).__name__
    if name in _STATEFUL:
        undo, note, exact = _STATEFUL[name](node, state)
    elif name in _HANDLERS:
        undo, note, exact = _HANDLERS[name](node)
    else:
        raise _Cannot(f"cannot infer the inverse of {_describe(node)}")
    if getattr(node, "if_not_exists", False) or any(
            getattr(command, "missing_ok", False) and getattr(command, "subtype", None) == AlterTableType.AT_AddColumn
            for command in getattr(node, "cmds", None) or ()):
        # The forward statement may have done nothing; its inverse cannot know and drops what it finds.
        warning = (f"IF NOT EXISTS: `{' '.join(undo)}` also removes an object that existed before this migration "
                   "(the forward statement then did nothing)")
        return undo, f"{note}; {warning}" if note else warning, False
    return undo, note, exact


def _describe(node) -> str:
    name = type(node).__name__
    words = re.sub(r"Stmt$", "", name)
    return re.sub(r"(?<!^)(?=[A-Z])", " ", words).upper()


def _create_table(node):
    return [f"DROP TABLE {_relation(node.relation)};"], None, True


def _create_table_as(node):
    kind = "MATERIALIZED VIEW" if node.objtype == ObjectType.OBJECT_MATVIEW else "TABLE"
    return [f"DROP {kind} {_relation(node.into.rel)};"], None, True


def _view(node):
    if node.replace:
        raise _Cannot(f"CREATE OR REPLACE VIEW {_relation(node.view)}: restore the previous definition by hand")
    return [f"DROP VIEW {_relation(node.view)};"], None, True


def _index(node, state: _State):
    steps, note, exact = _plain_index(node)
    state.created_indexes[node.idxname] = steps[0]
    return steps, note, exact


def _plain_index(node):
    if not node.idxname:
        raise _Cannot("cannot drop an unnamed index: give the index a name in the forward SQL")
    schema = getattr(node.relation, "schemaname", None)
    name = ".".join(quote_ident(p) for p in (schema, node.idxname) if p)
    concurrently = " CONCURRENTLY" if node.concurrent else ""
    note = "DROP INDEX CONCURRENTLY cannot run in a transaction: the rollback needs its own no-transaction run" \
        if node.concurrent else None
    return [f"DROP INDEX{concurrently} {name};"], note, True


def _type_stmt(kind: str):
    def invert(node):
        names = node.domainname if kind == "DOMAIN" else (getattr(node, "typeName", None) or node.typevar)
        target = _relation(names) if isinstance(names, ast.RangeVar) else _names(names)
        return [f"DROP {kind} {target};"], None, True
    return invert


def _schema(node):
    return [f"DROP SCHEMA {quote_ident(node.schemaname)};"], None, True


def _sequence(node):
    return [f"DROP SEQUENCE {_relation(node.sequence)};"], None, True


def _function(node):
    kind = "PROCEDURE" if node.is_procedure else "FUNCTION"
    if node.replace:
        raise _Cannot(f"CREATE OR REPLACE {kind} {_names(node.funcname)}: restore the previous definition by hand")
    arguments = [_sql(p.argType) for p in (node.parameters or ())
                 if getattr(p.mode, "value", p.mode) not in ("o", "t")]
    return [f"DROP {kind} {_names(node.funcname)}({', '.join(arguments)});"], None, True


def _extension(node):
    return [f"DROP EXTENSION {quote_ident(node.extname)};"], None, True


def _trigger(node):
    if node.replace:
        raise _Cannot(f"CREATE OR REPLACE TRIGGER {node.trigname}: restore the previous trigger by hand")
    return [f"DROP TRIGGER {quote_ident(node.trigname)} ON {_relation(node.relation)};"], None, True


def _default_constraint_name(table: str, columns: list[str], suffix: str) -> str:
    # PostgreSQL's own choice (ChooseConstraintName): table_col1_col2_suffix, or table_pkey.
    return f"{table}_{suffix}" if suffix == "pkey" else f"{table}_{'_'.join(columns)}_{suffix}"


def _alter_table(node, state: _State):
    table = _relation(node.relation)
    undo, notes, exact = [], [], True
    for command in node.cmds or ():
        subtype = command.subtype.name
        column = quote_ident(command.name) if command.name else None
        if subtype == "AT_AddColumn":
            undo.append(f"ALTER TABLE {table} DROP COLUMN {quote_ident(command.def_.colname)};")
        elif subtype == "AT_AddConstraint":
            constraint = command.def_
            name = constraint.conname
            if not name:
                suffix = {"CONSTR_PRIMARY": "pkey", "CONSTR_UNIQUE": "key", "CONSTR_FOREIGN": "fkey",
                          "CONSTR_CHECK": "check", "CONSTR_EXCLUSION": "excl"}.get(constraint.contype.name)
                keys = [k.sval for k in (constraint.keys or constraint.fk_attrs or ())]
                if suffix is None or (suffix != "pkey" and not keys):
                    raise _Cannot(f"cannot drop an unnamed constraint on {table}: name it in the forward SQL")
                name = _default_constraint_name(node.relation.relname, keys, suffix)
                notes.append(f"constraint name '{name}' assumed from PostgreSQL's default naming")
            undo.append(f"ALTER TABLE {table} DROP CONSTRAINT {quote_ident(name)};")
            if constraint.indexname:
                # USING INDEX hands the index to the constraint (renamed to the constraint's name): dropping
                # the constraint drops it. https://www.postgresql.org/docs/current/sql-altertable.html
                if constraint.indexname in state.created_indexes:
                    state.dropped.add(state.created_indexes[constraint.indexname])
                else:
                    unique = "UNIQUE " if constraint.contype.name in ("CONSTR_PRIMARY", "CONSTR_UNIQUE") else ""
                    index = quote_ident(constraint.indexname)
                    # Listed before the DROP CONSTRAINT: this command's steps are reversed with the rest.
                    undo.insert(len(undo) - 1, f"-- TODO: dropping {quote_ident(name)} also dropped the index "
                                f"{index} it was built from: recreate it (CREATE {unique}INDEX CONCURRENTLY "
                                f"{index} ...)")
                    notes.append(f"recreate the index {index} that the constraint {quote_ident(name)} took over")
                    exact = False
        elif subtype == "AT_ColumnDefault":
            if command.def_ is not None:
                undo.append(f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT;")
                notes.append(f"if {column} had a default before, restore it instead of dropping it")
                exact = False
            else:
                raise _Cannot(f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT: the previous default is "
                              "unknown; SET it again here")
        elif subtype == "AT_SetNotNull":
            undo.append(f"ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL;")
        elif subtype == "AT_DropNotNull":
            undo.append(f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL;")
            notes.append(f"SET NOT NULL on {column} fails if NULLs were written after the migration")
        elif subtype == "AT_ValidateConstraint":
            continue  # validation changes no definition; nothing to undo
        elif subtype == "AT_DropColumn":
            raise _Cannot(f"cannot infer the inverse of dropping column {column} of {table}: re-add it with its "
                          "type by hand (a dropped column comes back empty)")
        elif subtype == "AT_AlterColumnType":
            raise _Cannot(f"cannot infer the previous type of {column} in {table}: write ALTER COLUMN ... TYPE by hand")
        elif subtype == "AT_DropConstraint":
            raise _Cannot(f"cannot infer the definition of dropped constraint {column} on {table}: re-add it by hand")
        else:
            raise _Cannot(f"cannot infer the inverse of ALTER TABLE {table} ({subtype[3:]})")
    return undo, "; ".join(notes) or None, exact


_RENAMABLE = {ObjectType.OBJECT_TABLE: "TABLE", ObjectType.OBJECT_INDEX: "INDEX", ObjectType.OBJECT_VIEW: "VIEW",
              ObjectType.OBJECT_SEQUENCE: "SEQUENCE", ObjectType.OBJECT_MATVIEW: "MATERIALIZED VIEW"}


def _rename(node):
    kind = node.renameType
    if kind == ObjectType.OBJECT_COLUMN:
        return [f"ALTER TABLE {_relation(node.relation)} RENAME COLUMN {quote_ident(node.newname)} TO "
                f"{quote_ident(node.subname)};"], None, True
    if kind in _RENAMABLE:
        schema = getattr(node.relation, "schemaname", None)
        renamed = ".".join(quote_ident(p) for p in (schema, node.newname) if p)
        return [f"ALTER {_RENAMABLE[kind]} {renamed} RENAME TO {quote_ident(node.relation.relname)};"], None, True
    if kind == ObjectType.OBJECT_TABCONSTRAINT:
        return [f"ALTER TABLE {_relation(node.relation)} RENAME CONSTRAINT {quote_ident(node.newname)} TO "
                f"{quote_ident(node.subname)};"], None, True
    if kind == ObjectType.OBJECT_SCHEMA:
        return [f"ALTER SCHEMA {quote_ident(node.newname)} RENAME TO {quote_ident(node.subname)};"], None, True
    raise _Cannot(f"cannot infer the inverse of this RENAME ({kind.name[7:]})")


def _comment(node):
    node.comment = None
    return [_sql(node) + ";"], "COMMENT ... IS NULL removes the comment; if there was one before, restore its text", False


def _grant(node):
    if not node.is_grant:
        node.is_grant = True
        raise _Cannot(f"the privileges held before this REVOKE are unknown: if they were granted, restore them "
                      f"with {_sql(node)};")
    # The inverse of GRANT ... WITH GRANT OPTION is the whole REVOKE (not REVOKE GRANT OPTION FOR, which keeps
    # the privilege), with CASCADE for what the grantee may have granted on.
    cascade = bool(node.grant_option)
    node.is_grant, node.grant_option = False, False
    return [_sql(node) + (" CASCADE;" if cascade else ";")], None, True


def _drop(node):
    kind = node.removeType.name[7:].replace("_", " ")
    raise _Cannot(f"cannot infer DROP {kind}'s inverse: recreate the dropped object by hand (its data is not "
                  "restored)")


def _nothing(node):
    return [], None, True


def _data(node):
    raise _Cannot(f"cannot infer the inverse of {_describe(node).replace(' ', '')}: undo the data change by hand")


def _enum_value(node):
    raise _Cannot("PostgreSQL cannot remove an enum value: recreate the type without it, or leave it")


_STATEFUL = {"IndexStmt": _index, "AlterTableStmt": _alter_table}

_HANDLERS = {
    "CreateStmt": _create_table, "CreateTableAsStmt": _create_table_as, "ViewStmt": _view, 
    "CompositeTypeStmt": _type_stmt("TYPE"), "CreateEnumStmt": _type_stmt("TYPE"),
    "CreateRangeStmt": _type_stmt("TYPE"), "CreateDomainStmt": _type_stmt("DOMAIN"),
    "CreateSchemaStmt": _schema, "CreateSeqStmt": _sequence, "CreateFunctionStmt": _function,
    "CreateExtensionStmt": _extension, "CreateTrigStmt": _trigger,
    "RenameStmt": _rename, "CommentStmt": _comment, "GrantStmt": _grant, "DropStmt": _drop,
    "VariableSetStmt": _nothing, "AlterEnumStmt": _enum_value,
    "InsertStmt": _data, "UpdateStmt": _data, "DeleteStmt": _data,
}

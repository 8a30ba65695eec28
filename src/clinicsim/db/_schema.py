"""Typed tables: a column spec taken from the records, the DDL of each engine, and the
``clinicsim_meta`` table that marks a database clinicsim wrote.

A column's kind comes from its pandas dtype (the sampler's chunks carry the model's states
as categories): ``enum`` (ENUM in DuckDB, TEXT with a CHECK in SQLite), ``date`` (DATE),
``bool`` (BOOLEAN; SQLite: INTEGER with CHECK in (0, 1)), ``int``, ``float`` and ``text``.
The spec is stored as JSON in ``clinicsim_meta``, so a table is read back with the dtypes it
was written with, from any engine.

Identifiers are always quoted (:func:`identifier`). The one place values enter SQL text is a
DDL constraint (ENUM or CHECK lists take no parameters): :func:`literal` writes a standard
SQL string literal (quotes doubled), the form DuckDB and SQLite parse without escapes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import pandas as pd

from .._errors import ArgumentError, ClinicSimError

__all__ = ["MAX_NAME_CHARS", "META_TABLE", "Column", "check_table_name", "columns_of",
           "create_table", "from_json", "identifier", "key_column", "literal", "meta_table",
           "to_json"]

META_TABLE = "clinicsim_meta"
# Columns that every records table holds without a missing value
_REQUIRED = ("patient_id", "visit_date", "age", "gender", "diagnosis", "treatment",
             "follow_up")
MAX_NAME_CHARS = 63  # PostgreSQL's identifier limit, kept for every engine


@dataclass(frozen=True)
class Column:
    """One column of a typed table."""

    name: str
    kind: str  # enum, date, bool, int, float, text
    states: tuple[str, ...] = ()
    not_null: bool = False
    ordered: bool = False  # an ordered categorical (age_group)


def columns_of(chunk: pd.DataFrame) -> tuple[Column, ...]:
    """The typed columns of a records chunk, by dtype."""
    out = []
    for name, dtype in chunk.dtypes.items():
        name = str(name)
        states: tuple[str, ...] = ()
        ordered = False
        if isinstance(dtype, pd.CategoricalDtype):
            kind, states = "enum", tuple(str(s) for s in dtype.categories)
            ordered = bool(dtype.ordered)
        elif dtype.kind == "b":
            kind = "bool"
        elif dtype.kind in "iu":
            kind = "int"
        elif dtype.kind == "f":
            kind = "float"
        elif dtype.kind == "M":
            kind = "date"
        else:
            kind = "text"
        out.append(Column(name, kind, states, name in _REQUIRED, ordered))
    return tuple(out)


def key_column(columns: tuple[Column, ...]) -> str | None:
    """The primary key: ``visit_id`` in a history's visits, else ``patient_id``."""
    names = {c.name for c in columns}
    return next((k for k in ("visit_id", "patient_id") if k in names), None)


def to_json(columns: tuple[Column, ...]) -> str:
    return json.dumps([asdict(c) for c in columns])


def from_json(text: str) -> tuple[Column, ...]:
    return tuple(Column(c["name"], c["kind"], tuple(c["states"]), c["not_null"],
                        c.get("ordered", False)) for c in json.loads(text))


def identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (a double quote inside doubled)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """``value`` as a standard SQL string literal (a single quote inside doubled).

    >>> literal("x'); DROP TABLE person;--")
    "'x''); DROP TABLE person;--'"
    """
    if "\x00" in value:
        raise ClinicSimError(f"a state name cannot hold a NUL character: {value!r}")
    return "'" + value.replace("'", "''") + "'"


def check_table_name(table: object, what: str = "table") -> str:
    """A table name to create: text of 1 to 63 characters, no NUL, not ``clinicsim_*``."""
    if not isinstance(table, str) or not table or len(table) > MAX_NAME_CHARS \
            or "\x00" in table:
        raise ArgumentError(f"`{what}` must be a name of 1 to {MAX_NAME_CHARS} characters; "
                            f"got {table!r}")
    if table.lower().startswith("clinicsim_"):
        raise ArgumentError(f"`{what}` {table!r}: names starting with 'clinicsim_' are "
                            "clinicsim's own")
    return table


_DUCKDB = {"date": "DATE", "bool": "BOOLEAN", "int": "BIGINT", "float": "DOUBLE",
           "text": "VARCHAR"}
_SQLITE = {"date": "DATE", "bool": "INTEGER", "int": "INTEGER", "float": "REAL",
           "text": "TEXT"}


def create_table(dialect: str, table: str, columns: tuple[Column, ...],
                 key: str | None = None) -> str:
    """``CREATE TABLE`` for ``dialect`` (``duckdb`` or ``sqlite``), key ``key``."""
    key = key_column(columns) if key is None else key
    parts = []
    for c in columns:
        name = identifier(c.name)
        states = ", ".join(literal(s) for s in c.states)
        if dialect == "duckdb":
            kind = f"ENUM({states})" if c.kind == "enum" else _DUCKDB[c.kind]
            check = ""
        else:
            kind = "TEXT" if c.kind == "enum" else _SQLITE[c.kind]
            check = {"enum": f" CHECK ({name} IN ({states}))",
                     "bool": f" CHECK ({name} IN (0, 1))",
                     # '+0 days' normalises 2024-02-30, which date() alone keeps
                     "date": f" CHECK ({name} IS date({name}, '+0 days'))"}.get(c.kind, "")
        null = " NOT NULL" if c.not_null or c.name == key else ""
        parts.append(f"{name} {kind}{null}{check}")
    if key is not None:
        parts.append(f"PRIMARY KEY ({identifier(key)})")
    return f"CREATE TABLE {identifier(table)} ({', '.join(parts)})"


def meta_table(dialect: str) -> str:
    text = "VARCHAR" if dialect == "duckdb" else "TEXT"
    return (f"CREATE TABLE IF NOT EXISTS {META_TABLE} (table_name {text} PRIMARY KEY, "
            f"kind {text} NOT NULL, columns {text} NOT NULL, rows BIGINT NOT NULL, "
            f"clinicsim_version {text} NOT NULL)")

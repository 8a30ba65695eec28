"""Records into a PostgreSQL table through ``COPY`` (psycopg 3), in one transaction.

``--database postgresql://USER:PASSWORD@HOST:PORT/DB`` (or the URL as ``-o``) and
``write_sample(URL, ...)``. The table (``--table NAME`` or ``SCHEMA.NAME``, default
``public.records``) gets typed columns: DATE, BOOLEAN, BIGINT, TEXT, and an ENUM type per
category column (``TABLE_COLUMN``) holding the model's states. Every identifier is quoted by
psycopg (``sql.Identifier``); state names enter the ENUM's DDL only as ``sql.Literal``
(libpq's quoting, DDL takes no parameters) and rows only through COPY. The load commits
once, at the end, or not at all; an unreachable server, a failed login, a missing schema
or an existing table (without ``replace``) is an error naming it, with the password
redacted from every message.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from typing import Any, BinaryIO, cast

import pandas as pd

from .._errors import ClinicSimError
from ._schema import Column, check_table_name, columns_of, key_column

__all__ = ["check_schema", "connect", "is_database_url", "redact", "table_exists",
           "write_postgres"]

_TYPES = {"date": "DATE", "bool": "BOOLEAN", "int": "BIGINT", "float": "DOUBLE PRECISION",
          "text": "TEXT"}


def is_database_url(output: object) -> bool:
    """Whether ``output`` is a PostgreSQL URL rather than a file name."""
    return isinstance(output, str) and output.lower().startswith(("postgresql://",
                                                                   "postgres://"))


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***``.

    >>> redact("postgresql://ann:s3cret@db.example.org:5432/clinic")
    'postgresql://ann:***@db.example.org:5432/clinic'
    """
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = re.sub(r":[^@]*@", ":***@", parts.netloc, count=1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ClinicSimError("PostgreSQL needs the psycopg package: "
                             "pip install 'clinicsim[postgres]'") from None
    return psycopg


def _clean(message: object, url: str) -> str:
    """A driver message on one line, with no password in it."""
    password = urllib.parse.urlsplit(url).password
    text = "; ".join(line.strip() for line in str(message).strip().splitlines() if line.strip())
    if password:
        text = text.replace(password, "***")
        text = text.replace(urllib.parse.unquote(password), "***")
    return text


def split_table(table: str) -> tuple[str, str]:
    """``SCHEMA.NAME`` or ``NAME`` (schema ``public``)."""
    schema, _, name = table.rpartition(".")
    return schema or "public", check_table_name(name)


def connect(url: str) -> Any:
    """A psycopg connection to ``url``, or an error naming the server (password redacted)."""
    psycopg = _psycopg()
    shown = redact(url)
    try:
        return psycopg.connect(url, connect_timeout=10, autocommit=False)
    except psycopg.Error as exc:
        raise ClinicSimError(f"cannot connect to PostgreSQL {shown}: {_clean(exc, url)}"
                             ) from None
    except Exception as exc:  # a malformed URL: psycopg's ProgrammingError or ValueError
        raise ClinicSimError(f"database URL {shown}: {_clean(exc, url)}") from None


def check_schema(con: Any, schema: str, where: str) -> None:
    if con.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s",
                   [schema]).fetchone() is None:
        raise ClinicSimError(f"{where}: no schema {schema!r} in the database")


def table_exists(con: Any, schema: str, name: str) -> bool:
    return con.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND "
                       "table_name = %s", [schema, name]).fetchone() is not None


def write_postgres(chunks: Iterable[pd.DataFrame], url: str, *, table: str = "records",
                   replace: bool = False) -> int:
    """Load record chunks into ``table`` of the PostgreSQL database at ``url`` through COPY,
    in one transaction; return the number of rows."""
    psycopg = _psycopg()
    from psycopg import sql

    schema, name = split_table(check_table_name(table))
    con = connect(url)
    where = f"PostgreSQL {redact(url)}, table {schema}.{name}"
    try:
        with con:  # commits at the end of the block, rolls back on any exception
            check_schema(con, schema, where)
            exists = table_exists(con, schema, name)
            if exists and not replace:
                raise ClinicSimError(f"{where} exists; pass --replace (replace=True) to "
                                     "replace it, or name another --table")
            target = sql.Identifier(schema, name)
            if exists:
                con.execute(sql.SQL("DROP TABLE {} CASCADE").format(target))
            rows = 0
            columns: tuple[Column, ...] | None = None
            for chunk in chunks:
                if columns is None:
                    columns = columns_of(chunk)
                    _create(con, sql, schema, name, columns)
                rows += _copy(con, sql, target, chunk)
            if columns is None:
                raise ClinicSimError("no records to write")
    except psycopg.Error as exc:
        raise ClinicSimError(f"{where}: {_clean(exc, url)}") from None
    finally:
        con.close()
    return rows


def _create(con: Any, sql: Any, schema: str, name: str, columns: tuple[Column, ...]) -> None:
    parts = []
    key = key_column(columns)
    for c in columns:
        if c.kind == "enum":
            kind = sql.Identifier(schema, f"{name}_{c.name}")
            con.execute(sql.SQL("DROP TYPE IF EXISTS {}").format(kind))
            con.execute(sql.SQL("CREATE TYPE {} AS ENUM ({})").format(
                kind, sql.SQL(", ").join(sql.Literal(s) for s in c.states)))
        else:
            kind = sql.SQL(_TYPES[c.kind])
        null = sql.SQL(" NOT NULL" if c.not_null or c.name == key else "")
        parts.append(sql.SQL("{} {}{}").format(sql.Identifier(c.name), kind, null))
    if key is not None:
        parts.append(sql.SQL("PRIMARY KEY ({})").format(sql.Identifier(key)))
    con.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(schema, name),
                                                        sql.SQL(", ").join(parts)))


class _Into:
    """A file-like ``write``/``writelines`` over a psycopg ``Copy``."""

    def __init__(self, copy: Any) -> None:
        self.copy = copy

    def write(self, data: bytes) -> None:
        self.copy.write(data)

    def writelines(self, pieces: Iterable[Any]) -> None:
        for piece in pieces:
            self.copy.write(memoryview(piece))


def _copy(con: Any, sql: Any, target: Any, chunk: pd.DataFrame) -> int:
    """One chunk as CSV text (the CSV writer's Arrow encoder), through COPY."""
    from ..simulate._writers import _CSV, _write_text

    statement = sql.SQL("COPY {} FROM STDIN (FORMAT csv, HEADER true)").format(target)
    with con.cursor() as cursor, cursor.copy(statement) as copy:
        return _write_text([chunk], cast(BinaryIO, _Into(copy)), _CSV)

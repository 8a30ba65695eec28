"""Records into and out of DuckDB and SQLite files, by suffix.

A database file is written as every other output is (:func:`clinicsim._io.atomic_path`):
under a temporary name in the same folder, renamed when complete. When the file already
exists it must be a database clinicsim wrote (it holds ``clinicsim_meta``); it is copied to
the temporary name, the table is added there, and the copy replaces it. Any other existing
file is refused, never overwritten; a table that exists is refused unless ``replace``.

Chunks are inserted one at a time (DuckDB from Arrow, SQLite through ``executemany``),
inside one transaction, so memory is bounded by a chunk.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ClinicSimError, RecordsError
from .._io import DATABASE_SUFFIXES, atomic_path, shown_path
from ._schema import (
    META_TABLE,
    Column,
    check_table_name,
    columns_of,
    create_table,
    from_json,
    identifier,
    meta_table,
    to_json,
)

__all__ = ["DATABASE_SUFFIXES", "check_database", "dialect_of", "read_records", "tables",
           "write_database"]

_EXTRA = {"duckdb": "duckdb", "sqlite": None}


def dialect_of(path: str | os.PathLike[str]) -> str:
    """``duckdb`` for ``.duckdb``, ``sqlite`` for ``.sqlite`` and ``.sqlite3``."""
    return "duckdb" if Path(path).suffix.lower() == ".duckdb" else "sqlite"


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise ClinicSimError("DuckDB files need the duckdb package: "
                             "pip install 'clinicsim[duckdb]'") from None
    return duckdb


def _is_engine_file(path: Path, dialect: str) -> bool:
    """Whether ``path`` starts as a file of ``dialect`` does (read before any engine opens
    it, so that a foreign file is never touched)."""
    with open(path, "rb") as file:
        head = file.read(16)
    if dialect == "sqlite":
        return head == b"SQLite format 3\x00"
    return head[8:12] == b"DUCK"


@contextlib.contextmanager
def _connect(path: Path, dialect: str, read_only: bool = False) -> Iterator[Any]:
    if dialect == "duckdb":
        duckdb = _duckdb()
        con = duckdb.connect(str(path), read_only=read_only)
    else:
        import sqlite3

        uri = f"{path.resolve().as_uri()}?mode=ro" if read_only else str(path)
        con = sqlite3.connect(uri, uri=read_only, isolation_level=None)
    try:
        yield con
    finally:
        con.close()


def _error(dialect: str) -> tuple[type[BaseException], ...]:
    if dialect == "duckdb":
        return (_duckdb().Error,)
    import sqlite3

    return (sqlite3.Error,)


def _catalog(con: Any, dialect: str) -> set[str]:
    if dialect == "duckdb":
        rows = con.execute("SELECT table_name FROM information_schema.tables "
                           "WHERE table_schema = 'main'").fetchall()
    else:
        rows = con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows}


def _meta(con: Any) -> dict[str, tuple[str, tuple[Column, ...], int]]:
    rows = con.execute(f"SELECT table_name, kind, columns, rows FROM {META_TABLE}").fetchall()
    return {name: (kind, from_json(columns), n) for name, kind, columns, n in rows}


def tables(path: str | os.PathLike[str]) -> dict[str, str]:
    """The tables clinicsim wrote into the database file ``path``, each with its kind
    (``records``)."""
    path = Path(path)
    dialect = dialect_of(path)
    _check_ours(path, dialect, "database", RecordsError)
    with _opened(path, dialect, RecordsError) as con:
        return {name: kind for name, (kind, _, _) in sorted(_meta(con).items())}


@contextlib.contextmanager
def _opened(path: Path, dialect: str, error: type[ClinicSimError]) -> Iterator[Any]:
    try:
        with _connect(path, dialect, read_only=True) as con:
            yield con
    except _error(dialect) as exc:
        raise error(f"cannot read database {shown_path(path)!r}: "
                    f"{str(exc).splitlines()[0]}") from None


def _check_ours(path: Path, dialect: str, what: str, error: type[ClinicSimError]) -> None:
    engine = "DuckDB" if dialect == "duckdb" else "SQLite"
    if not path.is_file():
        raise error(f"cannot read {what} {shown_path(path)!r}: no such file")
    if not _is_engine_file(path, dialect):
        raise error(f"{what} {shown_path(path)!r} exists and is not a {engine} database; "
                    "it is not overwritten: remove it or name another file")
    with _opened(path, dialect, error) as con:
        if META_TABLE not in _catalog(con, dialect):
            raise error(f"{what} {shown_path(path)!r} is a {engine} database clinicsim did "
                        f"not write (no {META_TABLE} table); it is not changed: name "
                        "another file")


def check_database(path: str | os.PathLike[str], table: str = "records",
                   replace: bool = False) -> Path:
    """Refuse, before any work, a database output that would overwrite what it must not:
    an existing file that is not a database clinicsim wrote, or an existing ``table``
    unless ``replace``."""
    path = Path(path)
    table = check_table_name(table)
    if not os.path.lexists(path):
        return path
    dialect = dialect_of(path)
    _check_ours(path, dialect, "output", ClinicSimError)
    with _opened(path, dialect, ClinicSimError) as con:
        if table in _catalog(con, dialect) and not replace:
            raise ClinicSimError(f"output {shown_path(path)!r} already has a table {table!r}; "
                                 "pass --replace (replace=True) to replace it, or name "
                                 "another --table")
    return path


def write_database(chunks: Iterable[pd.DataFrame], path: str | os.PathLike[str], *,
                   table: str = "records", replace: bool = False, kind: str = "records"
                   ) -> int:
    """Write record chunks into ``table`` of the DuckDB or SQLite file ``path`` (by suffix);
    return the number of rows. Nothing changes unless every chunk is written."""
    path = check_database(path, table, replace)
    dialect = dialect_of(path)
    if dialect == "duckdb":
        _duckdb()
    with transaction(path, dialect) as con:
        con.execute(f"DROP TABLE IF EXISTS {identifier(table)}")
        rows, columns = _insert(con, dialect, table, chunks)
        mark_ours(con, dialect, [table], kind, to_json(columns), rows)
    return rows


@contextlib.contextmanager
def transaction(path: Path, dialect: str) -> Iterator[Any]:
    """A connection, in one transaction, to a copy of the database file ``path`` (a new file
    where there is none); the copy replaces ``path`` only when the block ends without error,
    so nothing changes otherwise. A driver's error becomes one ``cannot write output`` line."""
    with atomic_path(path, what="output") as tmp:
        if os.path.lexists(path):
            shutil.copyfile(path, tmp)
        elif dialect == "duckdb":
            tmp.unlink()  # DuckDB makes its own file; an empty one is no database to it
        try:
            with _connect(tmp, dialect) as con:
                con.execute("BEGIN")
                yield con
                con.execute("COMMIT")
        except _error(dialect) as exc:
            raise ClinicSimError(f"cannot write output {shown_path(path)!r}: "
                                 f"{str(exc).splitlines()[0]}") from None
        finally:
            for leftover in (f"{tmp}.wal", f"{tmp}-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(leftover)


def mark_ours(con: Any, dialect: str, tables: Iterable[str], kind: str, columns: str,
              rows: int) -> None:
    """Record ``tables`` in clinicsim's own table of the database: what marks a file as one
    clinicsim wrote, and how to read each table back."""
    from .. import __version__

    con.execute(meta_table(dialect))
    for table in tables:
        con.execute(f"DELETE FROM {META_TABLE} WHERE table_name = ?", [table])
        con.execute(f"INSERT INTO {META_TABLE} VALUES (?, ?, ?, ?, ?)",
                    [table, kind, columns, rows, __version__])


def _insert(con: Any, dialect: str, table: str, chunks: Iterable[pd.DataFrame]
            ) -> tuple[int, tuple[Column, ...]]:
    rows = 0
    columns: tuple[Column, ...] | None = None
    name = identifier(table)
    for chunk in chunks:
        if columns is None:
            columns = columns_of(chunk)
            con.execute(create_table(dialect, table, columns))
        if dialect == "duckdb":
            import pyarrow as pa

            arrow = pa.Table.from_pandas(chunk, preserve_index=False)
            arrow = arrow.cast(pa.schema([f.with_type(pa.date32())
                                          if pa.types.is_timestamp(f.type) else f
                                          for f in arrow.schema]))
            con.register("clinicsim_chunk", arrow)
            con.execute(f"INSERT INTO {name} SELECT * FROM clinicsim_chunk")
            con.unregister("clinicsim_chunk")
        else:
            marks = ", ".join("?" * len(columns))
            con.executemany(f"INSERT INTO {name} VALUES ({marks})",
                            zip(*(_sqlite_values(chunk[c.name], c) for c in columns),
                                strict=True))
        rows += len(chunk)
    if columns is None:
        raise ClinicSimError("no records to write")
    return rows, columns


def _sqlite_values(series: pd.Series, column: Column) -> list[Any]:
    if column.kind == "date":
        days = series.to_numpy().astype("datetime64[D]")
        text = np.datetime_as_string(days).astype(object)
        text[np.isnat(days)] = None
        return text.tolist()
    if column.kind == "bool":
        return series.astype(np.int64).tolist()
    return series.astype(object).where(series.notna(), None).tolist()


def read_records(path: str | os.PathLike[str], table: str | None = None) -> pd.DataFrame:
    """The records of ``table`` in the DuckDB or SQLite file ``path``, with the dtypes they
    were written with (categories in the model's state order, dates, booleans).

    ``table`` may be left out when the file holds one records table.
    """
    from ..analysis import MAX_RECORDS_ROWS

    path = Path(path)
    dialect = dialect_of(path)
    _check_ours(path, dialect, "records database", RecordsError)
    name = shown_path(path)
    with _opened(path, dialect, RecordsError) as con:
        meta = _meta(con)
        records = sorted(t for t, (kind, _, _) in meta.items() if kind == "records")
        if table is None:
            if len(records) != 1:
                raise RecordsError(f"records database {name!r} holds "
                                   + (f"{len(records)} records tables ({', '.join(records)}); "
                                      "name one with --table (table=)" if records
                                      else "no records table"))
            table = records[0]
        if table not in meta:
            raise RecordsError(f"records database {name!r} has no table {table!r}"
                               + (f"; it has {', '.join(records)}" if records else ""))
        _, columns, rows = meta[table]
        if rows > MAX_RECORDS_ROWS:
            raise RecordsError(f"records table {table!r} of {name!r} has {rows:,} rows; the "
                               f"limit is {MAX_RECORDS_ROWS:,}")
        query = f"SELECT * FROM {identifier(table)}"
        if dialect == "duckdb":
            relation = con.sql(query)  # to_arrow_table: newer DuckDB; arrow: before
            arrow = getattr(relation, "to_arrow_table", None) or relation.arrow
            frame = arrow().to_pandas(date_as_object=False)
        else:
            frame = pd.read_sql_query(query, con)
    if len(frame) == 0:
        raise RecordsError(f"records table {table!r} of {name!r} has no rows")
    return typed(frame, columns)


def typed(frame: pd.DataFrame, columns: tuple[Column, ...]) -> pd.DataFrame:
    """``frame`` with each column of the spec in its records dtype."""
    out: dict[str, object] = {}
    for c in columns:
        values = frame[c.name]
        if c.kind == "enum":
            out[c.name] = pd.Categorical(values.astype(object), categories=list(c.states),
                                         ordered=c.ordered)
        elif c.kind == "date":
            out[c.name] = pd.to_datetime(values).astype("datetime64[s]")
        elif c.kind == "bool":
            out[c.name] = values.astype(bool) if values.notna().all() else \
                values.astype("boolean")
        elif c.kind == "int":
            out[c.name] = values.astype(np.int64) if values.notna().all() else \
                values.astype("Int64")
        elif c.kind == "text":
            out[c.name] = values.astype("string")
        else:
            out[c.name] = values.astype(float)
    return pd.DataFrame(out)

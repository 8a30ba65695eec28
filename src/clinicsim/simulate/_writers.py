"""Record writers: CSV, Parquet and JSON Lines, streamed block by block, written atomically."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .._io import RECORD_SUFFIXES, atomic_path, output_file

__all__ = ["RECORD_SUFFIXES", "ROW_GROUP_ROWS", "check_records_path", "encoded_bytes",
           "write_records"]

ROW_GROUP_ROWS = 1 << 20  # Parquet row group: fixed, so output bytes never depend on chunking


def check_records_path(path: str | os.PathLike[str]) -> Path:
    """``path`` if its suffix is a records format and its folder exists, else an error."""
    return output_file(path, "output", "records", RECORD_SUFFIXES)


def write_records(chunks: Iterable[pd.DataFrame], path: str | os.PathLike[str] | None) -> int:
    """Write record chunks to ``path`` by suffix (CSV to standard output if None).

    Memory is bounded by one chunk. The file appears only when every chunk is written;
    an error or an interrupt leaves nothing behind. Returns the number of rows written.
    """
    if path is None:
        return _write_csv(chunks, sys.stdout)
    path = check_records_path(path)
    suffix = path.suffix.lower()
    with atomic_path(path) as tmp:
        if suffix == ".parquet":
            return _write_parquet(chunks, tmp)
        with open(tmp, "w", encoding="utf-8", newline="") as out:
            return _write_csv(chunks, out) if suffix == ".csv" else _write_jsonl(chunks, out)


def encoded_bytes(chunk: pd.DataFrame, suffix: str) -> int:
    """Bytes that ``chunk`` takes in a file of format ``suffix`` (``.csv``, ``.parquet``,
    ``.jsonl``)."""
    buffer = io.BytesIO()
    if suffix == ".parquet":
        _write_parquet([chunk], buffer)
        return buffer.tell()
    with io.TextIOWrapper(buffer, encoding="utf-8", newline="") as out:
        (_write_csv if suffix == ".csv" else _write_jsonl)([chunk], out)
        out.flush()
        return buffer.tell()


def _write_csv(chunks: Iterable[pd.DataFrame], out) -> int:
    rows = 0
    for chunk in chunks:
        chunk.to_csv(out, index=False, header=rows == 0, date_format="%Y-%m-%d",
                     lineterminator="\n")
        rows += len(chunk)
    return rows


def _write_jsonl(chunks: Iterable[pd.DataFrame], out) -> int:
    rows = 0
    for chunk in chunks:
        dates = chunk.select_dtypes("datetime").columns
        chunk = chunk.assign(**{c: chunk[c].dt.strftime("%Y-%m-%d") for c in dates})
        out.write(chunk.to_json(orient="records", lines=True))
        rows += len(chunk)
    return rows


def _write_parquet(chunks: Iterable[pd.DataFrame], path: Path | io.BytesIO) -> int:
    """Parquet in row groups of ``ROW_GROUP_ROWS``, whatever the size of the chunks.

    Chunks are re-cut into fixed row groups (each written from contiguous arrays), so the
    file's bytes depend only on the rows, not on how they arrived.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = held = 0
    pending: list[pa.Table] = []
    writer = None
    try:
        for chunk in chunks:
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            pending.append(table)
            held += len(table)
            rows += len(table)
            while held >= ROW_GROUP_ROWS:
                held_table = pa.concat_tables(pending)
                _write_row_group(writer, held_table.slice(0, ROW_GROUP_ROWS))
                pending, held = [held_table.slice(ROW_GROUP_ROWS)], held - ROW_GROUP_ROWS
        if held:
            _write_row_group(writer, pa.concat_tables(pending))
    finally:
        if writer is not None:
            writer.close()
    return rows


def _write_row_group(writer, table) -> None:
    writer.write_table(table.combine_chunks(), row_group_size=ROW_GROUP_ROWS)

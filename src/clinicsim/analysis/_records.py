"""Reading a records table and turning it into state codes, with every invalid value named.

Structural problems (no such file, unknown format, missing columns, no rows) raise
:class:`~clinicsim.RecordsError`: the table cannot be checked at all. Problems with single
values (unknown category, unparseable age, duplicate id, date outside the visit window)
become failing validity checks that name the column, the values and the first rows; those
rows are left out of the statistical checks.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._cells import booleans, days
from .._errors import RecordsError
from .._io import DATABASE_SUFFIXES, RECORD_SUFFIXES, input_file
from .._text import bad_text, not_unicode
from .._validate import shown
from ..model import MONTH_NODE, MONTHS
from ._model_info import ModelInfo, model_info

if TYPE_CHECKING:
    from ..model import ClinicModel

__all__ = ["MAX_RECORDS_COLUMNS", "MAX_RECORDS_ROWS", "MAX_TEXT_BYTES", "REQUIRED_COLUMNS",
           "Coded", "code_records", "read_records", "valid_records"]

REQUIRED_COLUMNS = ("patient_id", "visit_date", "age", "gender", "diagnosis", "treatment",
                    "follow_up")
# The checks hold the table in memory: about 5.5 times a CSV file's size at their peak
# (pandas 3, which keeps text columns in Arrow). 256 MiB is about 4 million clinicsim rows
# and 1.5 GB of memory; the Parquet limit (and `clinicsim sample --report`'s) is as many
# rows. Far fewer rows give the statistical checks ample power, so a larger file is
# refused up front, not streamed.
MAX_TEXT_BYTES = 256 * 2**20
MAX_RECORDS_ROWS = 4_000_000
# clinicsim writes 7 columns; a table of thousands is not records (pandas renames repeated
# CSV names in time quadratic in their number: 300,000 took minutes).
MAX_RECORDS_COLUMNS = 1_000
_TOO_BIG = ("; check a random sample of its rows instead (a million rows give the tests "
            "ample power)")
_JSON_CHUNK_ROWS = 1 << 16
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")  # half of a pair, or lone
# The columns `extended=True` adds that are not nodes: checked when present.
EXTENDED_COLUMNS = ("diagnosis_code", "diagnosis_category", "follow_up_date")
_SHOWN_ROWS = 3  # offending rows quoted per problem
_SHOWN_CHARS = 40  # of each quoted value: a stray 1 MB cell must not flood the report
# What pandas infers for an object column whose cells are all plain values
_PLAIN_KINDS = {"string", "bytes", "floating", "integer", "mixed-integer-float", "decimal",
                "boolean", "datetime64", "datetime", "date", "timedelta64", "timedelta",
                "time", "period", "empty", "categorical"}
_BOOL_SPELLINGS = {"true": "True", "t": "True", "1": "True", "yes": "True",
                   "false": "False", "f": "False", "0": "False", "no": "False"}


@dataclass
class Problem:
    """Invalid values in one column: what is wrong, how many rows, the first examples.

    ``str()`` leaves out the column: the check it belongs to is named after it.
    """

    column: str
    what: str
    rows: np.ndarray  # 0-based positions
    values: list[object]

    def __str__(self) -> str:
        examples = ", ".join(f"row {r + 1} {_show(v)}"
                             for r, v in zip(self.rows[:_SHOWN_ROWS], self.values, strict=True))
        more = ", ..." if len(self.rows) > _SHOWN_ROWS else ""
        plural = "row" if len(self.rows) == 1 else "rows"
        return f"{len(self.rows):,} {plural} {self.what} ({examples}{more})"


@dataclass
class Coded:
    """A records table as node state codes, for the rows without invalid values."""

    n_rows: int
    codes: dict[str, np.ndarray]  # node -> codes of the usable rows
    age: np.ndarray  # ages of the usable rows
    problems: dict[str, list[Problem]]  # column -> problems (every checked column present)
    notes: list[str] = field(default_factory=list)
    days: np.ndarray | None = None  # visit dates (datetime64[D]) of the usable rows
    follow_up_dates: np.ndarray | None = None  # of the usable rows, NaT where none; None
    # when the records have no follow_up_date column

    @property
    def n_used(self) -> int:
        return len(self.age)


def valid_records(records: pd.DataFrame | str | os.PathLike[str], model: ClinicModel,
                  refusal: str) -> pd.DataFrame:
    """``records`` (a DataFrame or a records file) typed (``age`` int64, ``follow_up`` bool)
    if every value is valid for ``model``; else a :class:`RecordsError` listing the records
    check's own messages, then ``refusal`` (what was not done).

    Examples
    --------
    >>> import clinicsim
    >>> from clinicsim.analysis import valid_records
    >>> records = clinicsim.sample(100, seed=1)
    >>> valid_records(records, clinicsim.default_model(), "export").dtypes["age"]
    dtype('int64')
    """
    frame = read_records(records)
    coded = code_records(frame, model_info(model))
    problems = [f"records: {column}: {p}" for column, ps in coded.problems.items() for p in ps]
    if problems:
        raise RecordsError([*problems, refusal])
    # A CSV or JSON Lines file holds text: the checks above accepted it, now type it.
    follow_up = frame["follow_up"]
    if follow_up.dtype != bool:
        follow_up = follow_up.astype(str).str.lower().map(_BOOL_SPELLINGS) == "True"
    return frame.assign(age=pd.to_numeric(frame["age"]).astype(np.int64), follow_up=follow_up)


def read_records(records: pd.DataFrame | str | os.PathLike[str]) -> pd.DataFrame:
    """``records`` as a DataFrame: itself, or read from a ``.csv``/``.parquet``/``.jsonl`` file
    or the one records table of a ``.duckdb``/``.sqlite`` file (:func:`clinicsim.db.read_records`).

    Files are refused before they are read when they are larger than the limits
    (:data:`MAX_TEXT_BYTES` of CSV or JSON Lines, :data:`MAX_RECORDS_ROWS` rows of Parquet):
    the checks hold the whole table in memory, a few times the size of a CSV file.
    """
    if isinstance(records, pd.DataFrame):
        return records
    if not isinstance(records, (str, os.PathLike)):
        raise RecordsError(f"`records` must be a DataFrame or a path to a .csv, .parquet or "
                           f".jsonl file; got {type(records).__name__}")
    path = Path(records)
    name = str(path)
    suffix = path.suffix.lower()
    if suffix in DATABASE_SUFFIXES:  # its one records table, typed
        from ..db import read_records as read_database

        return read_database(path)
    if suffix not in RECORD_SUFFIXES and path.is_dir():
        raise RecordsError(f"records file {name!r} is a folder; a FHIR export folder (with "
                           "Patient.ndjson) is read by clinicsim.fhir.read_records")
    if suffix not in RECORD_SUFFIXES:
        raise RecordsError(f"records file {name!r}: unknown format "
                           f"{suffix or '(no suffix)'!r}; use "
                           f"{', '.join(RECORD_SUFFIXES + DATABASE_SUFFIXES)}")
    size = input_file(path, "records file", MAX_TEXT_BYTES if suffix != ".parquet" else 2**62,
                      RecordsError, _TOO_BIG)
    if size == 0:
        raise RecordsError(f"records file {name!r} is empty (0 bytes)")
    try:
        if suffix == ".csv":
            _check_header(path)
            # Everything as text: parsing is done (and reported) column by column below.
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                                encoding="utf-8-sig")
        elif suffix == ".parquet":
            frame = _read_parquet(path)
        else:
            frame = _read_jsonl(path)
    except RecordsError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types for a malformed file
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RecordsError(f"cannot read records file {name!r}: {message}") from None
    if len(frame) == 0:
        raise RecordsError(f"records file {name!r} has no rows")
    return frame


def _check_columns(names: list[str], where: str) -> None:
    """Refuse more than MAX_RECORDS_COLUMNS columns, or a name given twice (which pandas
    would silently rename ``gender.1`` when reading a CSV)."""
    if len(names) > MAX_RECORDS_COLUMNS:
        raise RecordsError(f"{where} has {len(names):,} columns; the limit is "
                           f"MAX_RECORDS_COLUMNS = {MAX_RECORDS_COLUMNS:,}")
    seen: set[str] = set()
    twice = sorted({c for c in names if c in seen or seen.add(c)})  # type: ignore[func-returns-value]
    if twice:
        raise RecordsError(f"{where} has column(s) {', '.join(map(repr, twice))} more than once")


def _check_header(path: Path) -> None:
    """The CSV header's columns, read before pandas reads (and renames) them."""
    import csv

    with open(path, newline="", encoding="utf-8-sig") as file:
        try:
            header = next(csv.reader(file), [])
        except csv.Error as exc:
            raise RecordsError(f"cannot read records file {str(path)!r}: header: {exc}") from None
    _check_columns(header, f"records file {str(path)!r}")


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    rows = meta.num_rows
    if meta.num_columns > MAX_RECORDS_COLUMNS:
        _check_columns([""] * meta.num_columns, f"records file {str(path)!r}")
    if rows > MAX_RECORDS_ROWS:
        raise RecordsError(f"records file {str(path)!r} has {rows:,} rows; the limit is "
                           f"{MAX_RECORDS_ROWS:,}{_TOO_BIG}")
    return pd.read_parquet(path)


def _read_jsonl(path: Path) -> pd.DataFrame:
    """JSON Lines in chunks (parsing it whole takes about 12 times the file size in memory);
    a line that is not a JSON object, holds an integer pandas cannot read or text that is
    not valid Unicode, is named by its number."""
    try:
        return pd.concat(_jsonl_chunks(path), ignore_index=True)
    except (ValueError, TypeError):  # TypeError: a line holding a number, not an object
        with open(path, encoding="utf-8-sig") as lines:
            for number, line in enumerate(lines, 1):
                line = line.rstrip("\r\n")  # so that the column is on this line
                where = f"cannot read records file {str(path)!r}: line {number}"
                try:
                    value = json.loads(line, parse_int=_json_int) if line.strip() else {}
                except _HugeInteger as exc:
                    raise RecordsError(f"{where} holds an integer outside the 64-bit range: "
                                       f"{_cut(exc.text)} ({len(exc.text):,} characters)") from None
                except json.JSONDecodeError as exc:
                    raise RecordsError(f"{where} is not JSON: {exc.msg} "
                                       f"(column {exc.colno})") from None
                except RecursionError:
                    raise RecordsError(f"{where} is nested too deeply") from None
                if not isinstance(value, dict):
                    raise RecordsError(f"{where} is not a JSON object: {_show(value)}") from None
        raise


def _jsonl_chunks(path: Path) -> Iterator[pd.DataFrame]:
    """The file as DataFrames of _JSON_CHUNK_ROWS lines, parsed as ``pd.read_json(...,
    lines=True, dtype=False)`` parses them (its parser, then ``DataFrame`` of the rows: the
    same frames, as fast), but with the keys counted before the frame is made: pandas
    takes about 0.25 ms a column, so 300,000 distinct keys (one line of 4 MB, or one a
    line) would take minutes before MAX_RECORDS_COLUMNS could refuse them.

    A line that is not an object raises TypeError; bad JSON, ValueError.
    """
    from pandas.io.json import ujson_loads  # type: ignore[attr-defined]  # public, not in stubs

    keys: set[str] = set()
    read = 0
    with open(path, encoding="utf-8-sig") as file:
        while lines := list(itertools.islice(file, _JSON_CHUNK_ROWS)):
            read += len(lines)
            text = "[" + ",".join(t for t in map(str.strip, lines) if t) + "]"
            if _SURROGATE_ESCAPE.search(text):  # pandas' parser drops a lone "\ud800"
                _check_escapes(path, lines, read - len(lines))
            rows = ujson_loads(text)
            for row in rows:
                if not isinstance(row, dict):
                    raise TypeError("a line that is not an object")
                keys.update(row)
            if len(keys) > MAX_RECORDS_COLUMNS:
                raise RecordsError(f"records file {str(path)!r} has at least {len(keys):,} "
                                   f"columns (keys in its first {read:,} lines); the limit "
                                   f"is MAX_RECORDS_COLUMNS = {MAX_RECORDS_COLUMNS:,}")
            yield pd.DataFrame(rows)


def _check_escapes(path: Path, lines: list[str], before: int) -> None:
    """Refuse the first of ``lines`` (after ``before`` others) whose text, read by Python's
    parser, holds a lone surrogate: pandas' would read ``"P\\ud800"`` as ``"P"``."""
    for number, line in enumerate(lines, before + 1):
        if not _SURROGATE_ESCAPE.search(line):
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            continue  # named as not JSON by the reader's own scan
        for key, cell in value.items() if isinstance(value, dict) else ():
            for text in (key, cell):
                if isinstance(text, str) and (why := not_unicode(text)):
                    raise RecordsError(f"cannot read records file {str(path)!r}: line {number}: "
                                       f"column {shown(key)}: {shown(text)} is not valid "
                                       f"Unicode text ({why})")


class _HugeInteger(ValueError):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _json_int(text: str) -> int:
    """A JSON integer in pandas' range (int64 or uint64), else :class:`_HugeInteger`.

    Checked on the digits: ``int()`` of more than 4,300 digits raises a ValueError of its own.
    """
    value = int(text) if len(text.lstrip("-")) <= 20 else None
    if value is None or not -(2**63) <= value < 2**64:
        raise _HugeInteger(text)
    return value


def code_records(frame: pd.DataFrame, info: ModelInfo) -> Coded:
    """Check every value of ``frame`` against the model and code the usable rows.

    Raises
    ------
    RecordsError
        When required columns are missing, the table has no rows, or no row is usable.
    """
    if isinstance(frame.columns, pd.MultiIndex):
        raise RecordsError(f"records have {frame.columns.nlevels} levels of column names (a "
                           "MultiIndex); give each column one name, e.g. with "
                           "frame.columns = frame.columns.map('_'.join)")
    if frame.columns.size > MAX_RECORDS_COLUMNS:
        _check_columns(list(frame.columns), "records table")
    names = [c for c in frame.columns if isinstance(c, str) and not_unicode(c)]
    if names:
        raise RecordsError(f"records column {shown(names[0])} is not valid Unicode text "
                           f"({not_unicode(names[0])}); rename it")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise RecordsError(f"records are missing column(s) {', '.join(map(repr, missing))}; "
                           f"found {', '.join(map(repr, map(str, frame.columns)))}")
    twice = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if twice:
        raise RecordsError(f"records have column(s) {', '.join(map(repr, twice))} more than once")
    n = len(frame)
    if n == 0:
        raise RecordsError("records table has no rows")
    checked = [*REQUIRED_COLUMNS, *(c for c in info.nodes
                                    if c in frame.columns and c not in REQUIRED_COLUMNS)]
    checked += [c for c in EXTENDED_COLUMNS if c in frame.columns and c not in checked]
    problems: dict[str, list[Problem]] = {c: [] for c in checked}
    bad = np.zeros(n, bool)  # rows left out of the statistics
    notes: list[str] = []
    # Lists, dicts and structs are reported first, then read as missing, so that no check
    # below meets a value it cannot hash or compare.
    column = {c: _plain(frame[c], c, problems, bad) for c in checked}

    ids = column["patient_id"]
    absent = ids.isna().to_numpy()
    _add(problems, "patient_id", "missing", absent, ids, bad)
    if not ids.is_unique:  # is_unique is ~3 times faster than duplicated() on 1e6 ids
        dup = (ids.duplicated(keep="first") & ~ids.isna()).to_numpy()
        # a duplicate id is reported, but both rows are still fine data
        _add(problems, "patient_id", "repeating an earlier id", dup, ids, None)

    age, age_ok = _ages(column["age"], problems, bad)
    band = info.band_of(age)
    low, high = info.age_range
    outside = age_ok & ((band < 0) | (age < low) | (age > high))
    lo = min(low, min(b[0] for b in info.bands.values()))
    hi = max(high, max(b[1] for b in info.bands.values()))
    _add(problems, "age", f"outside the age bands and the target range ({lo}..{hi} years, "
         f"target {low}..{high})", outside, column["age"], bad)

    days = _dates(column["visit_date"], problems, bad)
    window = info.window
    start, end = np.datetime64(window.start, "D"), np.datetime64(window.end, "D")
    late = ~np.isnat(days) & ((days < start) | (days > end))
    _add(problems, "visit_date", f"outside the visit window {window.start}..{window.end}",
         late, column["visit_date"], bad)

    codes: dict[str, np.ndarray] = {}
    for node in info.nodes:
        if node in column:
            codes[node] = _categorical(column[node], node, info.states[node], problems, bad)
            if node == "age_group":
                wrong = (codes[node] >= 0) & (band >= 0) & (codes[node] != band)
                _add(problems, node, "not the band of the row's age", wrong, column[node], bad)
        elif node == "age_group":
            codes[node] = band
            notes.append("age_group is derived from age with the model's age bands.")
        elif node == MONTH_NODE:
            # The model validates that the states are MONTHS, in any order.
            to_code = np.array([info.states[node].index(m) for m in MONTHS])
            month = days.astype("datetime64[M]").astype(np.int64) % 12
            codes[node] = np.where(np.isnat(days), -1, to_code[month])
            notes.append("visit_month is derived from visit_date.")
        else:
            notes.append(f"node {node!r} is neither a column nor derivable from the records: "
                         "its marginal is not checked, and it is summed out of its children's "
                         "checks.")
    follow_up_dates = _extended(column, codes, days, info, problems, bad)
    extra = [str(c) for c in frame.columns if c not in problems and c not in codes]
    if extra:
        notes.append(f"columns not checked: {', '.join(extra)}.")
    if bad.any():
        notes.append(f"{int(bad.sum()):,} of {n:,} rows have invalid values and are left out "
                     "of the statistical checks.")
    if bad.all():
        raise RecordsError(["no usable rows: every row has an invalid value"]
                           + [f"{p.column}: {p}" for ps in problems.values() for p in ps])
    if not bad.any():
        return Coded(n, codes, age, problems, notes, days, follow_up_dates)
    keep = ~bad
    return Coded(n, {k: v[keep] for k, v in codes.items()}, age[keep], problems, notes,
                 days[keep], None if follow_up_dates is None else follow_up_dates[keep])


def _extended(column: dict[str, pd.Series], codes: dict[str, np.ndarray], visit: np.ndarray,
              info: ModelInfo, problems: dict[str, list[Problem]], bad: np.ndarray
              ) -> np.ndarray | None:
    """Check the columns ``extended=True`` adds, when present, row by row against the
    model: ``diagnosis_code`` and ``diagnosis_category`` are the model's metadata for the
    row's diagnosis; ``follow_up_date`` is a date exactly on the rows with a follow-up,
    ``lo..hi`` days (the category's ``follow_up_days``) after ``visit_date``. Returns the
    follow-up dates (NaT where none), or None without the column. (``age_group`` is a
    node, checked against ``age`` with the nodes.)"""
    dx = codes["diagnosis"]
    known = dx >= 0
    states = info.states["diagnosis"]
    expected = {"diagnosis_code": [info.diagnosis_codes[d] for d in states],
                "diagnosis_category": [info.categories[d] for d in states]}
    for name, values in expected.items():
        if name not in column:
            continue
        cells = column[name]
        missing = cells.isna().to_numpy(bool)
        _add(problems, name, "missing", missing & known, cells, bad)
        cat = cells.array if isinstance(cells.dtype, pd.CategoricalDtype) else \
            pd.Categorical(cells)
        names = np.array([str(c) for c in cat.categories] + [None], object)
        text = names[np.asarray(cat.codes)]  # code -1 (missing) picks the appended None
        wrong = known & ~missing & (text != np.array(values, object)[np.where(known, dx, 0)])
        what = "code" if name == "diagnosis_code" else "category"
        _add(problems, name, f"not the model's {what} of the row's diagnosis", wrong, cells,
             bad)
    if "follow_up_date" not in column:
        return None
    cells = column["follow_up_date"]
    empty = cells.isna().to_numpy(bool)
    if cells.dtype == object or isinstance(cells.dtype, pd.StringDtype):
        empty = empty | (cells.astype(str).str.strip() == "").to_numpy(bool)
    parsed = np.where(empty, np.datetime64("NaT"), days(cells))
    _add(problems, "follow_up_date", "not a date (YYYY-MM-DD)", np.isnat(parsed) & ~empty,
         cells, bad)
    true = info.states["follow_up"].index("True")
    flag = codes["follow_up"]
    _add(problems, "follow_up_date", "missing on a row with follow_up True",
         empty & (flag == true), cells, bad)
    _add(problems, "follow_up_date", "present on a row with follow_up False",
         ~empty & (flag >= 0) & (flag != true), cells, bad)
    spans = info.follow_up_days
    lo = np.array([spans[info.categories[d]][0] for d in states], np.int64)
    hi = np.array([spans[info.categories[d]][1] for d in states], np.int64)
    after = (parsed - visit).astype("timedelta64[D]").astype(np.int64)
    dated = ~np.isnat(parsed) & ~np.isnat(visit) & known & (flag == true)
    code = np.where(known, dx, 0)
    outside = dated & ((after < lo[code]) | (after > hi[code]))
    intervals = ", ".join(f"{c} {a}..{b}" for c, (a, b) in spans.items())
    _add(problems, "follow_up_date", f"not within the follow-up interval of the row's "
         f"diagnosis category after visit_date (days: {intervals})", outside, cells, bad)
    return parsed


def _add(problems: dict[str, list[Problem]], column: str, what: str, mask: np.ndarray,
         values: pd.Series, bad: np.ndarray | None) -> None:
    """Report the rows of ``mask`` under ``column``, except rows already reported there
    (a list in an age cell is not also "not a whole number")."""
    if problems[column]:
        mask = mask.copy()
        for earlier in problems[column]:
            mask[earlier.rows] = False
    if not mask.any():
        return
    rows = np.flatnonzero(mask)
    shown = values.iloc[rows[:_SHOWN_ROWS]].tolist()
    problems[column].append(Problem(column, what, rows, shown))
    if bad is not None:
        bad |= mask


def _show(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "(empty)"
    if value is pd.NaT:
        return "(empty)"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return _cut(repr(value) if isinstance(value, str) else str(value))


def _cut(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS - 3] + "..."


def _plain(column: pd.Series, name: str, problems: dict[str, list[Problem]],
           bad: np.ndarray) -> pd.Series:
    """``column`` with cells that are not plain values (a list, dict or struct from a
    Parquet or JSON Lines file, an array in a DataFrame cell) or text that is not valid
    Unicode reported and made missing.

    Linear, and in C for the usual columns: only an object column that pandas cannot
    classify as plain values is looked at cell by cell.
    """
    dtype = column.dtype
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        if not pa.types.is_nested(dtype.pyarrow_dtype):
            return column
        mask = column.notna().to_numpy(bool)
    elif not pd.api.types.is_object_dtype(dtype):
        return column
    elif (text := bad_text(column)).any():  # read as missing: no check could encode it
        _add(problems, name, "not valid Unicode text (a lone surrogate)", text, column, bad)
        return _plain(column.where(~text, None), name, problems, bad)
    elif pd.api.types.infer_dtype(column, skipna=True) in _PLAIN_KINDS:
        return column
    else:
        mask = np.fromiter((not pd.api.types.is_scalar(v) for v in column), bool, len(column))
    if not mask.any():
        return column
    _add(problems, name, "not a plain value (a list, a dict or a struct)", mask, column, bad)
    return column.astype(object).where(~mask, None)


def _ages(column: pd.Series, problems: dict[str, list[Problem]],
          bad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whole years as int64, and which rows parsed; unparseable rows reported."""
    if column.dtype.kind in "iu" and isinstance(column.dtype, np.dtype):  # not Int64 with NA
        return column.to_numpy(np.int64), np.ones(len(column), bool)
    numbers = pd.to_numeric(column, errors="coerce")
    values = numbers.to_numpy(np.float64, na_value=np.nan)
    ok = np.isfinite(values) & (values == np.round(values)) & ~booleans(column)
    _add(problems, "age", "not a whole number of years", ~ok, column, bad)
    # 1e30 is a whole number, but no int64: clipped, it is still outside every band
    return np.where(ok, np.clip(values, -1, 2**31), -1).astype(np.int64), ok


def _dates(column: pd.Series, problems: dict[str, list[Problem]], bad: np.ndarray) -> np.ndarray:
    """Days as datetime64[D] (NaT where not a date: :func:`clinicsim._cells.days`; those
    rows reported)."""
    parsed = days(column)
    _add(problems, "visit_date", "not a date (YYYY-MM-DD)", np.isnat(parsed), column, bad)
    return parsed


def _categorical(column: pd.Series, node: str, states: list[str],
                 problems: dict[str, list[Problem]], bad: np.ndarray) -> np.ndarray:
    """State codes of a column (-1 where missing or unknown; those rows reported)."""
    cat = column.array if isinstance(column.dtype, pd.CategoricalDtype) else pd.Categorical(column)
    index = {s: i for i, s in enumerate(states)}
    boolean = set(states) == {"True", "False"}
    names = [str(c) for c in cat.categories]
    if boolean:  # records hold a bool column; CSV/JSON spell it in several ways
        names = [_BOOL_SPELLINGS.get(s.lower(), s) for s in names]
    lookup = np.array([index.get(s, -1) for s in names] + [-1], np.int64)
    codes = lookup[np.asarray(cat.codes)]  # code -1 (missing) picks the appended -1
    missing = np.asarray(cat.codes) < 0
    _add(problems, node, "missing", missing, column, bad)
    _add(problems, node, f"not a state of the model's {node!r} node", (codes < 0) & ~missing,
         column, bad)
    return codes

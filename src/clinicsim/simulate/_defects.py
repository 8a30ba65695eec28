"""Controlled defects in a records table, with a log of every changed cell.

A *spec* is a list of defects, each ``{kind, rate, ...}`` (a YAML file with
``schema_version: 1`` and ``defects:``, or the same data as a mapping). Each defect picks
every eligible row independently with probability ``rate`` (so the expected number of
changed rows is exactly ``rate`` times the eligible rows), from its own child of the
seed's :class:`numpy.random.SeedSequence`: same seed, same spec, same records ⇒ the same
damaged table and log. Defects apply in the order given; duplicates are appended at the
end. The input is never modified.
"""

from __future__ import annotations

import datetime
import os
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import ArgumentError
from .._random import SeedLike, as_seed_sequence
from .._validate import shown

if TYPE_CHECKING:
    from ..model import ClinicModel

__all__ = ["KINDS", "Defects", "inject_defects", "read_spec"]

# kind -> (the columns it may apply to, None: any; the fields it takes beyond kind/rate)
KINDS: dict[str, tuple[tuple[str, ...] | None, tuple[str, ...]]] = {
    "missing": (None, ("column", "given", "values")),
    "typo": (None, ("column",)),
    "duplicate": ((), ()),
    "near_duplicate": ((), ("column",)),
    "swapped_date": (("visit_date",), ("column",)),
    "outside_window": (("visit_date",), ("column",)),
    "impossible_age": (("age",), ()),
    "wrong_code": (("diagnosis_code",), ()),
    "label_noise": (("follow_up",), ()),
    "carried_forward": (None, ("column",)),
}
_DEFAULT_COLUMN = {"swapped_date": "visit_date", "outside_window": "visit_date",
                   "impossible_age": "age", "wrong_code": "diagnosis_code",
                   "label_noise": "follow_up", "near_duplicate": "diagnosis"}
_KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
_LOG_COLUMNS = ["row", "column", "original", "new", "kind"]


def _neighbours() -> dict[str, str]:
    near: dict[str, str] = {}
    for r, line in enumerate(_KEYBOARD):
        for i, ch in enumerate(line):
            keys = {line[j] for j in (i - 1, i + 1) if 0 <= j < len(line)}
            for other in (r - 1, r + 1):
                if 0 <= other < len(_KEYBOARD):
                    keys |= {_KEYBOARD[other][j] for j in (i - 1, i)
                             if 0 <= j < len(_KEYBOARD[other])}
            near[ch] = "".join(sorted(keys))
    return near


_NEAR = _neighbours()


@dataclass(frozen=True)
class Defects:
    """What :func:`inject_defects` returns: the damaged ``records`` and the ``log``, a
    DataFrame with one row per changed cell: ``row`` (0-based position in ``records``),
    ``column``, ``original`` and ``new`` (as text; empty for a missing value), ``kind``.
    A duplicated row is logged once with column ``*`` and ``original`` the source row."""

    records: pd.DataFrame
    log: pd.DataFrame

    def counts(self) -> pd.Series:
        """Changed cells per kind (duplicated rows count once)."""
        return self.log.groupby("kind", sort=True).size().rename("cells")


def read_spec(spec: Any) -> list[dict[str, Any]]:
    """``spec`` (a path to a YAML/JSON file, a mapping with ``defects:``, or a list of
    defects) as a list of checked defects; every problem named in one :class:`ArgumentError`.
    Columns are checked against the records by :func:`inject_defects`."""
    where = "defects spec"
    if isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        where = f"defects spec {path}"
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ArgumentError(f"{where}: cannot read it ({exc})") from None
        from ..model._yaml import load_yaml

        try:
            spec = load_yaml(text, where)
        except Exception as exc:  # a ModelError naming the line: the spec's own error here
            raise ArgumentError(str(exc)) from None
    if isinstance(spec, Mapping):
        unknown = sorted(set(map(str, spec)) - {"schema_version", "defects"})
        if unknown or spec.get("schema_version", 1) != 1:
            raise ArgumentError(f"{where}: keys are schema_version (1) and defects; got "
                                f"{shown(dict(spec))}")
        spec = spec.get("defects")
    if not isinstance(spec, list) or not spec:
        raise ArgumentError(f"{where}: `defects` must be a non-empty list; got {shown(spec)}")
    errors: list[str] = []
    checked = []
    for i, item in enumerate(spec):
        at = f"{where}: defects[{i}]"
        if not isinstance(item, Mapping):
            errors.append(f"{at} must be a mapping with kind and rate; got {shown(item)}")
            continue
        kind = item.get("kind")
        if kind not in KINDS:
            errors.append(f"{at}: unknown kind {shown(kind)}; kinds are {list(KINDS)}")
            continue
        allowed, fields = KINDS[kind]
        extra = sorted(set(map(str, item)) - {"kind", "rate", *fields})
        if extra:
            errors.append(f"{at} ({kind}): unknown field(s) {extra}; it takes rate"
                          + "".join(f", {f}" for f in fields))
        rate = item.get("rate")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) \
                or not 0 <= rate <= 1:
            errors.append(f"{at} ({kind}): rate must be a number in [0, 1]; got {shown(rate)}")
        column = item.get("column", _DEFAULT_COLUMN.get(kind))
        if "column" in fields and column is None:
            errors.append(f"{at} ({kind}): needs a column")
        if allowed and column not in allowed:
            errors.append(f"{at} ({kind}): applies to {list(allowed)} only; got {shown(column)}")
        given, values = item.get("given"), item.get("values")
        if given is not None and (not isinstance(given, Mapping) or len(given) != 1):
            errors.append(f"{at} (missing at random): given must be one column: value(s); "
                          f"got {shown(given)}")
        if given is not None and values is not None:
            errors.append(f"{at}: give `given` (at random) or `values` (not at random), "
                          "not both")
        checked.append({"kind": kind, "rate": rate, "column": column, "given": given,
                        "values": values, "at": at})
    if errors:
        raise ArgumentError(errors)
    return checked


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _check_columns(frame: pd.DataFrame, defects: list[dict[str, Any]]) -> None:
    errors = []
    for d in defects:
        needed = [d["column"]] if d["column"] is not None else []
        if d["given"] is not None:
            needed.append(next(iter(d["given"])))
        if d["kind"] == "carried_forward":
            needed.append("patient_id")
        errors += [f"{d['at']} ({d['kind']}): records have no column {c!r}"
                   for c in needed if c not in frame.columns]
        if d["kind"] == "carried_forward" and "patient_id" in frame.columns \
                and frame["patient_id"].is_unique:
            errors.append(f"{d['at']} (carried_forward): needs histories (patient_id "
                          "repeating over visits, clinicsim.sample_patients); these records "
                          "have one visit per patient")
    if errors:
        raise ArgumentError(errors)


def _text(values: Any) -> list[str]:
    # dates as days: a numpy datetime64 prints its time too ("2024-01-11T00:00:00.000000")
    return ["" if pd.isna(v) else
            str(v)[:10] if isinstance(v, (pd.Timestamp, np.datetime64)) else str(v)
            for v in values]


def _typo(word: str, rng: np.random.Generator) -> str:
    """One keyboard-neighbour substitution, transposition of neighbours, or case change;
    never the same text."""
    for _ in range(8):
        how = int(rng.integers(3))
        if how == 0:
            spots = [i for i, c in enumerate(word) if c.lower() in _NEAR]
            if spots:
                i = spots[int(rng.integers(len(spots)))]
                keys = _NEAR[word[i].lower()]
                new = word[:i] + keys[int(rng.integers(len(keys)))] + word[i + 1:]
            else:
                continue
        elif how == 1 and len(word) > 1:
            i = int(rng.integers(len(word) - 1))
            new = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        else:
            new = word.upper() if word != word.upper() else word.lower()
        if new != word:
            return new
    return word + string.ascii_lowercase[int(rng.integers(26))]


def inject_defects(records: pd.DataFrame, spec: Any, *, model: ClinicModel | None = None,
                   seed: SeedLike = None) -> Defects:
    """Damage a copy of ``records`` as ``spec`` says, logging every changed cell.

    Parameters
    ----------
    records : pandas.DataFrame
        Records as :func:`clinicsim.sample` makes them, or as read from a file (never
        modified; a column of ``datetime.date`` objects, as Parquet dates are read, comes
        back as ``datetime64``).
    spec : path, mapping or list
        A defects file (YAML/JSON: ``schema_version: 1``, ``defects:``) or its data. Each
        defect: ``kind`` (see the table of kinds in the defects guide), ``rate`` in [0, 1],
        and ``column`` where the kind needs one; ``missing`` takes
        ``given: {column: value(s)}`` (at random: only rows where that other column has the
        value) or ``values: [...]`` (not at random: only rows whose own value is one of
        them).
    model : ClinicModel, optional
        For the visit window (``outside_window``) and diagnosis codes (``wrong_code``);
        default the default model.
    seed : int, SeedSequence, Generator or None

    Returns
    -------
    Defects
        ``.records`` (the damaged table) and ``.log`` (row, column, original, new, kind).

    Examples
    --------
    >>> import clinicsim
    >>> records = clinicsim.sample(1000, seed=1)
    >>> spec = [{"kind": "missing", "column": "gender", "rate": 0.05},
    ...         {"kind": "impossible_age", "rate": 0.01}]
    >>> damaged = clinicsim.inject_defects(records, spec, seed=2)
    >>> damaged.counts().to_dict()
    {'impossible_age': 8, 'missing': 39}
    >>> int(damaged.records["gender"].isna().sum())
    39
    """
    from ..model import as_model

    if not isinstance(records, pd.DataFrame):
        raise ArgumentError(f"`records` must be a DataFrame; got {shown(records)}")
    defects = read_spec(spec)
    _check_columns(records, defects)
    model = as_model(model)
    children = as_seed_sequence(seed).spawn(len(defects))
    frame = records.copy()
    for column in frame.columns:
        # a Parquet file's dates, read as datetime.date objects, as sample() makes them
        # (text among such dates could not be written to Parquet again); the first value
        # first, since a text column is not scanned whole for nothing
        values = frame[column]
        first = values.first_valid_index() if values.dtype == object else None
        if first is not None and type(values.loc[first]) is datetime.date \
                and pd.api.types.infer_dtype(values, skipna=True) == "date":
            frame[column] = pd.to_datetime(values).astype("datetime64[s]")
    logs: list[pd.DataFrame] = []
    for d, child in zip(defects, children, strict=True):
        frame, entries = _apply(frame, d, np.random.default_rng(child), model)
        logs.append(entries)
    log = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame(columns=_LOG_COLUMNS)
    log = log.astype({"row": np.int64})
    return Defects(frame.reset_index(drop=True), log)


def _entries(rows: np.ndarray, column: str, old: Any, new: Any, kind: str) -> pd.DataFrame:
    return pd.DataFrame({"row": np.asarray(rows, np.int64), "column": column,
                         "original": _text(old), "new": _text(new), "kind": kind})


def _set(frame: pd.DataFrame, column: str, rows: np.ndarray, values: Any) -> None:
    # The column keeps its type where the new values fit it (an impossible age stays an
    # integer, a missing one makes the column nullable); text and categories become
    # objects, since a typo is outside the categories.
    series = frame[column]
    values = list(values)
    gaps = any(v is None for v in values)
    textual = isinstance(series.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(series.dtype) or series.dtype.kind == "M")
    if not textual and any(isinstance(v, str) for v in values):
        # a typo in a number, a flag or a date: the column becomes text, as it is when
        # read from a CSV file (dates as days)
        series = pd.Series(_text(series), index=series.index, dtype=object) \
            .where(series.notna().to_numpy(), None)
    elif textual:
        series = series.astype(object)
        # a text column (a records file read as text) takes text: an age of "-3", a date
        values = [None if v is None or pd.isna(v) else
                  str(v)[:10] if isinstance(v, (np.datetime64, pd.Timestamp)) else
                  v if isinstance(v, str) else str(v) for v in values]
    elif series.dtype.kind == "M":
        series = series.copy()
        values = [pd.NaT if v is None else v for v in values]
    elif series.dtype.kind in "iu" and gaps:
        series = series.astype("Int64")
    elif series.dtype == bool and gaps:
        series = series.astype("boolean")
    else:
        series = series.copy()
    series.iloc[rows] = values
    frame[column] = series


def _previous_rows(patient_id: pd.Series) -> np.ndarray:
    """Each row's previous row of the same patient in row order; -1 for a first visit
    (or a missing id)."""
    codes, _ = pd.factorize(patient_id)
    order = np.argsort(codes, kind="stable")
    same = np.r_[False, codes[order][1:] == codes[order][:-1]] & (codes[order] >= 0)
    previous = np.full(len(codes), -1, np.int64)
    previous[order[same]] = order[np.flatnonzero(same) - 1]
    return previous


def _apply(frame: pd.DataFrame, d: dict[str, Any], rng: np.random.Generator,
           model: ClinicModel) -> tuple[pd.DataFrame, pd.DataFrame]:
    kind, column, rate = d["kind"], d["column"], float(d["rate"])
    n = len(frame)
    pick = rng.random(n) < rate
    if kind in ("duplicate", "near_duplicate"):
        rows = np.flatnonzero(pick)
        copies = frame.iloc[rows].copy()
        new_rows = np.arange(n, n + len(rows))
        entries = [_entries(new_rows, "*", rows, [""] * len(rows), kind)]
        if kind == "near_duplicate" and len(rows):
            ids = [f"D{n + i:07d}" for i in range(len(rows))]
            entries.append(_entries(new_rows, "patient_id", copies["patient_id"], ids, kind))
            copies["patient_id"] = ids
            old = copies[column].astype(object).to_numpy()
            typos = [_typo(str(v), rng) if not pd.isna(v) else v for v in old]
            copies[column] = typos
            entries.append(_entries(new_rows, column, old, typos, kind))
        merged = pd.concat([frame.astype({c: object for c in frame.columns
                                          if isinstance(frame[c].dtype, pd.CategoricalDtype)})
                            if kind == "near_duplicate" else frame, copies],
                           ignore_index=True)
        return merged, pd.concat(entries, ignore_index=True)
    cells = frame[column]
    present = cells.notna().to_numpy(bool)
    eligible = present.copy()
    if kind == "missing" and d["given"] is not None:
        other, wanted = next(iter(d["given"].items()))
        eligible &= frame[other].astype(str).isin(_as_list(wanted)).to_numpy(bool)
    if kind == "missing" and d["values"] is not None:
        eligible &= cells.astype(str).isin(_as_list(d["values"])).to_numpy(bool)
    if kind == "swapped_date":
        dates = pd.to_datetime(cells, errors="coerce")
        eligible &= ((dates.dt.day <= 12) & (dates.dt.day != dates.dt.month)).to_numpy(bool)
    if kind == "carried_forward":
        # the previous visit's value as it is before this defect (two carried visits in a
        # row each take their own previous visit's value), so the eligible rows are known
        # before any is picked and the rate is exact
        previous = _previous_rows(frame["patient_id"])
        text = cells.astype(str).to_numpy()
        has = previous >= 0
        eligible &= has & present[previous] & (text[previous] != text)
    rows = np.flatnonzero(pick & eligible)
    old = cells.iloc[rows].to_numpy(object)
    if kind == "missing":
        new: Any = [None] * len(rows)
    elif kind == "typo":
        new = [_typo(word, rng) for word in _text(old)]  # a date's typo is in its day
    elif kind == "swapped_date":
        dates = pd.to_datetime(cells.iloc[rows])
        new = pd.to_datetime({"year": dates.dt.year, "month": dates.dt.day,
                              "day": dates.dt.month}).to_numpy()
    elif kind == "outside_window":
        window = model.visit_window
        k = rng.integers(1, 366, len(rows))
        after = rng.random(len(rows)) < 0.5
        new = np.where(after, np.datetime64(window.end, "D") + k,
                       np.datetime64(window.start, "D") - k).astype("datetime64[ns]")
    elif kind == "impossible_age":
        new = np.where(rng.random(len(rows)) < 0.5, -rng.integers(1, 10, len(rows)),
                       rng.integers(130, 200, len(rows)))
    elif kind == "wrong_code":
        codes = sorted(set(model.diagnosis_codes.values()))
        shift = rng.integers(1, len(codes), len(rows))
        at = np.array([codes.index(str(v)) if str(v) in codes else 0 for v in old])
        new = [codes[i] for i in (at + shift) % len(codes)]
    elif kind == "label_noise":
        new = [not (str(v) == "True") for v in old]
    else:  # carried_forward: the values themselves, so an integer column stays integer
        new = cells.iloc[previous[rows]].to_numpy(object)
    if len(rows):
        _set(frame, column, rows, new)
    return frame, _entries(rows, column, old, new, kind)

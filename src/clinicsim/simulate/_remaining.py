"""Filling in the columns a user lacks, from the exact posterior given the ones they have."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._cells import days
from .._errors import ArgumentError, ModelError
from .._random import SeedLike, as_seed_sequence
from .._reference import MONTHS
from .._text import bad_text, not_unicode
from .._validate import shown
from ..model import (
    MAX_PATTERNS,
    MONTH_NODE,
    REQUIRED_NODES,
    ClinicModel,
    Factor,
    adjusted_tables,
    as_model,
    factors,
)
from ._sample import COLUMNS, _Compiled, _compiled, _patient_ids, _Table, extra_nodes

__all__ = ["KNOWN_COLUMNS", "sample_remaining"]

KNOWN_COLUMNS = ("patient_id", "gender", "age", "age_group", "diagnosis", "treatment",
                 "follow_up", "visit_date")
_SHOWN = 10  # impossible rows listed in the error; the rest are counted


def sample_remaining(known: pd.DataFrame, model: ClinicModel | None = None,
                     seed: SeedLike = None) -> pd.DataFrame:
    """Complete ``known`` into records: each row keeps its values, the rest is drawn.

    Parameters
    ----------
    known : pandas.DataFrame
        Any subset of the columns ``gender``, ``age`` (or ``age_group``), ``diagnosis``,
        ``treatment``, ``follow_up``, ``visit_date``, the model's further nodes
        (:func:`~clinicsim.simulate.extra_nodes`), plus ``patient_id`` (kept when given;
        else ``P0000001``, ...).
    model : ClinicModel, optional
        The default model if None.
    seed : int, SeedSequence, Generator or None
        Same seed, model and ``known`` give an identical DataFrame.

    Returns
    -------
    pandas.DataFrame
        The record columns of :func:`clinicsim.sample`, one row per row of ``known`` in
        its order (index ``0..n-1``). The columns a row lacks follow the exact posterior
        P(columns | that row's values): a known age conditions its band, a known visit
        date its month; an age band without an age gets an age drawn in the band.

    Raises
    ------
    ArgumentError
        ``known`` is not a DataFrame, has no rows, has other columns or a column twice, or
        a value is not a state of the model (every such value named, with its row; row 1
        is the first). A frame of rows and no columns gets every column drawn.
    ModelError
        Rows whose values have probability 0 under the model, all in one error.

    Examples
    --------
    >>> import pandas as pd
    >>> import clinicsim
    >>> known = pd.DataFrame({"age": [70, 8], "gender": ["female", "male"]})
    >>> records = clinicsim.sample_remaining(known, seed=1)
    >>> records.age.tolist(), records.gender.astype(str).tolist()
    ([70, 8], ['female', 'male'])
    >>> list(records.columns) == list(clinicsim.sample(1, seed=1).columns)
    True
    """
    if not isinstance(known, pd.DataFrame):
        raise ArgumentError(f"`known` must be a pandas DataFrame; got {type(known).__name__}")
    m = as_model(model)
    allowed = (*KNOWN_COLUMNS, *extra_nodes(m))
    other = [c for c in known.columns if c not in allowed]
    if other:
        raise ArgumentError(f"`known` must hold only the columns {list(allowed)}; "
                            f"got also {shown(other)}")
    twice = list(dict.fromkeys(known.columns[known.columns.duplicated()]))
    if twice:
        raise ArgumentError(f"`known` has the column(s) {twice} more than once; give each "
                            "column once")
    if len(known) == 0:  # rows without columns are records of which nothing is known
        raise ArgumentError("`known` has no rows")
    text = _text_errors(known)
    if text:  # first: nothing below could encode it
        raise ArgumentError(text[:_SHOWN] + ([f"... and {len(text) - _SHOWN} more"]
                                             if len(text) > _SHOWN else []))
    net = factors(m)
    n = len(known)
    codes, kept, errors = _evidence_codes(m, known.reset_index(drop=True))
    if errors:
        raise ArgumentError(errors[:_SHOWN] + ([f"... and {len(errors) - _SHOWN} more"]
                                                if len(errors) > _SHOWN else []))
    c = _compiled(m)
    given = list(codes)
    rng = np.random.default_rng(as_seed_sequence(seed))
    u = rng.random((len(net.nodes) + 2, n))
    drawn = [np.empty(n, np.int64) for _ in net.nodes]
    if given:
        patterns, group = np.unique(np.stack([codes[g] for g in given], axis=1), axis=0,
                                    return_inverse=True)
        group = group.reshape(-1)
    else:
        patterns, group = np.zeros((1, 0), np.int64), np.zeros(n, np.int64)
    if len(patterns) > MAX_PATTERNS:
        raise ArgumentError(
            f"`known` has {len(patterns):,} distinct patterns of known values (columns "
            f"{', '.join(given)}), each needing its own exact posterior; the limit is "
            f"MAX_PATTERNS = {MAX_PATTERNS:,}: give it in parts, or fewer columns")
    impossible = []
    for k, pattern in enumerate(patterns):
        rows = np.flatnonzero(group == k)
        likelihoods = {}
        for node, state in zip(given, pattern, strict=True):
            likelihoods[node] = np.zeros(len(net.states[node]))
            likelihoods[node][state] = 1.0
        tables, p = adjusted_tables(net, likelihoods)
        if p is None:
            impossible.append(rows)
            continue
        local: list[np.ndarray] = []
        for j, node in enumerate(net.nodes):
            t = tables[node]
            if t is net.cpds[node]:
                local.append(c.tables[j].draw(local, u[j, rows]))
            else:
                local.append(_draw_adjusted(net.nodes, t, local, u[j, rows]))
            drawn[j][rows] = local[-1]
    if impossible:
        rows = np.sort(np.concatenate(impossible))
        listed = [f"row {r + 1}: " + ", ".join(f"{col}={_plain(known[col].iloc[r])!r}"
                                               for col in kept)
                  for r in rows[:_SHOWN]]
        more = [f"... and {len(rows) - _SHOWN} more"] if len(rows) > _SHOWN else []
        head = (f"{len(rows)} row(s) of `known` have probability 0 under the model "
                "(no record can have these values together)")
        raise ModelError([head, *listed, *more])
    drawn_by_node = dict(zip(net.nodes, drawn, strict=True))
    return _frame(m, c, known.reset_index(drop=True), drawn_by_node, u[-2:])


def _draw_adjusted(nodes: tuple[str, ...], t: Factor, codes: list[np.ndarray],
                   u: np.ndarray) -> np.ndarray:
    """States of ``t.variables[0]`` for uniforms ``u``, from an evidence-adjusted table.

    A pattern's rows use few of the table's columns: compiling a guide table for them all
    (what sampling does once per model) cost ~1.5 ms a node and pattern, so a few rows
    read their own columns instead, with the answers of ``searchsorted`` on the same CDF.
    """
    parents = t.variables[1:]
    values = t.values.reshape(t.values.shape[0], -1)
    if len(u) >= values.shape[1]:  # many rows: compiling the table is the cheaper
        return _Table(t.variables[0], tuple(nodes.index(q) for q in parents),
                      t.values.shape[1:], values).draw(codes, u)
    column = (np.ravel_multi_index([codes[nodes.index(q)] for q in parents], t.values.shape[1:])
              if parents else np.zeros(len(u), np.intp))
    cell = values[:, column]  # (states, rows)
    cdf = np.cumsum(cell, axis=0)
    # as _Table: from the last possible state on the CDF is exactly 1
    last = len(cell) - 1 - np.argmax(cell[::-1] > 0, axis=0)
    cdf[np.arange(len(cell))[:, None] >= last] = 1.0
    return (cdf <= u).sum(axis=0).astype(np.int32)


def _ages(column: pd.Series) -> np.ndarray:
    """A column of ages as floats, NaN where a value is no number of years: True and False
    are not 1 and 0 years old, and an int beyond float range is no age."""
    if column.dtype == bool or column.dtype == "boolean":
        return np.full(len(column), np.nan)
    if column.dtype != object:
        return pd.to_numeric(column, errors="coerce").to_numpy(float, copy=True)
    return np.array([_age(v) for v in column], float)


def _age(value: object) -> float:
    if isinstance(value, (bool, np.bool_)):
        return np.nan
    try:
        return float(value)  # type: ignore[arg-type]  # "30", Decimal, Fraction, numpy
    except (TypeError, ValueError, OverflowError, ArithmeticError):
        return np.nan


def _missing(value: object) -> bool:
    """Whether a cell is missing (None, NaN, NA, NaT); a list in a cell is a value."""
    answer = pd.isna(value)  # type: ignore[call-overload]
    return isinstance(answer, (bool, np.bool_)) and bool(answer)


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds (``5``, not ``np.int64(5)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _text_errors(known: pd.DataFrame) -> list[str]:
    """Every cell of ``known`` that is text but not valid Unicode, with its column and row."""
    return [f"`known` column {c!r} row {r + 1}: {shown(known[c].iloc[r])} is not valid "
            f"Unicode text ({not_unicode(known[c].iloc[r])})"
            for c in known.columns for r in np.flatnonzero(bad_text(known[c]))]


def _evidence_codes(m: ClinicModel, known: pd.DataFrame
                    ) -> tuple[dict[str, np.ndarray], list[str], list[str]]:
    """Each known node's state codes per row, the columns kept, and every bad value."""
    codes: dict[str, np.ndarray] = {}
    errors: list[str] = []

    def states_of(column: str, node: str, values: pd.Series) -> None:
        states = m.states(node)
        # object, not pyarrow: it refuses text that is not Unicode ('\ud800') with a traceback
        text = pd.Index(["" if _missing(v) else str(v) for v in values], dtype=object)
        code = pd.Index(states, dtype=object).get_indexer(text).astype(np.int64)
        for r in np.flatnonzero(code < 0)[:_SHOWN]:
            errors.append(f"`known` column {column!r} row {r + 1}: {_plain(values.iloc[r])!r} "
                          f"is not a state of {node!r} {states}")
        clash = node in codes and ((codes[node] != code) & (codes[node] >= 0) & (code >= 0))
        if clash is not False and clash.any():
            r = int(np.flatnonzero(clash)[0])
            errors.append(f"`known` row {r + 1}: age {_plain(known['age'].iloc[r])!r} is not "
                          f"in age_group {_plain(values.iloc[r])!r}")
        codes[node] = code

    if "age" in known:
        bands = m.age_bands
        states = m.states("age_group")
        age = _ages(known["age"])
        band = np.full(len(known), -1, np.int64)
        for b, state in enumerate(states):
            lo, hi = bands[state]
            band[(age >= lo) & (age <= hi) & (age == np.floor(age))] = b
        for r in np.flatnonzero(band < 0)[:_SHOWN]:
            errors.append(f"`known` column 'age' row {r + 1}: {_plain(known['age'].iloc[r])!r} "
                          "is not a whole number of years inside an age band")
        codes["age_group"] = band
    for node in (*REQUIRED_NODES, *extra_nodes(m)):
        if node in known:
            states_of(node, node, known[node])
    if "visit_date" in known:
        dates = days(known["visit_date"])  # NaT where not a date; never "today"
        window = m.visit_window
        inside = ((dates >= np.datetime64(window.start, "D"))
                  & (dates <= np.datetime64(window.end, "D")))
        for r in np.flatnonzero(~inside)[:_SHOWN]:
            errors.append(f"`known` column 'visit_date' row {r + 1}: "
                          f"{_plain(known['visit_date'].iloc[r])!r} is not a date in the visit "
                          f"window {window.start}..{window.end}")
        if MONTH_NODE in m.nodes:  # the model validates its states: the twelve MONTHS
            to_code = np.array([m.states(MONTH_NODE).index(month) for month in MONTHS])
            month = np.where(inside, dates.astype("datetime64[M]").astype(np.int64) % 12, 0)
            codes[MONTH_NODE] = np.where(inside, to_code[month], -1)
    kept = [col for col in known.columns if col != "patient_id"]
    return codes, kept, errors


def _frame(m: ClinicModel, c: _Compiled, known: pd.DataFrame, codes: dict[str, np.ndarray],
           u: np.ndarray) -> pd.DataFrame:
    """The records frame: drawn node codes, known columns kept as given."""
    n = len(known)
    band = codes["age_group"]
    if "age" in known:
        age = _ages(known["age"]).astype(np.int64)  # every age was checked
    else:
        age = c.age_lo[band] + (u[0] * c.age_span[band]).astype(np.int64)
    if "visit_date" in known:
        visit = days(known["visit_date"]).astype("datetime64[s]")
    else:
        visit = c.dates.visit(codes.get(MONTH_NODE), u[1]).astype("datetime64[s]")
    ids = (known["patient_id"].astype("string[pyarrow]").array if "patient_id" in known
           else _patient_ids(0, n))
    columns = {
        "patient_id": ids,
        "visit_date": visit,
        "age": age,
        **{node: pd.Categorical.from_codes(codes[node], dtype=c.dtypes[node])
           for node in ("gender", "diagnosis", "treatment", *c.extra)},
        "follow_up": c.follow_up_true[codes["follow_up"]],
    }
    return pd.DataFrame({k: columns[k] for k in (*COLUMNS, *c.extra)})

"""Property: a records table with injected faults gets a report (or a RecordsError) that names
every fault — column, row and value — and never an unhandled exception."""

import string
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clinicsim
from clinicsim.analysis._records import REQUIRED_COLUMNS

MODEL = clinicsim.default_model()
BASE = clinicsim.sample(400, model=MODEL, seed=2024)
CATEGORIES = ("gender", "diagnosis", "treatment", "follow_up")
BOOL_SPELLINGS = {"true", "t", "1", "yes", "false", "f", "0", "no"}

# Text a CSV or JSON file keeps as it is: no quote that repr() would escape, no blank value.
word = st.text(string.ascii_letters + string.digits + " _-,\"", min_size=1, max_size=12).filter(
    lambda s: s.strip() == s and s != "")


@st.composite
def bad_category(draw):
    column = draw(st.sampled_from(CATEGORIES))
    value = draw(word.filter(lambda s: s not in MODEL.states(column)
                             and not (column == "follow_up" and s.lower() in BOOL_SPELLINGS)))
    return column, value, "not a state of the model"


bad_age = st.one_of(
    st.integers(-10**6, -1).map(lambda a: ("age", a, "outside the age bands")),
    st.integers(90, 10**6).map(lambda a: ("age", a, "outside the age bands")),
    st.sampled_from(["old", "4o", "41.5", "-", "forty"]).map(
        lambda a: ("age", a, "not a whole number of years")),
)
bad_date = st.one_of(
    st.sampled_from(["someday", "2024-02-30", "31/12/2024", "2024-13-01"]).map(
        lambda d: ("visit_date", d, "not a date")),
    st.dates().filter(lambda d: d.year != 2024).map(
        lambda d: ("visit_date", d.isoformat(), "outside the visit window")),
)
missing = st.sampled_from(REQUIRED_COLUMNS).map(lambda c: (c, None, ""))
value_fault = st.one_of(bad_category(), bad_age, bad_date, missing)


def write(frame: pd.DataFrame, form: str, folder: Path):
    """The table as a frame, or as a file written the way another tool would."""
    if form == "frame":
        return frame
    path = folder / f"r.{form}"
    if form == "csv":
        frame.to_csv(path, index=False)
    else:  # JSON has no dates: as text, like CSV
        text = frame.map(lambda v: v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp) else v)
        text.to_json(path, orient="records", lines=True)
    return path


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(50, len(BASE)),
    faults=st.lists(value_fault, min_size=1, max_size=3),
    duplicate=st.booleans(),
    drop=st.one_of(st.none(), st.sampled_from(REQUIRED_COLUMNS)),
    form=st.sampled_from(["frame", "csv", "jsonl"]),
    data=st.data(),
)
def test_injected_faults_are_named(n, faults, duplicate, drop, form, data):
    frame = BASE.iloc[:n].astype(object)
    rows = data.draw(st.lists(st.integers(0, n - 1), min_size=len(faults) + 1,
                              max_size=len(faults) + 1, unique=True), label="rows")
    expected = []  # (column, row, shown value, what)
    for (column, value, what), row in zip(faults, rows[:-1], strict=True):  # the last: spare
        frame.loc[row, column] = value
        expected.append((column, row, "(empty)" if value is None else str(value), what))
    if duplicate:  # the spare row takes the id of another row whose id is left alone
        spare = rows[-1]
        faulty_ids = {row for (c, *_), row in zip(faults, rows[:-1], strict=True)
                      if c == "patient_id"}
        source = data.draw(st.sampled_from([r for r in range(n)
                                            if r != spare and r not in faulty_ids]),
                           label="source")
        frame.loc[spare, "patient_id"] = frame.loc[source, "patient_id"]
        expected.append(("patient_id", max(spare, source), frame.loc[spare, "patient_id"],
                         "repeating an earlier id"))
    if drop is not None:
        frame = frame.drop(columns=drop)

    with tempfile.TemporaryDirectory() as folder:
        records = write(frame, form, Path(folder))
        if drop is not None:
            with pytest.raises(clinicsim.RecordsError, match=f"missing column.*'{drop}'"):
                clinicsim.conformance_report(records, MODEL)
            return
        report = clinicsim.conformance_report(records, MODEL)

    failed = {c.name: c.detail for c in report.failed if c.kind == "records"}
    assert set(failed) == {f"records: {column}" for column, *_ in expected}
    for column, row, shown, what in expected:
        detail = failed[f"records: {column}"]
        assert f"row {row + 1} " in detail and shown in detail and what in detail, (
            column, row, shown, detail)
    assert not report.passed
    bad_rows = {row for column, row, _, what in expected if what != "repeating an earlier id"}
    assert report.n_used == n - len(bad_rows)
    assert np.isfinite([c.pvalue for c in report.checks if c.pvalue is not None]).all()


# -- cells that are not plain values, and values of the wrong kind (issue 15) -------------

scalar = st.one_of(st.integers(-5, 5), st.text(string.ascii_letters, max_size=3), st.booleans())
container = st.recursive(
    st.one_of(st.lists(scalar, max_size=3), st.dictionaries(st.text(string.ascii_letters,
                                                                    max_size=3), scalar,
                                                            max_size=2)),
    lambda inner: st.one_of(st.lists(inner, max_size=2),
                            st.dictionaries(st.text(string.ascii_letters, max_size=2), inner,
                                            max_size=2)),
    max_leaves=6)
not_plain = st.tuples(st.sampled_from(REQUIRED_COLUMNS), container,
                      st.just("not a plain value"))
wrong_kind = st.one_of(
    st.booleans().map(lambda b: ("age", b, "not a whole number of years")),
    st.one_of(st.booleans(), st.integers(0, 10**12), st.sampled_from([
        "today", "now", "yesterday", "tomorrow", "2024-03-01T10:00:00+05:00",
        "2024-03-01T10:00:00Z", "2024-03-01 10:00 -0800", "+2024-03-01", "20240301"]),
    ).map(lambda d: ("visit_date", d, "not a date")),
)


def shown(value) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text[:30]


@settings(max_examples=40, deadline=None)
@given(faults=st.lists(st.one_of(not_plain, wrong_kind), min_size=1, max_size=4),
       form=st.sampled_from(["frame", "jsonl"]), data=st.data())
def test_cells_that_are_not_values_are_named(faults, form, data):
    """A list, dict or true/false where a value belongs, a number or a word or a time zone
    where a date belongs: the column's check fails naming row and value, the row is left out."""
    n = 200
    frame = BASE.iloc[:n].astype(object)
    rows = data.draw(st.lists(st.integers(0, n - 1), min_size=len(faults),
                              max_size=len(faults), unique=True), label="rows")
    for (column, value, _), row in zip(faults, rows, strict=True):
        frame.at[row, column] = value
    with tempfile.TemporaryDirectory() as folder:
        report = clinicsim.conformance_report(write(frame, form, Path(folder)), MODEL)
    failed = {c.name: c.detail for c in report.failed if c.kind == "records"}
    assert set(failed) == {f"records: {column}" for column, *_ in faults}
    groups: dict = {}  # (column, what) -> [(row, value)]
    for (column, value, what), row in zip(faults, rows, strict=True):
        groups.setdefault((column, what), []).append((row, value))
    for (column, what), found in groups.items():
        detail = failed[f"records: {column}"]
        plural = "row" if len(found) == 1 else "rows"
        assert f"{len(found)} {plural} {what}" in detail, (found, detail)
        for row, value in sorted(found, key=lambda f: f[0])[:3]:  # the first three are quoted
            assert f"row {row + 1} {shown(value)}" in detail, (value, detail)
    assert report.n_used == n - len(rows)


@pytest.mark.parametrize("kind", ["list", "struct", "map"])
@pytest.mark.parametrize("column", REQUIRED_COLUMNS)
def test_a_parquet_column_of_lists_or_structs_is_named(tmp_path, kind, column):
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = BASE.iloc[:20]
    values = frame[column].astype(str).tolist()
    array = {"list": lambda: pa.array([[v] for v in values]),
             "struct": lambda: pa.array([{"v": v} for v in values]),
             "map": lambda: pa.array([[("v", v)] for v in values],
                                     pa.map_(pa.string(), pa.string()))}[kind]()
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    table = table.set_column(table.schema.get_field_index(column), column, array)
    pq.write_table(table, tmp_path / "r.parquet")
    with pytest.raises(clinicsim.RecordsError) as info:
        clinicsim.conformance_report(tmp_path / "r.parquet", MODEL)
    assert str(info.value).startswith("no usable rows")
    assert f"{column}: 20 rows not a plain value (a list, a dict or a struct) (row 1 " in str(
        info.value)
